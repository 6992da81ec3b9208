"""`s3once create-tables`: every DynamoDB table the stage needs, with TTL and indexes."""

from __future__ import annotations

import click

from s3once.aws.migration import migrate
from s3once.aws.session import aws_errors
from s3once.aws.status_reads import open_shards
from s3once.aws.tables import create_required_tables, lock_table_indexes
from s3once.context import Context, aws_options


@click.command("create-tables")
@click.option(
    "--migrate",
    "migrating",
    is_flag=True,
    help="Bring a lock table of an earlier version to the current layout: add the open-work"
    " index, key its open records, delete by-status (docs/capacity.md).",
)
@aws_options
@click.pass_obj
def create_tables(obj: Context, migrating: bool) -> None:
    """Create every DynamoDB table the stage needs (TTL and the lock table's indexes);
    existing tables are kept, and get the indexes they lack."""
    from chalicelib.aws.lock_table import STATUS_INDEX

    aws = obj.aws()
    environment = obj.environment()
    shards = open_shards(environment)
    lock_table = environment["LOCK_TABLE_NAME"]
    with aws_errors(aws):
        dynamodb = aws.client("dynamodb")
        click.echo(f"stage {obj.stage}: creating tables in {aws.target('dynamodb')}")
        created = create_required_tables(dynamodb, environment, shards)
        for name, is_new in created.items():
            click.echo(f"{name}: {'created' if is_new else 'exists'}")
        if migrating:
            done = migrate(dynamodb, lock_table, shards)
            click.echo(
                f"{lock_table}: migrated: indexes added {done.added or 'none'},"
                f" {done.reopened} open records keyed in open-work,"
                f" indexes deleted {done.deleted or 'none'}"
            )
        elif STATUS_INDEX in lock_table_indexes(dynamodb, lock_table):
            click.echo(
                f"{lock_table} still has the {STATUS_INDEX} index of an earlier version, which"
                " throttles beyond ~500 uploads/s: `s3once create-tables --migrate` deletes it"
            )
