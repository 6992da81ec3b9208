"""Totals per UTC hour, and their encoding as counters of one aggregate item per hour.

An hour's item holds flat counters so that DynamoDB's ADD can create and increase each one
without a read: `requests`, `bytes`, `errors_4xx`, `errors_5xx` and `status_<code>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chalicelib.access_log.formats import LogEntry
from chalicelib.model import JsonValue
from chalicelib.ports import CounterIncrement

REQUESTS = "requests"
BYTES = "bytes"
ERRORS_4XX = "errors_4xx"
ERRORS_5XX = "errors_5xx"
STATUS_PREFIX = "status_"


@dataclass
class HourTotals:
    requests: int = 0
    bytes: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    status: dict[int, int] = field(default_factory=dict)

    def add(self, entry: LogEntry) -> None:
        self.requests += 1
        self.bytes += entry.bytes_sent
        if 400 <= entry.status < 500:
            self.errors_4xx += 1
        elif 500 <= entry.status < 600:
            self.errors_5xx += 1
        self.status[entry.status] = self.status.get(entry.status, 0) + 1

    def merge(self, other: HourTotals) -> None:
        self.requests += other.requests
        self.bytes += other.bytes
        self.errors_4xx += other.errors_4xx
        self.errors_5xx += other.errors_5xx
        for code, count in other.status.items():
            self.status[code] = self.status.get(code, 0) + count

    def counters(self) -> dict[str, int]:
        counters = {
            REQUESTS: self.requests,
            BYTES: self.bytes,
            ERRORS_4XX: self.errors_4xx,
            ERRORS_5XX: self.errors_5xx,
        }
        counters.update({f"{STATUS_PREFIX}{code}": n for code, n in sorted(self.status.items())})
        return {name: value for name, value in counters.items() if value}

    @classmethod
    def from_counters(cls, counters: Mapping[str, int]) -> HourTotals:
        return cls(
            requests=counters.get(REQUESTS, 0),
            bytes=counters.get(BYTES, 0),
            errors_4xx=counters.get(ERRORS_4XX, 0),
            errors_5xx=counters.get(ERRORS_5XX, 0),
            status={
                int(name[len(STATUS_PREFIX) :]): value
                for name, value in counters.items()
                if name.startswith(STATUS_PREFIX) and name[len(STATUS_PREFIX) :].isdigit()
            },
        )

    def to_json(self) -> dict[str, JsonValue]:
        """The report's shape: requests, bytes, 4xx, 5xx and requests per status code."""
        return {
            "requests": self.requests,
            "bytes": self.bytes,
            "4xx": self.errors_4xx,
            "5xx": self.errors_5xx,
            "status": {str(code): n for code, n in sorted(self.status.items())},
        }


class Aggregate:
    """Totals per hour of the entries added; memory grows with the hours, not the lines."""

    def __init__(self) -> None:
        self.hours: dict[str, HourTotals] = {}

    def add(self, entry: LogEntry) -> None:
        totals = self.hours.get(entry.hour)
        if totals is None:
            totals = self.hours[entry.hour] = HourTotals()
        totals.add(entry)

    def increments(self) -> tuple[CounterIncrement, ...]:
        """One increment per hour, in hour order (the order a multi-step commit follows)."""
        return tuple(
            CounterIncrement(key=hour, deltas=self.hours[hour].counters())
            for hour in sorted(self.hours)
        )
