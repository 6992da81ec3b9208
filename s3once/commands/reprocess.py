"""`s3once reprocess s3://bucket/key`: make one object processable again, and deliver it."""

from __future__ import annotations

from typing import Any

import click

from s3once.aws.listing import head_upload, parse_s3_url, upload_pk
from s3once.aws.lock_reads import make_processable
from s3once.aws.session import Aws, OperatorError, aws_errors
from s3once.aws.status_reads import open_shards
from s3once.context import Context, ProcessorName, aws_options, now_ms
from s3once.delivery import Delivered, LambdaInvoker, LocalHandler
from s3once.output import JSON_OPTION, echo_json
from s3once.records import RecordView, iso


@click.command()
@click.argument("url")
@click.option(
    "--processor", type=ProcessorName(), help="Whose record (default: the stage's PROCESSOR)."
)
@click.option("--invoke", is_flag=True, help="Then deliver the object's S3 event.")
@click.option(
    "--via",
    type=click.Choice(["local", "lambda"]),
    default="local",
    show_default=True,
    help="With --invoke: the handler in a local process, or the deployed function (async).",
)
@click.option("--function", "function_name", help="For --via lambda (default: the stage's).")
@JSON_OPTION
@aws_options
@click.pass_obj
def reprocess(
    obj: Context,
    url: str,
    processor: str | None,
    invoke: bool,
    via: str,
    function_name: str | None,
    as_json: bool,
) -> None:
    """Make the current upload of one object processable again, and with --invoke deliver it.

    A COMPLETED record becomes FAILED by a conditional write (its fence kept); a live lease is
    never touched: the command names its holder and when it ends, and exits 1.
    """
    bucket, key = parse_s3_url(url)
    aws = obj.aws()
    table_name = obj.lock_table
    name = obj.processor(processor)
    with aws_errors(aws, table=table_name):
        upload = head_upload(aws.client("s3"), bucket, key)
        pk = upload_pk(upload, obj.scope, name)
        shards = open_shards(obj.environment())
        answer = make_processable(aws.client("dynamodb"), table_name, pk, now_ms(), shards)
    record = answer.record
    if record is not None and record.lease_live(now_ms()):
        raise OperatorError(_held(url, record))
    result: dict[str, Any] = {"pk": pk, "changed": answer.changed, "state": answer.reason}
    if invoke:
        with aws_errors(aws, table=table_name), _deliverer(obj, aws, via, function_name) as d:
            delivered = d.deliver([upload])
        result["delivered"] = {"records": delivered.records, "error": delivered.error}
    if as_json:
        echo_json(result)
        return
    click.echo(f"{url} ({name}): {answer.reason}")
    if invoke:
        _echo_delivered(delivered, via)


def _held(url: str, record: RecordView) -> str:
    seconds = max(0, (record.lease_expires_at_ms - now_ms()) // 1000)
    return (
        f"{url} is being processed: {record.owner or 'a worker'} holds its lease until"
        f" {iso(record.lease_expires_at_ms)} (in {seconds} s); nothing changed"
    )


def _echo_delivered(delivered: Delivered, via: str) -> None:
    for record in delivered.records:
        click.echo(f"delivered ({via}): {record['key']} -> {record['outcome']}")
    if delivered.error:
        click.echo(f"the invocation failed: {delivered.error}", err=True)


def _deliverer(
    obj: Context, aws: Aws, via: str, function_name: str | None
) -> LocalHandler | LambdaInvoker:
    if via == "lambda":
        return LambdaInvoker(aws.client("lambda"), function_name or obj.function_name())
    # The handler's log lines go to our stderr.
    return LocalHandler(obj.project_dir, obj.handler_environment(), workers=1, log=None)
