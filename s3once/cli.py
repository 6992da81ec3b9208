"""The `s3once` command: its global options and its commands, one module each in
`s3once.commands`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from s3once.aws.session import AwsOptions, aws_errors
from s3once.commands.backfill import backfill
from s3once.commands.create_tables import create_tables
from s3once.commands.report import report
from s3once.commands.reprocess import reprocess
from s3once.commands.run import run
from s3once.commands.show import show
from s3once.commands.status import status
from s3once.context import AWS_OPTIONS, Context
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
@click.option(
    "--local",
    is_flag=True,
    help="Work on the embedded local AWS that `make run` keeps in .s3once/ (no AWS account).",
)
@click.option(AWS_OPTIONS[0][1], "endpoint_url", help=AWS_OPTIONS[0][2])
@click.option(AWS_OPTIONS[1][1], "profile", help=AWS_OPTIONS[1][2])
@click.option(AWS_OPTIONS[2][1], "region", help=AWS_OPTIONS[2][2])
@click.pass_context
def main(
    ctx: click.Context,
    stage: str,
    project_dir: Path,
    local: bool,
    endpoint_url: str | None,
    profile: str | None,
    region: str | None,
) -> None:
    """s3-once: process S3 uploads exactly once in effect, and operate it.

    AWS settings come from --endpoint-url, --profile and --region (before or after the
    command), else from the standard AWS variables and config files, as for the AWS CLI.
    With --local every command works on what `make run` left in .s3once/.
    """
    ctx.obj = Context(
        project_dir.resolve(), stage, AwsOptions(endpoint_url, profile, region), local
    )
    ctx.call_on_close(ctx.obj.close)
    use_project_code(ctx.obj.project_dir)


for command in (run, create_tables, report, status, show, reprocess, backfill):
    main.add_command(command)
