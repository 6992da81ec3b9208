"""`s3once backfill --inventory`: the objects of an S3 Inventory report that have no COMPLETED
record, found without listing the bucket.

The report is read and checked by the application's own code (`chalicelib/reconcile/`,
`chalicelib/aws/inventory_reports.py`, `chalicelib/aws/lock_lookup.py`): the same
reconciliation the scheduled function runs. Progress is kept in a checkpoint file (manifest,
data file, row): a position before which every row is settled, so a run resumes there.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3once.aws.listing import parse_s3_url
from s3once.aws.session import OperatorError
from s3once.aws.unfinished import Summary, Target
from s3once.delivery import Delivered, Deliverer
from s3once.s3_events import Upload

if TYPE_CHECKING:
    from chalicelib.reconcile.checkpoint import Checkpoint
    from chalicelib.reconcile.manifest import InventoryManifest
    from chalicelib.reconcile.rows import Columns
    from chalicelib.reconcile.scan import Tally

SAVE_EVERY_BATCHES = 50  # 5,000 objects: what a killed run redoes at most (a lookup each 100)


@dataclass(frozen=True)
class Report:
    """A report opened and checked: its manifest, its columns, where a run starts."""

    url: str
    manifest: InventoryManifest
    columns: Columns
    start: Checkpoint


def open_report(
    s3: Any, url: str, target: Target, checkpoint_path: Path, from_start: bool
) -> Report:
    """Read and check the manifest (checksum, fields, bucket, format) before anything is
    delivered; an unusable report is one line naming why."""
    from chalicelib.aws.inventory_reports import S3InventoryReports
    from chalicelib.core.model import IdempotencyScope
    from chalicelib.reconcile.errors import InventoryError
    from chalicelib.reconcile.manifest import check_reconcilable
    from chalicelib.reconcile.rows import Columns

    bucket, key = parse_s3_url(url)
    try:
        manifest = S3InventoryReports(s3).manifest(bucket, key)
        check_reconcilable(manifest, target.bucket, url)
        columns = Columns.from_schema(manifest.columns, IdempotencyScope(target.scope), url)
    except InventoryError as exc:
        raise OperatorError(str(exc)) from None
    start = _resume(checkpoint_path, url) if not from_start else None
    return Report(url, manifest, columns, start or _fresh(url))


class Progress:
    """The position a run may resume from: the start of the batch of the oldest upload not yet
    delivered, or where the reading reached when everything read is delivered."""

    def __init__(self, start: Checkpoint) -> None:
        self._lock = threading.Lock()
        self._pending: dict[Upload, Checkpoint] = {}
        self._reached = start

    def add(self, upload: Upload, batch_start: Checkpoint) -> None:
        with self._lock:
            self._pending.setdefault(upload, batch_start)

    def reached(self, position: Checkpoint) -> None:
        with self._lock:
            self._reached = position

    def delivered(self, uploads: list[Upload]) -> None:
        with self._lock:
            for upload in uploads:
                self._pending.pop(upload, None)

    def read_to(self) -> Checkpoint:
        with self._lock:
            return self._reached

    def settle_all(self) -> None:
        with self._lock:
            self._pending.clear()

    def safe(self) -> Checkpoint:
        with self._lock:
            return next(iter(self._pending.values()), self._reached)


class TrackingDeliverer:
    """A deliverer that tells `progress` which uploads were delivered; an event that failed
    keeps its uploads pending, so the checkpoint stays before them."""

    def __init__(self, inner: Deliverer, progress: Progress) -> None:
        self._inner = inner
        self._progress = progress

    def deliver(self, uploads: list[Upload]) -> Delivered:
        delivered = self._inner.deliver(uploads)
        if delivered.error is None:
            self._progress.delivered(uploads)
        return delivered


def missing_uploads(
    s3: Any,
    dynamodb: Any,
    report: Report,
    target: Target,
    summary: Summary,
    tally: Tally,
    progress: Progress,
    now_ms: int,
    save: Callable[[], None],
    on_rows: Callable[[int], None] = lambda _: None,
) -> Iterator[Upload]:
    """The report's uploads with no COMPLETED record (live leases left alone), from the
    report's start position; a data file whose MD5 differs stops the run, naming it."""
    import functools

    from chalicelib.aws.inventory_reports import S3InventoryReports
    from chalicelib.aws.lock_lookup import DynamoDBRecordLookup
    from chalicelib.core.keys import idempotency_key
    from chalicelib.core.model import IdempotencyScope
    from chalicelib.reconcile.errors import InventoryError
    from chalicelib.reconcile.scan import reconcile_rows

    reports = S3InventoryReports(s3)
    lookup = DynamoDBRecordLookup(dynamodb, target.table)
    key_of = functools.partial(
        idempotency_key, scope=IdempotencyScope(target.scope), processor=target.processor
    )
    manifest, start = report.manifest, report.start
    if start.done:
        return
    batches = 0
    try:
        for index in range(start.file_index, len(manifest.files)):
            data_file = manifest.files[index]
            where = f"s3://{manifest.destination_bucket}/{data_file.key}"
            row = start.row if index == start.file_index else 0
            with reports.rows(manifest.destination_bucket, data_file) as rows:
                for batch in reconcile_rows(
                    rows,
                    report.columns,
                    start.at(index, row),
                    where,
                    lookup,
                    key_of,
                    now_ms,
                    tally,
                ):
                    _count(summary, tally)
                    for obj in batch.missing:
                        upload = Upload(
                            obj.bucket, obj.key, obj.etag or "", obj.size or 0, obj.version_id
                        )
                        progress.add(upload, batch.start)
                        yield upload
                    progress.reached(batch.end)
                    on_rows(batch.end.row - batch.start.row)
                    batches += 1
                    if batches % SAVE_EVERY_BATCHES == 0:
                        save()
            progress.reached(start.at(index + 1, 0))
    except InventoryError as exc:
        raise OperatorError(str(exc)) from None
    progress.reached(start.finished())


def _count(summary: Summary, tally: Tally) -> None:
    summary.listed = tally.rows - tally.skipped
    summary.completed, summary.held, summary.unfinished = tally.completed, tally.held, tally.missing


def checkpoint_path(state_dir: Path, stage: str, processor: str) -> Path:
    return state_dir / f"inventory-{stage}-{processor}.json"


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(checkpoint.to_json(), indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def _resume(path: Path, url: str) -> Checkpoint | None:
    from chalicelib.reconcile.checkpoint import Checkpoint, resume_from
    from chalicelib.reconcile.errors import InventoryError

    if not path.exists():
        return None
    try:
        saved = Checkpoint.from_json(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (ValueError, InventoryError) as exc:
        raise OperatorError(f"{path}: {exc} (delete it, or pass --from-start)") from None
    return resume_from(saved, url)


def _fresh(url: str) -> Checkpoint:
    from chalicelib.reconcile.checkpoint import Checkpoint

    return Checkpoint(url)


class InventoryRun:
    """One `backfill --inventory`: the report, its progress and checkpoint file (read on a dry
    run, never written)."""

    def __init__(
        self,
        s3: Any,
        dynamodb: Any,
        target: Target,
        url: str,
        path: Path,
        from_start: bool,
        dry_run: bool,
    ) -> None:
        from chalicelib.reconcile.scan import Tally

        self._s3, self._dynamodb, self._target = s3, dynamodb, target
        self.report = open_report(s3, url, target, path, from_start)
        self.path = path
        self.dry_run = dry_run
        self.tally = Tally()
        self.progress = Progress(self.report.start)
        self.error: OperatorError | None = None

    def uploads(
        self, summary: Summary, now_ms: int, on_rows: Callable[[int], None]
    ) -> Iterator[Upload]:
        """The missing uploads; a report found unusable midway (a data file's checksum) ends
        them, so that those already read are still delivered, and `stop` raises it after."""
        try:
            yield from self._missing(summary, now_ms, on_rows)
        except OperatorError as exc:
            self.error = exc

    def stop(self) -> None:
        if self.error is not None:
            raise self.error

    def _missing(
        self, summary: Summary, now_ms: int, on_rows: Callable[[int], None]
    ) -> Iterator[Upload]:
        return missing_uploads(
            self._s3,
            self._dynamodb,
            self.report,
            self._target,
            summary,
            self.tally,
            self.progress,
            now_ms,
            self.save,
            on_rows,
        )

    def tracking(self, deliverer: Deliverer | None) -> Deliverer | None:
        return None if deliverer is None else TrackingDeliverer(deliverer, self.progress)

    def save(self, all_sent: bool = False) -> None:
        """Write where a next run starts; `all_sent`: every upload read was handed over (a
        Batch Operations job was created for them), so only the reading's position counts."""
        if self.dry_run:
            return
        if all_sent:
            self.progress.settle_all()
        save_checkpoint(self.path, self.progress.safe())

    def to_json(self) -> dict[str, Any]:
        checkpoint = self.progress.read_to() if self.dry_run else self.progress.safe()
        return {
            "manifest": self.report.url,
            "files": len(self.report.manifest.files),
            "started_at": self.report.start.to_json(),
            "checkpoint": None if self.dry_run else str(self.path),
            "position": checkpoint.to_json(),
            **{k: v for k, v in self.tally.to_json().items() if k != "outcomes"},
        }
