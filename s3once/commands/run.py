"""`s3once run`: upload files, deliver their S3 events through the real handler, show outcomes."""

from __future__ import annotations

from pathlib import Path

import click

from s3once.context import Context, ProcessorName, aws_options
from s3once.local import runner


@click.command()
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
    runner.run(obj.project_dir, obj.stage, environment, files)
