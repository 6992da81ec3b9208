"""The production parser against the previous one (reference_parser.py) on fuzzed lines.

Identical results, except where the previous parser was wrong on purpose-made input: it raised
(a year-0001 time, a 4,300-digit number), or it accepted a value no log holds (bytes sent of 14
digits or more, a time before 1970); those lines are now rejected.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pytest

from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import UnguardedWork
from chalicelib.processors.access_log.aggregate import HourTotals, hour_of_item
from chalicelib.processors.access_log.formats import (
    MAX_BYTES_DIGITS,
    MIN_YEAR,
    LineParser,
    LogEntry,
    LogFormat,
)
from chalicelib.processors.access_log.processor import AccessLogProcessor
from chalicelib.processors.access_log.settings import AccessLogSettings
from tests.fakes import FakeObjectStore
from tests.unit.processors.access_log.fuzz_lines import fuzzed_lines
from tests.unit.processors.access_log.reference_parser import ReferenceParser

LINES = 30_000
OBJ = ObjectRef("logs", "fuzzed.log", etag="e")
UNBOUNDED = 10**9


def expected(parser: ReferenceParser, line: bytes) -> LogEntry | None:
    """What the production parser must say: the reference's answer, within the bounds."""
    try:
        entry = parser.parse(line.rstrip(b"\r\n"))  # what the previous reader passed on
    except (ValueError, OverflowError):
        return None
    if entry is None:
        return None
    if entry.bytes_sent >= 10**MAX_BYTES_DIGITS or int(entry.hour.split("-")[0]) < MIN_YEAR:
        return None
    return entry


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    return fuzzed_lines(LINES, seed=2026)


@pytest.mark.parametrize("log_format", list(LogFormat))
def test_every_fuzzed_line_parses_as_the_reference_parser_says(
    lines: list[bytes], log_format: LogFormat
) -> None:
    reference, parser = ReferenceParser(log_format), LineParser(log_format)

    differences = [
        (line, expected(reference, line), parser.parse(line))
        for line in lines
        if parser.parse(line) != expected(reference, line)
    ]

    assert differences == []
    # The fuzz reaches both sides: many lines accepted, many rejected.
    accepted = sum(1 for line in lines if parser.parse(line) is not None)
    assert LINES // 10 < accepted < LINES - LINES // 10


def reference_totals(
    log_format: LogFormat, lines: Iterable[bytes]
) -> tuple[int, dict[str, HourTotals]]:
    """(lines counted, totals per hour) as the previous reader and parser would give them."""
    parser = ReferenceParser(log_format)
    counted = 0
    hours: dict[str, HourTotals] = {}
    for line in lines:
        if not line.rstrip(b"\r\n"):
            continue  # a blank line is not a request
        counted += 1
        entry = expected(parser, line)
        if entry is None:
            continue
        totals = hours.setdefault(entry.hour, HourTotals())
        totals.merge(
            HourTotals(
                requests=1,
                bytes=entry.bytes_sent,
                errors_4xx=int(400 <= entry.status < 500),
                errors_5xx=int(500 <= entry.status < 600),
                status={entry.status: 1},
            )
        )
    return counted, {hour: hours[hour] for hour in sorted(hours)}


@pytest.mark.parametrize("log_format", list(LogFormat))
def test_the_processor_totals_the_fuzzed_file_as_the_reference_does(
    lines: list[bytes], log_format: LogFormat
) -> None:
    store = FakeObjectStore()
    store.put(OBJ.bucket, OBJ.key, b"\n".join(lines) + b"\n", "text/plain")
    settings = AccessLogSettings(
        log_format=log_format,
        max_hours_before_upload=UNBOUNDED,
        max_hours_after_upload=UNBOUNDED,
        max_hours_per_file=UNBOUNDED,
        shards=1,
    )
    logger = logging.getLogger("test-differential")
    logger.propagate = False

    result = AccessLogProcessor(store, settings, logger=logger).process(OBJ, UnguardedWork())

    counted, totals = reference_totals(log_format, lines)
    assert {
        hour_of_item(inc.key): HourTotals.from_counters(inc.deltas) for inc in result.increments
    } == totals
    assert result.summary["lines"] == counted
    assert result.summary["accepted"] == sum(hours.requests for hours in totals.values())
