"""`s3once backfill`: re-drive a prefix, paying only for what is unfinished.

The objects are listed (ListObjectsV2, 1,000 a request), their records looked up 100 at a time
(BatchGetItem with a projection), and only those not COMPLETED are delivered, several records
to an event, with a bounded number of deliveries in flight. The lock table is the checkpoint:
a run after an interrupted one finds what the first finished COMPLETED and delivers the rest.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from s3once.aws.listing import list_uploads, upload_pk
from s3once.aws.lock_reads import BATCH_GET_LIMIT, batch_get
from s3once.delivery import Delivered, Deliverer
from s3once.s3_events import Upload

HELD = "held by a live lease"


@dataclass(frozen=True)
class Target:
    table: str
    bucket: str
    prefix: str
    processor: str
    scope: str


@dataclass
class Summary:
    listed: int = 0
    completed: int = 0  # COMPLETED already: not delivered
    held: int = 0  # IN_PROGRESS under a live lease: not delivered, a later run will see
    unfinished: int = 0  # no record, FAILED, or IN_PROGRESS past its lease
    delivered: int = 0
    events: int = 0
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "listed": self.listed,
            "completed": self.completed,
            "held": self.held,
            "unfinished": self.unfinished,
            "delivered": self.delivered,
            "events": self.events,
            "outcomes": dict(sorted(self.outcomes.items())),
            "errors": self.errors,
            "interrupted": self.interrupted,
        }


def find_unfinished(
    s3: Any,
    dynamodb: Any,
    target: Target,
    summary: Summary,
    now_ms: int,
    on_listed: Callable[[int], None] = lambda _: None,
) -> Iterator[Upload]:
    """The uploads under the prefix whose record is not COMPLETED (live leases left alone)."""
    uploads = list_uploads(s3, target.bucket, target.prefix, by_version=target.scope == "version")
    for chunk in _chunks(uploads, BATCH_GET_LIMIT):
        summary.listed += len(chunk)
        pks = [upload_pk(upload, target.scope, target.processor) for upload in chunk]
        records = batch_get(dynamodb, target.table, pks)
        on_listed(len(chunk))
        for upload, pk in zip(chunk, pks, strict=True):
            record = records.get(pk)
            if record is not None and record.status == "COMPLETED":
                summary.completed += 1
            elif record is not None and record.lease_live(now_ms):
                summary.held += 1
            else:
                summary.unfinished += 1
                yield upload


def deliver_all(
    uploads: Iterable[Upload],
    deliverer: Deliverer | None,
    summary: Summary,
    records_per_event: int,
    concurrency: int,
    on_delivered: Callable[[Delivered], None] = lambda _: None,
) -> None:
    """Deliver `uploads` in events of `records_per_event`, at most `concurrency` at a time;
    without a deliverer (a dry run) only count them. Ctrl-C stops listing, lets the events
    in flight finish, and marks the summary interrupted."""
    in_flight: set[Future[Delivered]] = set()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        try:
            for event in _chunks(uploads, records_per_event):
                if deliverer is None:
                    continue
                if len(in_flight) >= concurrency:
                    done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    _collect(done, summary, on_delivered)
                in_flight.add(pool.submit(deliverer.deliver, event))
            done, in_flight = wait(in_flight)
            _collect(done, summary, on_delivered)
        except KeyboardInterrupt:
            summary.interrupted = True
            done, in_flight = wait(in_flight)
            _collect(done, summary, on_delivered)


def _collect(
    done: Iterable[Future[Delivered]], summary: Summary, on_delivered: Callable[[Delivered], None]
) -> None:
    for future in done:
        delivered = future.result()
        summary.events += 1
        summary.delivered += len(delivered.records)
        summary.outcomes.update(str(record["outcome"]) for record in delivered.records)
        if delivered.error:
            summary.errors.append(delivered.error)
        on_delivered(delivered)


def _chunks(items: Iterable[Upload], size: int) -> Iterator[list[Upload]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class PrefixListing:
    """`backfill`'s objects from a listing of the prefix: nothing to resume, save or report
    (the inventory's source, `s3once.aws.inventory.InventoryRun`, has the same methods)."""

    def __init__(self, s3: Any, dynamodb: Any, target: Target) -> None:
        self._s3, self._dynamodb, self._target = s3, dynamodb, target

    def uploads(
        self, summary: Summary, now_ms: int, on_listed: Callable[[int], None]
    ) -> Iterator[Upload]:
        return find_unfinished(self._s3, self._dynamodb, self._target, summary, now_ms, on_listed)

    def tracking(self, deliverer: Deliverer | None) -> Deliverer | None:
        return deliverer

    def save(self, all_sent: bool = False) -> None:
        return None

    def stop(self) -> None:
        return None

    def to_json(self) -> dict[str, Any] | None:
        return None
