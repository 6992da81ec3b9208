"""`s3once show s3://bucket/key`: every record of one object, readable."""

from __future__ import annotations

import json
from typing import Any

import click

from s3once.aws.listing import parse_s3_url
from s3once.aws.lock_reads import records_of_object
from s3once.aws.session import OperatorError, aws_errors
from s3once.aws.tables import lock_table_indexes
from s3once.context import Context, aws_options, now_ms
from s3once.output import JSON_OPTION, echo_json
from s3once.records import RecordView, age


@click.command()
@click.argument("url")
@JSON_OPTION
@aws_options
@click.pass_obj
def show(obj: Context, url: str, as_json: bool) -> None:
    """Every record of one object (each processor, scope and identity), readable."""
    bucket, key = parse_s3_url(url)
    if not key:
        raise click.BadParameter("name an object: s3://bucket/key", param_hint="URL")
    from chalicelib.aws.lock_table import OBJECT_INDEX

    aws = obj.aws()
    table_name = obj.lock_table
    with aws_errors(aws, table=table_name):
        dynamodb = aws.client("dynamodb")
        if OBJECT_INDEX not in lock_table_indexes(dynamodb, table_name):
            raise OperatorError(
                f"{table_name} has no {OBJECT_INDEX} index: add it with"
                " `s3once create-tables --migrate`"
            )
        records = records_of_object(dynamodb, table_name, bucket, key)
    records.sort(key=lambda record: record.updated_at_ms, reverse=True)
    now = now_ms()
    if as_json:
        echo_json([record.to_json(now) for record in records])
        return
    if not records:
        click.echo(f"no record of s3://{bucket}/{key} in {table_name}")
        return
    for number, record in enumerate(records):
        if number:
            click.echo()
        click.echo(_record_text(record, now))


def _record_text(record: RecordView, now: int) -> str:
    fields = record.to_json(now)
    lines = [(name, fields[name]) for name in ("pk", "processor", "scope", "identity", "status")]
    lines += [("attempts", record.attempts), ("owner", record.owner)]
    if record.status == "IN_PROGRESS":
        live = "ends" if record.lease_live(now) else "ended"
        lines.append(("lease", f"{live} {fields['lease_expires_at']}"))
    lines.append(("updated", f"{fields['updated_at']} ({age(now, record.updated_at_ms)} ago)"))
    for name in ("last_error", "result"):
        if fields[name] is not None:
            lines.append((name, fields[name]))
    return "\n".join(f"{name.ljust(9)} {_value(value)}" for name, value in lines)


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)
