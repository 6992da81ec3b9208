"""`s3once status`, `show` and `reprocess`: see what failed and why, and make one object
processable again. `backfill` lives in `s3once.commands.backfill`."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from s3once.aws.batch_jobs import job_summary
from s3once.aws.listing import head_upload, parse_s3_url, upload_pk
from s3once.aws.lock_reads import make_processable, records_of_object
from s3once.aws.session import Aws, OperatorError, aws_errors
from s3once.aws.status_reads import read_status
from s3once.aws.tables import OBJECT_INDEX, STATUS_INDEX, lock_table_indexes
from s3once.commands.backfill import backfill
from s3once.context import Context, ProcessorName, aws_options, processor_names
from s3once.delivery import Delivered, LambdaInvoker, LocalHandler
from s3once.output import table
from s3once.records import RecordView, age, iso

__all__ = ["backfill", "reprocess", "show", "status"]
SCOPES = ["content", "version", "object"]
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")


def now_ms() -> int:
    return int(time.time() * 1000)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


@click.command()
@JSON_OPTION
@click.option(
    "--exact",
    is_flag=True,
    help="Also count COMPLETED records per processor (reads every COMPLETED index entry).",
)
@click.option("--limit", default=50, show_default=True, help="Rows of the attention table.")
@click.option("--job", "job_id", help="Summarise this S3 Batch Operations job instead.")
@click.option("--account-id", help="For --job: the job's account (default: the caller's).")
@aws_options
@click.pass_obj
def status(
    obj: Context, as_json: bool, exact: bool, limit: int, job_id: str | None, account_id: str | None
) -> None:
    """Records per processor and status; the FAILED ones and those stuck past their lease.

    With the lock table's by-status index (s3once create-tables adds it) only FAILED and
    IN_PROGRESS entries are read; without it, the table is scanned once. The read capacity
    consumed is printed.
    """
    aws = obj.aws()
    if job_id:
        with aws_errors(aws):
            account = account_id or aws.client("sts").get_caller_identity()["Account"]
            summary = job_summary(aws.client("s3control"), aws.client("s3"), account, job_id)
        if as_json:
            echo_json(summary.to_json())
            return
        click.echo(
            f"job {job_id}: {summary.status}, {summary.succeeded} of {summary.total} tasks"
            f" succeeded, {summary.failed} failed"
        )
        for reason in summary.failure_reasons:
            click.echo(f"  job failure: {reason}")
        if summary.report:
            click.echo(f"completion report {summary.report}:")
            rows = [(status, n) for status, n in sorted(summary.task_status.items())]
            click.echo(table(("task status", "tasks"), rows))
            rows = [(result or "-", n) for result, n in summary.results.most_common()]
            click.echo(table(("result", "tasks"), rows))
            for task in summary.failed_tasks[:limit]:
                click.echo(
                    f"  {task.get('TaskStatus')}: s3://{task.get('Bucket')}/{task.get('Key')}"
                    f" {task.get('ErrorCode', '')} {task.get('ResultMessage', '')}"
                )
        return
    table_name = obj.lock_table
    with aws_errors(aws, table=table_name):
        dynamodb = aws.client("dynamodb")
        indexes = lock_table_indexes(dynamodb, table_name)
        report = read_status(dynamodb, table_name, STATUS_INDEX in indexes, exact, now_ms())
    if as_json:
        echo_json(report.to_json(now_ms()))
    else:
        click.echo(report.to_text(now_ms(), limit))


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
    aws = obj.aws()
    table_name = obj.lock_table
    with aws_errors(aws, table=table_name):
        dynamodb = aws.client("dynamodb")
        indexes = lock_table_indexes(dynamodb, table_name)
        records = records_of_object(
            dynamodb,
            table_name,
            bucket,
            key,
            list(processor_names()),
            SCOPES,
            has_object_index=OBJECT_INDEX in indexes,
        )
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
        answer = make_processable(aws.client("dynamodb"), table_name, pk, now_ms())
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
