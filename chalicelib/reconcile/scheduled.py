"""The scheduled reconciliation: after each inventory report, the uploads that have no
COMPLETED record are re-driven through the pipeline in-process (the lock makes a redelivery of
a finished or running upload harmless).

A run is bounded (rows read, and the invocation's remaining time) and resumes where the last
one stopped, through a checkpoint item; once a report is settled, runs do nothing until the
next one. Each run writes one JSON log line of what it found and one EMF line of metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from chalicelib.core.errors import IncompleteBatchError, S3OnceError
from chalicelib.core.keys import checkpoint_key
from chalicelib.core.logs import log
from chalicelib.core.metrics import emit_metrics
from chalicelib.core.model import IdempotencyScope, JsonValue, ObjectRef, ParsedEvent
from chalicelib.core.ports import Clock
from chalicelib.core.service import BatchSummary, Invocation
from chalicelib.reconcile.checkpoint import Checkpoint, resume_from
from chalicelib.reconcile.errors import InventoryError
from chalicelib.reconcile.manifest import DataFile, InventoryManifest, check_reconcilable
from chalicelib.reconcile.rows import Columns
from chalicelib.reconcile.scan import RecordLookup, Tally, reconcile_rows
from chalicelib.reconcile.settings import ReconcileSettings

MARGIN_MS = 10_000  # stop reading while this much of the invocation is left
SAVE_EVERY_ROWS = 10_000  # a run cut short by its timeout redoes at most this many rows
CHECKPOINT_TTL_S = 35 * 86_400  # beyond a weekly report's life

Handle = Callable[[ParsedEvent, Invocation], BatchSummary]


class InventoryReports(Protocol):
    def newest_manifest(self, bucket: str, prefix: str) -> str | None: ...

    def manifest(self, bucket: str, key: str) -> InventoryManifest: ...

    def rows(
        self, bucket: str, data_file: DataFile
    ) -> AbstractContextManager[Iterator[list[str]]]: ...


class CheckpointStore(Protocol):
    def load(self, pk: str) -> Checkpoint | None: ...

    def save(self, pk: str, checkpoint: Checkpoint, expires_at_s: int) -> None: ...


class ScheduledReconciler:
    def __init__(
        self,
        settings: ReconcileSettings,
        bucket: str,
        scope: IdempotencyScope,
        processor: str,
        reports: InventoryReports,
        lookup: RecordLookup,
        checkpoints: CheckpointStore,
        handle: Handle,
        key_of: Callable[[ObjectRef], str],
        clock: Clock,
        logger: logging.Logger,
    ) -> None:
        self._settings = settings
        self._bucket = bucket
        self._scope = scope
        self._processor = processor
        self._reports = reports
        self._lookup = lookup
        self._checkpoints = checkpoints
        self._handle = handle
        self._key_of = key_of
        self._clock = clock
        self._logger = logger
        self._pk = checkpoint_key(f"reconcile {settings.location}")

    def run(self, invocation: Invocation) -> dict[str, JsonValue]:
        """Reconcile the newest report as far as this run may; the summary it logged."""
        started = self._clock.now_ms()
        deadline = None if invocation.remaining_ms is None else started + invocation.remaining_ms
        tally = Tally()
        fields: dict[str, JsonValue] = {"location": self._settings.location}
        key = self._reports.newest_manifest(self._settings.bucket, self._settings.prefix)
        if key is None:
            return self._report("no inventory report yet", tally, fields)
        position = resume_from(
            self._checkpoints.load(self._pk), f"s3://{self._settings.bucket}/{key}"
        )
        fields["manifest"] = position.manifest
        if position.done:
            return self._report("inventory report already reconciled", tally, fields)
        try:
            position, stopped = self._reconcile(key, position, deadline, invocation, tally)
        except InventoryError as exc:
            self._save(position.finished())  # refused until the next report
            fields["error"] = str(exc)
            return self._report("inventory report refused", tally, fields, logging.ERROR)
        self._save(position)
        fields.update(file_index=position.file_index, row=position.row, done=position.done)
        fields["stopped_by"] = stopped
        return self._report("inventory reconciled", tally, fields)

    def _reconcile(
        self,
        key: str,
        position: Checkpoint,
        deadline: int | None,
        invocation: Invocation,
        tally: Tally,
    ) -> tuple[Checkpoint, str | None]:
        manifest = self._reports.manifest(self._settings.bucket, key)
        check_reconcilable(manifest, self._bucket, position.manifest)
        columns = Columns.from_schema(manifest.columns, self._scope, position.manifest)
        saved_at = 0
        for index in range(position.file_index, len(manifest.files)):
            data_file = manifest.files[index]
            where = f"s3://{manifest.destination_bucket}/{data_file.key}"
            with self._reports.rows(manifest.destination_bucket, data_file) as rows:
                batches = reconcile_rows(
                    rows,
                    columns,
                    position.at(index, position.row if index == position.file_index else 0),
                    where,
                    self._lookup,
                    self._key_of,
                    self._clock.now_ms(),
                    tally,
                )
                for batch in batches:
                    if batch.missing:
                        self._drive(batch.missing, deadline, invocation.request_id, tally)
                    position = batch.end
                    if tally.rows - saved_at >= SAVE_EVERY_ROWS:
                        self._save(position)
                        saved_at = tally.rows
                    stopped = self._stop(tally, deadline)
                    if stopped:
                        return position, stopped
            position = position.at(index + 1, 0)
        return position.finished(), None

    def _stop(self, tally: Tally, deadline: int | None) -> str | None:
        if tally.rows >= self._settings.max_rows_per_run:
            return "max_rows_per_run"
        if deadline is not None and deadline - self._clock.now_ms() < MARGIN_MS:
            return "remaining_time"
        return None

    def _drive(
        self, objects: Sequence[ObjectRef], deadline: int | None, request_id: str, tally: Tally
    ) -> None:
        remaining = None if deadline is None else max(1, deadline - self._clock.now_ms())
        try:
            summary = self._handle(
                ParsedEvent(objects=list(objects)), Invocation(request_id, remaining)
            )
        except IncompleteBatchError as exc:  # busy elsewhere, or failed: recorded FAILED
            for record in exc.records:
                tally.count(str(record.get("outcome", "unknown")))
            return
        except S3OnceError:
            tally.count("invalid", len(objects))
            return
        for outcome in summary.records:
            tally.count(outcome.outcome.value)

    def _save(self, position: Checkpoint) -> None:
        expires = self._clock.now_ms() // 1000 + CHECKPOINT_TTL_S
        self._checkpoints.save(self._pk, position, expires)

    def _report(
        self,
        message: str,
        tally: Tally,
        fields: dict[str, JsonValue],
        level: int = logging.INFO,
    ) -> dict[str, JsonValue]:
        summary: dict[str, JsonValue] = {**fields, **tally.to_json()}
        log(self._logger, level, message, **summary)
        counts = {
            "reconciled_missing": tally.missing,
            "inventory_rows_read": tally.rows,
            "record_lookups": tally.lookups,
        }
        emit_metrics(self._processor, counts, self._clock.now_ms())
        return summary
