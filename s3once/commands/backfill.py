"""`s3once backfill s3://bucket/prefix`: deliver what is unfinished under a prefix, through the
local handler, the deployed function, or an S3 Batch Operations job. With `--inventory`, the
objects come from an S3 Inventory report instead of a listing."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import IO, Any

import click

from s3once.aws.batch_jobs import JobRequest, submit
from s3once.aws.inventory import InventoryRun, checkpoint_path
from s3once.aws.listing import parse_s3_url
from s3once.aws.session import Aws, aws_errors
from s3once.aws.unfinished import PrefixListing, Summary, Target, deliver_all
from s3once.context import Context, ProcessorName, aws_options
from s3once.delivery import Deliverer, LambdaInvoker, LocalHandler
from s3once.local.state import STATE_DIR

VIAS = ["local", "lambda", "batch-operations"]


@click.command()
@click.argument("url", required=False)
@click.option(
    "--inventory",
    "inventory_url",
    metavar="S3_URL",
    help="s3:// key of an S3 Inventory report's manifest.json (CSV): reconcile the objects it"
    " lists instead of listing a prefix; resumes from its checkpoint in .s3once/.",
)
@click.option("--from-start", is_flag=True, help="--inventory: ignore the checkpoint.")
@click.option("--processor", type=ProcessorName(), help="Default: the stage's PROCESSOR.")
@click.option(
    "--via",
    type=click.Choice(VIAS),
    default="local",
    show_default=True,
    help="Deliver through the handler in local processes, the deployed function (async"
    " invocations), or write a manifest and create an S3 Batch Operations job.",
)
@click.option(
    "--function",
    "function_name",
    help="lambda: name or ARN (default: the stage's S3 handler); batch-operations: the"
    " function's Batch Operations handler.",
)
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--records-per-event", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--dry-run", is_flag=True, help="List and look up only; deliver nothing.")
@click.option("--role-arn", help="batch-operations: the role the job runs as.")
@click.option("--manifest", "manifest_url", help="batch-operations: s3:// key of the manifest.")
@click.option("--report", "report_url", help="batch-operations: s3:// prefix of the report.")
@click.option("--account-id", help="batch-operations: the job's account (default: the caller's).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@aws_options
@click.pass_obj
def backfill(
    obj: Context,
    url: str | None,
    inventory_url: str | None,
    from_start: bool,
    processor: str | None,
    via: str,
    function_name: str | None,
    concurrency: int,
    records_per_event: int,
    dry_run: bool,
    role_arn: str | None,
    manifest_url: str | None,
    report_url: str | None,
    account_id: str | None,
    as_json: bool,
) -> None:
    """Deliver every object under a prefix whose record is not COMPLETED.

    Lists the objects (or reads them from an inventory report), looks their records up 100 at
    a time, and delivers only the unfinished ones (no record, FAILED, or IN_PROGRESS past its
    lease), several to an event. Interrupted, it can be run again: what finished is COMPLETED
    and is not delivered twice.
    """
    if (url is None) == (inventory_url is None):
        raise click.UsageError(
            "give either a prefix (s3://bucket/prefix) or --inventory s3://.../manifest.json"
        )
    bucket, prefix = parse_s3_url(url) if url else (obj.setting("APP_BUCKET_NAME"), "")
    aws = obj.aws()
    target = Target(obj.lock_table, bucket, prefix, obj.processor(processor), obj.scope)
    if via == "batch-operations" and not dry_run and not (role_arn and function_name):
        raise click.UsageError(
            "--via batch-operations needs --role-arn (the job's role) and --function (the"
            " function's S3 Batch Operations handler)"
        )
    summary = Summary()
    started = time.time()
    extra: dict[str, Any] = {}
    with aws_errors(aws, table=target.table):
        s3, dynamodb = aws.client("s3"), aws.client("dynamodb")
        bar: Any
        source: PrefixListing | InventoryRun = PrefixListing(s3, dynamodb, target)
        if inventory_url:
            state = obj.project_dir / STATE_DIR
            path = checkpoint_path(state, obj.stage, target.processor)
            source = InventoryRun(s3, dynamodb, target, inventory_url, path, from_start, dry_run)
        with click.progressbar(
            iter([]), label=f"checking {url or inventory_url}", show_pos=True, file=sys.stderr
        ) as bar:
            unfinished = source.uploads(summary, int(started * 1000), bar.update)
            if via == "batch-operations":
                extra = _batch_job(
                    obj,
                    aws,
                    target,
                    unfinished,
                    summary,
                    dry_run,
                    role_arn,
                    manifest_url,
                    report_url,
                    account_id,
                    function_name,
                )
                source.save(all_sent=bool(extra.get("job_id")) or not summary.unfinished)
                source.stop()
            else:
                log_path = obj.project_dir / STATE_DIR / f"backfill-{obj.stage}.log"
                with _deliverer(obj, aws, via, function_name, concurrency, dry_run, log_path) as d:
                    try:
                        deliver_all(
                            unfinished, source.tracking(d), summary, records_per_event, concurrency
                        )
                    finally:
                        source.save()
                source.stop()
                if via == "local" and not dry_run:
                    extra["handler_log"] = str(log_path)
    inventory = source.to_json()
    if inventory is not None:
        extra["inventory"] = inventory
    requests = dict(sorted(aws.requests.counts.items()))
    if as_json:
        click.echo(json.dumps({**summary.to_json(), **extra, "requests": requests}, indent=2))
    else:
        _echo_summary(
            url or str(inventory_url),
            target,
            via,
            dry_run,
            summary,
            extra,
            requests,
            time.time() - started,
        )
    if summary.interrupted:
        sys.exit(130)
    if summary.errors:
        sys.exit(1)


class _Quiet:
    """No deliverer (a dry run): the unfinished objects are counted, nothing is sent."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


def _deliverer(
    obj: Context,
    aws: Aws,
    via: str,
    function_name: str | None,
    concurrency: int,
    dry_run: bool,
    log_path: Path,
) -> Any:
    if dry_run:
        return _Quiet()
    if via == "lambda":
        return LambdaInvoker(aws.client("lambda"), function_name or obj.function_name())
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log: IO[str] = log_path.open("w", encoding="utf-8")
    return _ClosingLocal(
        LocalHandler(obj.project_dir, obj.handler_environment(), concurrency, log), log
    )


class _ClosingLocal:
    def __init__(self, handler: LocalHandler, log: IO[str]) -> None:
        self._handler, self._log = handler, log

    def __enter__(self) -> Deliverer:
        return self._handler.__enter__()

    def __exit__(self, *exc: Any) -> None:
        try:
            self._handler.__exit__(*exc)
        finally:
            self._log.close()


def _batch_job(
    obj: Context,
    aws: Aws,
    target: Target,
    unfinished: Any,
    summary: Summary,
    dry_run: bool,
    role_arn: str | None,
    manifest_url: str | None,
    report_url: str | None,
    account_id: str | None,
    function_name: str | None,
) -> dict[str, Any]:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    manifest_bucket, manifest_key = parse_s3_url(
        manifest_url or f"s3://{target.bucket}/s3once/manifests/{obj.stage}-{stamp}.csv"
    )
    report_bucket, report_prefix = parse_s3_url(
        report_url or f"s3://{target.bucket}/s3once/reports"
    )
    manifest = f"s3://{manifest_bucket}/{manifest_key}"
    if dry_run:
        for _ in unfinished:
            pass
        return {"manifest": None, "job_id": None}
    account = account_id or aws.client("sts").get_caller_identity()["Account"]
    function = function_name or obj.function_name()
    if not function.startswith("arn:"):
        function = f"arn:aws:lambda:{aws.region}:{account}:function:{function}"
    request = JobRequest(
        account_id=account,
        function_arn=function,
        role_arn=str(role_arn),
        manifest_bucket=manifest_bucket,
        manifest_key=manifest_key,
        report_bucket=report_bucket,
        report_prefix=report_prefix,
        with_versions=target.scope == "version",
        description=f"s3once backfill s3://{target.bucket}/{target.prefix} ({target.processor})",
    )
    _, job_id = submit(aws.client("s3"), aws.client("s3control"), unfinished, request)
    if job_id is None:
        return {"manifest": None, "job_id": None}
    return {"manifest": manifest, "job_id": job_id}


def _echo_summary(
    url: str,
    target: Target,
    via: str,
    dry_run: bool,
    summary: Summary,
    extra: dict[str, Any],
    requests: dict[str, int],
    seconds: float,
) -> None:
    click.echo(
        f"{url}: processor {target.processor}, scope {target.scope}, via {via}"
        + (" (dry run)" if dry_run else "")
    )
    inventory = extra.get("inventory")
    if inventory:
        click.echo(_inventory_line(inventory))
    click.echo(
        f"listed {summary.listed}: {summary.completed} COMPLETED (left alone),"
        f" {summary.held} held by a live lease (left alone), {summary.unfinished} unfinished"
    )
    if via == "batch-operations":
        if extra.get("job_id"):
            click.echo(f"manifest {extra['manifest']} ({summary.unfinished} objects)")
            click.echo(f"job {extra['job_id']} created: `s3once status --job {extra['job_id']}`")
        else:
            click.echo("no manifest written, no job created")
    elif not dry_run and not summary.events:
        click.echo("nothing to deliver")
    elif not dry_run:
        outcomes = ", ".join(f"{n} {outcome}" for outcome, n in sorted(summary.outcomes.items()))
        click.echo(
            f"delivered {summary.delivered} in {summary.events}"
            + (" event" if summary.events == 1 else " events")
            + (f": {outcomes}" if outcomes else "")
        )
        if extra.get("handler_log"):
            click.echo(f"handler log lines: {extra['handler_log']}")
    click.echo(
        "requests: "
        + (", ".join(f"{name} {n}" for name, n in requests.items()) or "none")
        + f"; {seconds:.1f} s"
    )
    for error in summary.errors[:10]:
        click.echo(f"invocation failed: {error}", err=True)
    if summary.interrupted:
        click.echo("interrupted: run the same command again to deliver the rest", err=True)
    elif summary.errors:
        click.echo("some invocations failed: run the same command again to retry them", err=True)


def _inventory_line(inventory: dict[str, Any]) -> str:
    start, position = inventory["started_at"], inventory["position"]
    if start["done"]:
        return "already reconciled to its end: nothing to read (--from-start reads it again)"
    where = (
        "to its end"
        if position["done"]
        else (f"to file {position['file_index'] + 1} row {position['row']}")
    )
    saved = f", checkpoint {inventory['checkpoint']}" if inventory["checkpoint"] else ""
    return (
        f"inventory of {inventory['files']} data files read {where}: {inventory['rows_read']}"
        f" rows ({inventory['rows_skipped']} delete markers or older versions skipped),"
        f" {inventory['lookups']} lookups{saved}"
    )
