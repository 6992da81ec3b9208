"""`s3once status`: records per processor and status; the FAILED ones and those stuck past
their lease. With `--job`, a summary of one S3 Batch Operations job instead."""

from __future__ import annotations

import click

from s3once.aws.batch_jobs import job_summary
from s3once.aws.session import OperatorError, aws_errors
from s3once.aws.status_reads import open_shards, read_status
from s3once.aws.tables import lock_table_indexes
from s3once.context import Context, aws_options, now_ms
from s3once.output import JSON_OPTION, echo_json, table


@click.command()
@JSON_OPTION
@click.option(
    "--exact",
    is_flag=True,
    help="Also count COMPLETED records per processor: a parallel segmented scan of the whole"
    " table (its progress and cost are shown).",
)
@click.option(
    "--shards",
    type=click.IntRange(1, 1000),
    help="Query this many open-work shards per status (default: the stage's OPEN_INDEX_SHARDS;"
    " after lowering it, the old count until the entries above it are settled).",
)
@click.option("--limit", default=50, show_default=True, help="Rows of the attention table.")
@click.option("--job", "job_id", help="Summarise this S3 Batch Operations job instead.")
@click.option("--account-id", help="For --job: the job's account (default: the caller's).")
@aws_options
@click.pass_obj
def status(
    obj: Context,
    as_json: bool,
    exact: bool,
    shards: int | None,
    limit: int,
    job_id: str | None,
    account_id: str | None,
) -> None:
    """Records per processor and status; the FAILED ones and those stuck past their lease.

    Reads only the open records, from every shard of the lock table's open-work index (s3once
    create-tables creates it); never a scan unless --exact. The requests sent and the read
    capacity consumed are printed.
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
    from chalicelib.aws.lock_table import OPEN_INDEX

    table_name = obj.lock_table
    count = shards or open_shards(obj.environment())
    with aws_errors(aws, table=table_name):
        dynamodb = aws.client("dynamodb")
        if OPEN_INDEX not in lock_table_indexes(dynamodb, table_name):
            raise OperatorError(
                f"{table_name} has no {OPEN_INDEX} index (a table of an earlier version):"
                " add it with `s3once create-tables --migrate`"
            )
        report = read_status(dynamodb, table_name, count, exact, now_ms(), progress=_progress)
    if as_json:
        echo_json(report.to_json(now_ms()))
    else:
        click.echo(report.to_text(now_ms(), limit))


def _progress(line: str) -> None:
    click.echo(line, err=True)
