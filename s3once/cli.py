"""The `s3once` command: run the pipeline locally, create tables, report, and operate a stage
(status, show, reprocess, backfill in `s3once.commands.operate`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from s3once.aws.session import Aws, AwsOptions, aws_errors
from s3once.aws.tables import create_required_tables
from s3once.commands.operate import backfill, reprocess, show, status
from s3once.commands.report import read_totals, to_json, to_table, write_png
from s3once.context import AWS_OPTIONS, Context, ProcessorName, aws_options
from s3once.local import runner as local_run
from s3once.stage import use_project_code


class Tool(click.Group):
    """Errors an operator can fix (no region, no credentials, access denied, a missing table)
    are one line and exit status 1, whichever command meets them."""

    def invoke(self, ctx: click.Context) -> Any:
        with aws_errors():
            return super().invoke(ctx)


@click.group(cls=Tool)
@click.version_option(package_name="s3once", message="%(prog)s %(version)s")
@click.option(
    "--stage",
    default="dev",
    show_default=True,
    help="Stage in .chalice/config.json whose bucket, tables and settings to use.",
)
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The Chalice project directory.",
)
@click.option(AWS_OPTIONS[0][1], "endpoint_url", help=AWS_OPTIONS[0][2])
@click.option(AWS_OPTIONS[1][1], "profile", help=AWS_OPTIONS[1][2])
@click.option(AWS_OPTIONS[2][1], "region", help=AWS_OPTIONS[2][2])
@click.pass_context
def main(
    ctx: click.Context,
    stage: str,
    project_dir: Path,
    endpoint_url: str | None,
    profile: str | None,
    region: str | None,
) -> None:
    """s3-once: process S3 uploads exactly once in effect, and operate it.

    AWS settings come from --endpoint-url, --profile and --region (before or after the
    command), else from the standard AWS variables and config files, as for the AWS CLI.
    """
    ctx.obj = Context(project_dir.resolve(), stage, AwsOptions(endpoint_url, profile, region))
    use_project_code(ctx.obj.project_dir)


@main.command()
@click.option(
    "--files",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of files to upload (default: the processor's samples).",
)
@click.option(
    "--processor", type=ProcessorName(), help="Processor to run instead of the stage's PROCESSOR."
)
@aws_options
@click.pass_obj
def run(obj: Context, files: Path | None, processor: str | None) -> None:
    """Upload files, deliver their S3 events twice through the handler, change one, show outcomes.

    Without an endpoint (--endpoint-url or AWS_ENDPOINT_URL) this runs on an embedded moto
    server: no AWS account needed.
    """
    environment = obj.environment()
    if processor:
        environment["PROCESSOR"] = processor
    if obj.aws_options.endpoint_url or obj.aws_options.region or obj.aws_options.profile:
        environment.update(obj.aws().child_environment())
    local_run.run(obj.project_dir, obj.stage, environment, files)


@main.command("create-tables")
@click.option(
    "--without-indexes",
    is_flag=True,
    help="No by-status and by-object indexes on the lock table (status and show then scan"
    ' it; README "Operating it" compares the costs).',
)
@aws_options
@click.pass_obj
def create_tables(obj: Context, without_indexes: bool) -> None:
    """Create every DynamoDB table the stage needs (TTL and the lock table's indexes);
    existing tables are kept, and get the indexes they lack."""
    aws = obj.aws()
    environment = obj.environment()
    with aws_errors(aws):
        click.echo(f"stage {obj.stage}: creating tables in {aws.target('dynamodb')}")
        created = create_required_tables(
            aws.client("dynamodb"), environment, indexes=not without_indexes
        )
    for name, is_new in created.items():
        click.echo(f"{name}: {'created' if is_new else 'exists'}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the totals as JSON, for scripts.")
@click.option(
    "--png",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also draw requests and errors per hour into this PNG file.",
)
@aws_options
@click.pass_obj
def report(obj: Context, as_json: bool, png: Path | None) -> None:
    """Access-log totals per UTC hour from the aggregates table.

    Without an endpoint this reads the tables the last `s3once run` kept in .s3once/.
    """
    environment = obj.environment()
    table_name = environment.get("AGGREGATES_TABLE_NAME")
    if not table_name:
        raise click.UsageError(f"AGGREGATES_TABLE_NAME is not set for stage {obj.stage!r}")
    with local_run.local_aws(obj.project_dir, obj.stage, obj.aws_options.endpoint_url) as local:
        options = obj.aws_options
        if local.state_path is not None:  # the embedded server: its URL, whatever else is set
            options = options.merged(AwsOptions(endpoint_url=local.endpoint_url))
        aws = Aws(options)
        dynamodb = aws.client("dynamodb")
        with aws_errors(aws, table=table_name):
            local.prepare_tables(dynamodb, environment, create=False)
            hours = read_totals(dynamodb, table_name)
    if as_json:
        click.echo(to_json(hours))
    else:
        click.echo(to_table(hours) if hours else "no access-log totals yet")
    if png is not None:
        write_png(hours, png)
        if not as_json:
            click.echo(f"chart written to {png}")


for command in (status, show, reprocess, backfill):
    main.add_command(command)
