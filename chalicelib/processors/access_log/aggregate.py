"""Totals per UTC hour, and their encoding as counters of one aggregate item per hour.

An hour's item holds flat counters so that DynamoDB's ADD can create and increase each one
without a read: `requests`, `bytes`, `errors_4xx`, `errors_5xx` and `status_<code>`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

from chalicelib.core.model import JsonValue
from chalicelib.core.ports import CounterIncrement
from chalicelib.processors.access_log.formats import (
    MIN_LINE_BYTES,
    PATTERNS,
    LogFormat,
    UtcHour,
    hour_cache_key,
    utc_hour,
)

REQUESTS = "requests"
BYTES = "bytes"
ERRORS_4XX = "errors_4xx"
ERRORS_5XX = "errors_5xx"
STATUS_PREFIX = "status_"
SHARD_SEPARATOR = "#"
# Keys (local minute, offset, status) counted before they are folded into totals per hour.
MAX_KEYS = 20_000
MAX_KEPT_SAMPLES = 5


@dataclass
class HourTotals:
    requests: int = 0
    bytes: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    status: dict[int, int] = field(default_factory=dict)

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


Key: TypeAlias = tuple[bytes, bytes, bytes]  # (local minute, offset, status) as written


class Tally:
    """Counts the lines of one format per (local minute, offset, status), in plain dicts.

    A line costs one pattern match, one dict lookup and two list updates: no object of its own,
    no time conversion. A key's UTC hour is worked out once, when the key is first seen, and
    handed to `admit` (which may refuse the file); lines whose time cannot be are rejected.
    Lines too short to match any line of the format are set aside in C, unlooked at, so a
    flood of tiny lines costs little. Past MAX_KEYS keys the counts are folded into totals per
    hour, so memory stays bounded however many offsets and statuses a file mixes.
    """

    def __init__(self, log_format: LogFormat, admit: Callable[[UtcHour], None]) -> None:
        self._match = PATTERNS[log_format].match
        self._min_bytes = MIN_LINE_BYTES[log_format]
        self._admit = admit
        self._counts: dict[Key, list[int]] = {}  # [lines, bytes sent]
        self._hour_of: dict[Key, str | None] = {}
        self._hours: dict[tuple[bytes, bytes], UtcHour | None] = {}
        self._folded: dict[str, HourTotals] = {}
        self.hours: set[str] = set()
        self.lines = 0
        self.impossible_time: list[bytes] = []  # a few lines whose time cannot be, for samples

    def feed(self, lines: list[bytes]) -> list[bytes]:
        """Count the lines (none blank); returns those that do not match the format."""
        self.lines += len(lines)
        misses: list[bytes] = []
        if lines and min(map(len, lines)) < self._min_bytes:
            lengths = list(map(len, lines))
            misses = list(itertools.compress(lines, map(self._min_bytes.__gt__, lengths)))
            lines = list(itertools.compress(lines, map(self._min_bytes.__le__, lengths)))
        get = self._counts.get
        for line in lines:
            found = self._match(line)
            if found is None:
                misses.append(line)
                continue
            minute, offset, status, size = found.groups()
            key = (minute, offset, status)
            entry = get(key)
            if entry is None:
                entry = self._first(key, line)
            entry[0] += 1
            if size is not None:
                entry[1] += int(size)
        if misses and b"\r" in b"".join(misses):
            misses = self._retry_stripped(misses)
        if len(self._counts) > MAX_KEYS:
            self._fold()
        return misses

    def _retry_stripped(self, misses: list[bytes]) -> list[bytes]:
        # A CRLF line matches as it is; a line ending in several CRs only without them.
        retry = [line.rstrip(b"\r") for line in misses if line.endswith(b"\r")]
        if not retry:
            return misses
        self.lines -= len(retry)  # counted again by feed
        return [line for line in misses if not line.endswith(b"\r")] + self.feed(retry)

    def _first(self, key: Key, line: bytes) -> list[int]:
        local_minute, offset, _ = key
        cache_key = hour_cache_key(local_minute, offset)
        try:
            hour = self._hours[cache_key]
        except KeyError:
            hour = self._hours[cache_key] = utc_hour(local_minute, offset)
        if hour is None:
            self._hour_of[key] = None
            if len(self.impossible_time) < MAX_KEPT_SAMPLES:
                self.impossible_time.append(line)
        else:
            if hour.label not in self.hours:
                self._admit(hour)
                self.hours.add(hour.label)
            self._hour_of[key] = hour.label
        entry = self._counts[key] = [0, 0]
        return entry

    def _fold(self) -> None:
        hours = self._folded
        for key, (count, sent) in self._counts.items():
            hour = self._hour_of[key]
            if hour is None:
                continue
            totals = hours.get(hour)
            if totals is None:
                totals = hours[hour] = HourTotals()
            status = int(key[2])
            totals.requests += count
            totals.bytes += sent
            if 400 <= status < 500:
                totals.errors_4xx += count
            elif 500 <= status < 600:
                totals.errors_5xx += count
            totals.status[status] = totals.status.get(status, 0) + count
        self._counts.clear()
        self._hour_of.clear()
        self._hours.clear()

    @property
    def accepted(self) -> int:
        self._fold()
        return sum(totals.requests for totals in self._folded.values())

    def totals(self) -> dict[str, HourTotals]:
        """Totals per UTC hour, in hour order."""
        self._fold()
        return {hour: self._folded[hour] for hour in sorted(self._folded)}


def increments(hours: Mapping[str, HourTotals], shard: int | None) -> tuple[CounterIncrement, ...]:
    """One increment per hour, in key order (the order a multi-step commit follows).

    With a shard, the item of each hour is `<hour>#<shard>`: a file adds to one shard of each
    hour, and the report sums an hour's shards.
    """
    suffix = "" if shard is None else f"{SHARD_SEPARATOR}{shard}"
    return tuple(
        CounterIncrement(key=hour + suffix, deltas=totals.counters())
        for hour, totals in sorted(hours.items())
    )


def hour_of_item(pk: str) -> str:
    """The hour an aggregate item counts, sharded (`<hour>#<k>`) or not (`<hour>`)."""
    return pk.partition(SHARD_SEPARATOR)[0]
