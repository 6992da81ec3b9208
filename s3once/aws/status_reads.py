"""`s3once status`: how many records per processor and status, and the ones that need an
operator (FAILED, or IN_PROGRESS past their lease), newest first.

With the lock table's `by-status` index (created by `s3once create-tables`) it reads only the
FAILED and IN_PROGRESS index entries; the COMPLETED count is DescribeTable's ItemCount (free,
refreshed by DynamoDB about every six hours) minus those, unless `exact` asks to count them
on the index too. Without the index it scans the table once. Every read reports the capacity
it consumed, so the cost is on the screen.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from s3once.output import table
from s3once.records import RecordView, records_table, summary_attributes

STATUSES = ("COMPLETED", "FAILED", "IN_PROGRESS")  # the layout's (chalicelib/aws/lock_table.py)
PAST_LEASE = "IN_PROGRESS past lease"


@dataclass
class StatusReport:
    table: str
    source: str  # "index by-status" or "scan"
    item_count: int  # DescribeTable's ItemCount (approximate, refreshed about every 6 h)
    completed_exact: bool
    counts: dict[str, collections.Counter[str]] = field(default_factory=dict)
    attention: list[RecordView] = field(default_factory=list)
    read_units: float = 0.0

    def count(self, processor: str, status: str) -> None:
        self.counts.setdefault(processor, collections.Counter())[status] += 1

    def total(self, status: str) -> int:
        return sum(counter[status] for counter in self.counts.values())

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
            f"lock table {self.table}: read through {self.source},"
            f" {self.read_units:g} read capacity units",
            table(("processor", "COMPLETED", "FAILED", "IN_PROGRESS", "past lease"), rows),
        ]
        if not self.completed_exact:
            lines.append(
                "COMPLETED per processor: --exact (reads every COMPLETED index entry); ItemCount"
                " is refreshed by DynamoDB about every 6 hours"
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
    client: Any, table_name: str, has_status_index: bool, exact: bool, now_ms: int
) -> StatusReport:
    from chalicelib.aws import lock_table as t

    item_count = int(client.describe_table(TableName=table_name)["Table"].get("ItemCount", 0))
    if not has_status_index:
        report = StatusReport(table_name, "a scan (no by-status index)", item_count, True)
        for record in _pages(report, client, "scan", TableName=table_name, **_projection()):
            _add(report, record, now_ms)
        _sort(report)
        return report
    report = StatusReport(table_name, f"index {t.STATUS_INDEX}", item_count, exact)
    wanted = t.STATUSES if exact else (t.FAILED, t.IN_PROGRESS)
    for status in wanted:
        query: dict[str, Any] = {
            "TableName": table_name,
            "IndexName": t.STATUS_INDEX,
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": t.STATUS},
            "ExpressionAttributeValues": {":s": {"S": status}},
            "ScanIndexForward": False,
        }
        if status == t.COMPLETED:
            query.update(ProjectionExpression=f"{t.PK}, #s")
        for record in _pages(report, client, "query", **query):
            _add(report, record, now_ms)
    _sort(report)
    return report


def _projection() -> dict[str, Any]:
    names = {f"#a{i}": name for i, name in enumerate(summary_attributes())}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}


def _pages(
    report: StatusReport, client: Any, operation: str, **request: Any
) -> Iterator[RecordView]:
    paginator = client.get_paginator(operation)
    for page in paginator.paginate(ReturnConsumedCapacity="TOTAL", **request):
        report.read_units += float(page.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0))
        for item in page["Items"]:
            yield RecordView.from_item(item)


def _add(report: StatusReport, record: RecordView, now_ms: int) -> None:
    processor = record.parts.processor
    report.count(processor, record.status)
    if record.status == "FAILED":
        report.attention.append(record)
    elif record.status == "IN_PROGRESS" and not record.lease_live(now_ms):
        report.count(processor, PAST_LEASE)
        report.attention.append(record)


def _sort(report: StatusReport) -> None:
    report.attention.sort(key=lambda record: record.updated_at_ms, reverse=True)
