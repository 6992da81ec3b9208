"""`s3once run`: upload files, deliver S3 events through the real handler, show what happened.

By default everything runs on an embedded moto server (no AWS account), and the tables are kept
in `.s3once/` between runs. With AWS_ENDPOINT_URL set, that endpoint is used as it is.
"""

from __future__ import annotations

import contextlib
import importlib
import mimetypes
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3
import click

from s3once.aws.tables import create_required_tables
from s3once.local.embedded import embedded_stage, ensure_bucket, stage_buckets
from s3once.local.servers import OFFLINE_CREDENTIALS
from s3once.local.state import state_file
from s3once.output import table
from s3once.s3_events import Upload, created_event, put_upload

HANDLER = "on_object_created"
# The Lambda timeout the local context pretends to have (the lease follows it).
LOCAL_TIMEOUT_MS = 60_000
CHANGED_SUFFIX = b"\n(changed by s3once run)\n"


@dataclass(frozen=True)
class LocalAws:
    endpoint_url: str
    kept_in: Path | None  # where the embedded server's state is kept between runs


@contextlib.contextmanager
def local_aws(
    project_dir: Path, stage: str, environment: dict[str, str], endpoint: str | None = None
) -> Iterator[LocalAws]:
    """The endpoint the run uses: the given one as it is (its tables created if missing), else
    the embedded server with the stage's state from `.s3once/`. The handler runs in this
    process and reads the environment, so the embedded server's URL and offline credentials
    are set in it for the run."""
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        create_required_tables(boto3.client("dynamodb"), environment)
        yield LocalAws(endpoint, kept_in=None)
        return
    for name, value in OFFLINE_CREDENTIALS.items():
        os.environ[name] = value
    os.environ.pop("AWS_PROFILE", None)
    with embedded_stage(project_dir, stage, environment) as url:
        os.environ["AWS_ENDPOINT_URL"] = url
        try:
            yield LocalAws(url, kept_in=state_file(project_dir, stage).parent)
        finally:
            del os.environ["AWS_ENDPOINT_URL"]


@dataclass(frozen=True)
class Delivery:
    step: str
    records: list[Mapping[str, Any]]
    error: str | None


def run(project_dir: Path, stage: str, environment: dict[str, str], files: Path | None) -> None:
    from chalicelib.core.errors import ConfigurationError
    from chalicelib.core.settings import Settings
    from chalicelib.processors import REGISTRY

    try:
        configured = REGISTRY.configure(Settings.from_environ(environment).processor, environment)
    except ConfigurationError as exc:
        raise click.ClickException(f"stage {stage!r}: {exc}") from None
    processor = configured.name
    files = files or project_dir / configured.plugin.samples
    paths = sorted(path for path in files.rglob("*") if path.is_file())
    if not paths:
        raise click.ClickException(f"no files under {files}")
    os.environ.update(environment)
    with local_aws(project_dir, stage, environment, environment.get("AWS_ENDPOINT_URL")) as aws:
        s3 = boto3.client("s3")
        dynamodb = boto3.client("dynamodb")
        bucket = environment["APP_BUCKET_NAME"]
        for each in stage_buckets(environment):
            ensure_bucket(s3, each)
        handler = _load_handler()
        click.echo(
            f"endpoint {aws.endpoint_url}, stage {stage}, processor {processor}, "
            f"bucket {bucket}, {len(paths)} files from {files}"
        )

        uploads = [
            _upload(s3, bucket, path.relative_to(files).as_posix(), path.read_bytes())
            for path in paths
        ]
        deliveries = [_deliver(handler, "first delivery", [upload]) for upload in uploads]
        deliveries.append(_deliver(handler, "duplicate delivery (one event)", uploads))
        first = uploads[0]
        changed = _upload(s3, bucket, first.key, paths[0].read_bytes() + CHANGED_SUFFIX)
        deliveries.append(_deliver(handler, "changed content", [changed]))

        click.echo()
        click.echo(
            table(
                ("step", "key", "outcome", "attempts"),
                [
                    (d.step, r["key"], r["outcome"], r["attempts"])
                    for d in deliveries
                    for r in d.records
                ],
            )
        )
        for delivery in deliveries:
            if delivery.error:
                click.echo(f"{delivery.step}: invocation failed: {delivery.error}", err=True)
        _show_lock_table(dynamodb, environment["LOCK_TABLE_NAME"])
        if aws.kept_in is not None:
            where = aws.kept_in.relative_to(project_dir)
            click.echo(
                f"\nbuckets and tables kept in {where}/: run again and every delivery is skipped;"
                f" delete {where}/ to start over.\nOperate them with `s3once --local`, e.g."
                " `.venv/bin/s3once --local status` (docs/operating.md)"
            )


def _upload(s3: Any, bucket: str, key: str, body: bytes) -> Upload:
    content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return put_upload(s3, bucket, key, body, content_type)


def _load_handler() -> Callable[[dict[str, Any], Any], Any]:
    module = importlib.import_module("app")
    handler: Callable[[dict[str, Any], Any], Any] = module.app.handler_map[HANDLER]
    return handler


def _deliver(
    handler: Callable[[dict[str, Any], Any], Any], step: str, uploads: list[Upload]
) -> Delivery:
    from chalice.local import LambdaContext

    from chalicelib.core.errors import IncompleteBatchError

    context = LambdaContext(HANDLER, memory_size=256, max_runtime_ms=LOCAL_TIMEOUT_MS)
    try:
        summary = handler(created_event(*uploads), context)
    except IncompleteBatchError as exc:
        return Delivery(step, exc.records, str(exc))
    return Delivery(step, summary["records"], None)


def _show_lock_table(dynamodb: Any, table_name: str) -> None:
    from chalicelib.aws import lock_table as t

    rows = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name):
        for item in page["Items"]:
            result = item.get(t.RESULT, {}).get("M", {})
            rows.append(
                (
                    unquote(item[t.PK]["S"].split("#", 1)[0]),  # pk starts with the processor
                    item[t.KEY]["S"],
                    item.get(t.ETAG, {}).get("S", "-")[:12],
                    item[t.STATUS]["S"],
                    item[t.ATTEMPTS]["N"],
                    ", ".join(f"{k}={next(iter(v.values()))}" for k, v in sorted(result.items()))
                    or item.get(t.LAST_ERROR, {}).get("S", ""),
                )
            )
    click.echo(f"\nlock table {table_name}:")
    click.echo(table(("processor", "key", "etag", "status", "attempts", "result"), sorted(rows)))
