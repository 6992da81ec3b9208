"""`s3once status`: how many records per processor and status, and the ones that need an
operator (FAILED, or IN_PROGRESS past their lease), newest first.

It never scans: the lock table's open-work index holds only the records that are not
COMPLETED, sharded over `OPEN_INDEX_SHARDS` partition-key values per status, and `status`
queries every shard in parallel threads, page by page. The COMPLETED count is DescribeTable's
ItemCount (free, DynamoDB's approximate figure, refreshed about every six hours) minus the open
ones, unless `exact` asks for a parallel segmented scan of the table (its cost is shown). Every
read reports the capacity it consumed, and the command the requests it sent.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from s3once.aws.lock_reads import parallel_scan
from s3once.aws.session import OperatorError
from s3once.output import table
from s3once.records import RecordView, records_table

STATUSES = ("COMPLETED", "FAILED", "IN_PROGRESS")  # the layout's (chalicelib/aws/lock_table.py)
PAST_LEASE = "IN_PROGRESS past lease"
THREADS = 16


def open_shards(environment: Mapping[str, str]) -> int:
    """The stage's OPEN_INDEX_SHARDS, as the function reads it (the layout's default unset)."""
    from chalicelib.core.errors import ConfigurationError
    from chalicelib.core.settings import (
        DEFAULT_OPEN_SHARDS,
        MAX_OPEN_SHARDS,
        OPEN_SHARDS_VARIABLE,
        optional_int,
    )

    try:
        shards = optional_int(environment, OPEN_SHARDS_VARIABLE, 1, MAX_OPEN_SHARDS)
    except ConfigurationError as exc:
        raise OperatorError(str(exc)) from None
    return shards or DEFAULT_OPEN_SHARDS


@dataclass
class StatusReport:
    table: str
    source: str
    item_count: int  # DescribeTable's ItemCount (approximate, refreshed about every 6 h)
    completed_exact: bool
    counts: dict[str, collections.Counter[str]] = field(default_factory=dict)
    attention: list[RecordView] = field(default_factory=list)
    read_units: float = 0.0
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, processor: str, status: str) -> None:
        self.counts.setdefault(processor, collections.Counter())[status] += 1

    def total(self, status: str) -> int:
        return sum(counter[status] for counter in self.counts.values())

    def consumed(self, page: Mapping[str, Any]) -> None:
        with self._lock:
            self.requests += 1
            self.read_units += float(page.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0))

    @property
    def completed_estimate(self) -> int:
        others = self.total("FAILED") + self.total("IN_PROGRESS")
        return max(0, self.item_count - others)

    def to_json(self, now_ms: int) -> dict[str, Any]:
        return {
            "table": self.table,
            "source": self.source,
            "item_count": self.item_count,
            "completed_exact": self.completed_exact,
            "counts": {
                processor: {status: counter[status] for status in (*STATUSES, PAST_LEASE)}
                for processor, counter in sorted(self.counts.items())
            },
            "completed_estimate": None if self.completed_exact else self.completed_estimate,
            "attention": [record.to_json(now_ms) for record in self.attention],
            "read_capacity_units": self.read_units,
            "requests": self.requests,
        }

    def to_text(self, now_ms: int, limit: int) -> str:
        rows: list[tuple[object, ...]] = []
        for processor, counter in sorted(self.counts.items()):
            completed = counter["COMPLETED"] if self.completed_exact else "-"
            rows.append(
                (
                    processor,
                    completed,
                    counter["FAILED"],
                    counter["IN_PROGRESS"],
                    counter[PAST_LEASE],
                )
            )
        completed_total: object = (
            self.total("COMPLETED")
            if self.completed_exact
            else f"~{self.completed_estimate} (ItemCount)"
        )
        rows.append(
            (
                "all",
                completed_total,
                self.total("FAILED"),
                self.total("IN_PROGRESS"),
                self.total(PAST_LEASE),
            )
        )
        lines = [
            f"lock table {self.table}: read through {self.source}, {self.requests} requests,"
            f" {self.read_units:g} read capacity units",
            table(("processor", "COMPLETED", "FAILED", "IN_PROGRESS", "past lease"), rows),
        ]
        if not self.completed_exact:
            lines.append(
                "COMPLETED: DynamoDB's approximate ItemCount (refreshed about every 6 hours) minus"
                " the open records; --exact counts them with a parallel scan of the table"
            )
        if self.attention:
            shown = self.attention[:limit]
            lines += [
                "",
                f"needing attention ({len(self.attention)}, newest first"
                + (f", first {limit}" if len(self.attention) > limit else "")
                + "):",
                records_table(shown, now_ms),
            ]
        else:
            lines += ["", "nothing FAILED or stuck past its lease"]
        return "\n".join(lines)


def read_status(
    client: Any,
    table_name: str,
    shards: int,
    exact: bool,
    now_ms: int,
    progress: Callable[[str], None] | None = None,
    segments: int = THREADS,
) -> StatusReport:
    """The open records from every open-work shard; with `exact`, COMPLETED counted by a
    parallel segmented scan (`segments` threads) reporting its progress to `progress`."""
    from chalicelib.aws import lock_table as t

    item_count = int(client.describe_table(TableName=table_name)["Table"].get("ItemCount", 0))
    source = f"index {t.OPEN_INDEX} ({shards} shards per status)"
    report = StatusReport(table_name, source, item_count, exact, requests=1)
    values = t.open_shard_values(shards)
    with ThreadPoolExecutor(max_workers=min(THREADS, len(values))) as pool:
        pages = list(pool.map(lambda value: list(_open_entries(report, client, value)), values))
    for records in pages:
        for record in records:
            _add(report, record, now_ms)
    if exact:
        report.source += f" and a scan in {segments} segments"
        for processor, count in _scan_completed(report, client, segments, progress).items():
            report.counts.setdefault(processor, collections.Counter())["COMPLETED"] = count
    report.attention.sort(key=lambda record: record.updated_at_ms, reverse=True)
    return report


def _open_entries(report: StatusReport, client: Any, value: str) -> Iterator[RecordView]:
    from chalicelib.aws import lock_table as t

    paginator = client.get_paginator("query")
    for page in paginator.paginate(
        TableName=report.table,
        IndexName=t.OPEN_INDEX,
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": t.OPEN_SHARD},
        ExpressionAttributeValues={":s": {"S": value}},
        ScanIndexForward=False,
        ReturnConsumedCapacity="TOTAL",
    ):
        report.consumed(page)
        for item in page["Items"]:
            yield RecordView.from_item(item)


def _scan_completed(
    report: StatusReport, client: Any, segments: int, progress: Callable[[str], None] | None
) -> collections.Counter[str]:
    """COMPLETED records per processor, by a parallel segmented scan reading pk and status."""
    from chalicelib.aws import lock_table as t

    counts: collections.Counter[str] = collections.Counter()
    scanned = [0]
    lock = threading.Lock()

    def count_page(page: Mapping[str, Any]) -> None:
        report.consumed(page)
        found = collections.Counter(
            RecordView.from_item(item).parts.processor
            for item in page["Items"]
            if item.get(t.STATUS, {}).get("S") == t.COMPLETED
        )
        with lock:
            counts.update(found)
            scanned[0] += int(page.get("ScannedCount", 0))
            if progress:
                progress(f"scanned {scanned[0]} records, {report.read_units:g} read units")

    parallel_scan(
        client,
        segments,
        count_page,
        TableName=report.table,
        ProjectionExpression="#p, #s",
        ExpressionAttributeNames={"#p": t.PK, "#s": t.STATUS},
        ReturnConsumedCapacity="TOTAL",
    )
    return counts


def _add(report: StatusReport, record: RecordView, now_ms: int) -> None:
    processor = record.parts.processor
    report.count(processor, record.status)
    if record.status == "FAILED":
        report.attention.append(record)
    elif record.status == "IN_PROGRESS" and not record.lease_live(now_ms):
        report.count(processor, PAST_LEASE)
        report.attention.append(record)
