"""`s3once create-tables`: every DynamoDB table the stage needs, with TTL and indexes."""

from __future__ import annotations

import click

from s3once.aws.session import aws_errors
from s3once.aws.tables import create_required_tables
from s3once.context import Context, aws_options


@click.command("create-tables")
@click.option(
    "--without-indexes",
    is_flag=True,
    help="No by-status and by-object indexes on the lock table (status and show then scan"
    " it; docs/operating.md compares the costs).",
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
