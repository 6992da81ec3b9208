"""The `s3once` command: run the pipeline locally, create tables, report."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import click

from s3once import local_run
from s3once.report import read_totals, to_json, to_table, write_png
from s3once.stage import StageError, stage_environment, use_project_code
from s3once.tables import create_required_tables


class Context:
    def __init__(self, project_dir: Path, stage: str) -> None:
        self.project_dir = project_dir
        self.stage = stage

    def environment(self) -> dict[str, str]:
        """The stage's variables, overridden by any already set in the shell."""
        try:
            environment = stage_environment(self.project_dir, self.stage)
        except StageError as exc:
            raise click.UsageError(str(exc)) from None
        for name in environment:
            if name in os.environ:
                environment[name] = os.environ[name]
        return environment


@click.group()
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
@click.pass_context
def main(ctx: click.Context, stage: str, project_dir: Path) -> None:
    """s3-once: process S3 uploads exactly once in effect.

    AWS endpoints come from the standard AWS_ENDPOINT_URL (and per-service variants).
    """
    ctx.obj = Context(project_dir.resolve(), stage)
    use_project_code(ctx.obj.project_dir)


@main.command()
@click.option(
    "--files",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of files to upload (default: the processor's samples).",
)
@click.option(
    "--processor",
    type=local_run.RegisteredProcessor(),
    help="Processor to run instead of the stage's PROCESSOR (those the registry holds).",
)
@click.pass_obj
def run(obj: Context, files: Path | None, processor: str | None) -> None:
    """Upload files, deliver their S3 events twice through the handler, change one, show outcomes.

    Without AWS_ENDPOINT_URL this runs on an embedded moto server: no AWS account needed.
    """
    environment = obj.environment()
    if processor:
        environment["PROCESSOR"] = processor
    local_run.run(obj.project_dir, obj.stage, environment, files)


@main.command("create-tables")
@click.pass_obj
def create_tables(obj: Context) -> None:
    """Create every DynamoDB table the stage needs (TTL enabled); existing ones are left alone."""
    created = create_required_tables(boto3.client("dynamodb"), obj.environment())
    for name, is_new in created.items():
        click.echo(f"{name}: {'created' if is_new else 'exists'}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the totals as JSON, for scripts.")
@click.option(
    "--png",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also draw requests and errors per hour into this PNG file.",
)
@click.pass_obj
def report(obj: Context, as_json: bool, png: Path | None) -> None:
    """Access-log totals per UTC hour from the aggregates table.

    Without AWS_ENDPOINT_URL this reads the tables the last `s3once run` kept in .s3once/.
    """
    environment = obj.environment()
    table_name = environment.get("AGGREGATES_TABLE_NAME")
    if not table_name:
        raise click.UsageError(f"AGGREGATES_TABLE_NAME is not set for stage {obj.stage!r}")
    with local_run.local_aws(obj.project_dir, obj.stage) as aws:
        dynamodb = boto3.client("dynamodb")
        aws.prepare_tables(dynamodb, environment, create=False)
        hours = read_totals(dynamodb, table_name)
    if as_json:
        click.echo(to_json(hours))
    else:
        click.echo(to_table(hours) if hours else "no access-log totals yet")
    if png is not None:
        write_png(hours, png)
        if not as_json:
            click.echo(f"chart written to {png}")
