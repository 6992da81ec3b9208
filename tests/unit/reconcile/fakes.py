"""In-memory stand-ins for the reconciliation's ports: reports, lookups, checkpoints and a
pipeline that completes what it is handed (recording it in the lookup, as the lock does)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from chalicelib.core.keys import idempotency_key
from chalicelib.core.model import (
    IdempotencyScope,
    LockStatus,
    ObjectRef,
    Outcome,
    ParsedEvent,
    RecordOutcome,
)
from chalicelib.core.service import BatchSummary, Invocation
from chalicelib.reconcile.checkpoint import Checkpoint
from chalicelib.reconcile.manifest import DataFile, InventoryManifest
from chalicelib.reconcile.rows import csv_rows
from chalicelib.reconcile.scan import LOOKUP_BATCH, LookupAnswer, RecordState
from tests.inventory_data import SCHEMA, Row, data_file

PROCESSOR = "content-type"


def key_of(obj: ObjectRef) -> str:
    return idempotency_key(obj, IdempotencyScope.CONTENT, PROCESSOR)


@dataclass
class FakeLookup:
    states_by_pk: dict[str, RecordState] = field(default_factory=dict)
    asked: list[int] = field(default_factory=list)

    def states(self, pks: Sequence[str]) -> LookupAnswer:
        assert len(pks) <= LOOKUP_BATCH
        self.asked.append(len(pks))
        return LookupAnswer({pk: self.states_by_pk[pk] for pk in pks if pk in self.states_by_pk}, 1)

    def complete(self, obj: ObjectRef) -> None:
        self.states_by_pk[key_of(obj)] = RecordState(LockStatus.COMPLETED, 0)


@dataclass
class FakeReports:
    manifest_key: str | None
    manifest_value: InventoryManifest
    bodies: dict[str, bytes] = field(default_factory=dict)
    opened: list[str] = field(default_factory=list)

    def newest_manifest(self, bucket: str, prefix: str) -> str | None:
        return self.manifest_key

    def manifest(self, bucket: str, key: str) -> InventoryManifest:
        return self.manifest_value

    @contextlib.contextmanager
    def rows(self, bucket: str, data: DataFile) -> Iterator[Iterator[list[str]]]:
        self.opened.append(data.key)
        yield csv_rows(io.BytesIO(self.bodies[data.key]))


def reports_of(files: list[list[Row]], source: str = "uploads") -> FakeReports:
    bodies = {f"data/{n}.csv.gz": data_file(rows) for n, rows in enumerate(files)}
    manifest = InventoryManifest(
        source_bucket=source,
        destination_bucket="dest",
        file_format="CSV",
        columns=tuple(name.strip() for name in SCHEMA.split(",")),
        files=tuple(DataFile(key, len(body), "0" * 32) for key, body in bodies.items()),
        creation_ms=None,
    )
    return FakeReports("inventory/uploads/all/2026-12-01T00-00Z/manifest.json", manifest, bodies)


@dataclass
class FakeCheckpoints:
    saved: dict[str, Checkpoint] = field(default_factory=dict)
    saves: int = 0

    def load(self, pk: str) -> Checkpoint | None:
        return self.saved.get(pk)

    def save(self, pk: str, checkpoint: Checkpoint, expires_at_s: int) -> None:
        assert expires_at_s > 0
        self.saved[pk] = checkpoint
        self.saves += 1


@dataclass
class CompletingPipeline:
    lookup: FakeLookup
    handled: list[ObjectRef] = field(default_factory=list)

    def handle(self, event: ParsedEvent, invocation: Invocation) -> BatchSummary:
        outcomes = []
        for obj in event.objects:
            self.handled.append(obj)
            self.lookup.complete(obj)
            outcomes.append(RecordOutcome(obj.bucket, obj.key, Outcome.PROCESSED, 1))
        return BatchSummary(outcomes)


class FakeClock:
    def __init__(self, now_ms: int = 1_000_000, step_ms: int = 0) -> None:
        self.now = now_ms
        self.step = step_ms

    def now_ms(self) -> int:
        self.now += self.step
        return self.now
