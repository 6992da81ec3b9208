"""Budgets while streaming: inflation caps against gzip bombs, floods of blank, tiny or
too-long lines in flat memory, bounded count keys, and lease checks.

Streams count what the processor read from them, so "refused early" is asserted as "read
only a small part", never as a time."""

from __future__ import annotations

import datetime
import gzip
import re
import tracemalloc

import pytest

from chalicelib.core.errors import LeaseLostError, PermanentProcessingError
from chalicelib.processors.access_log import aggregate
from chalicelib.processors.access_log.aggregate import HourTotals
from chalicelib.processors.access_log.errors import InflationLimitError
from chalicelib.processors.access_log.formats import MIN_LINE_BYTES, PATTERNS, LogFormat
from chalicelib.processors.access_log.processor import CHECK_EVERY_LINES, AccessLogProcessor
from chalicelib.processors.access_log.reader import READ_BUFFER_BYTES
from chalicelib.processors.access_log.settings import MIB, RATIO_FREE_BYTES, AccessLogSettings
from tests.access_log_data import GzipBomb, log_bytes, requests, truth
from tests.unit.processors.access_log.streams import (
    GOOD,
    OBJ,
    UPLOAD,
    CountingStream,
    StreamStore,
    quiet,
    run,
)


def test_a_10_gb_gzip_bomb_of_newlines_is_refused_early_in_flat_memory() -> None:
    bomb = GzipBomb(b"\n" * MIB, 10_000)
    tracemalloc.start()
    try:
        with pytest.raises(InflationLimitError, match="ACCESS_LOG_MAX_INFLATION_RATIO") as raised:
            run(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert isinstance(raised.value, PermanentProcessingError)
    assert bomb.inflated_size > 10 * 10**9 and bomb.size > 10 * 10**6
    assert bomb.consumed <= 2 * READ_BUFFER_BYTES  # what the reader buffers, not the bomb
    assert peak < 8 * MIB


def test_inflated_bytes_beyond_the_cap_are_refused_whatever_the_ratio() -> None:
    unit = log_bytes(
        requests(1000, hours=1, seed=2, start=UPLOAD - datetime.timedelta(hours=2)), "combined"
    )
    settings = AccessLogSettings(max_inflated_bytes=32 * MIB, max_inflation_ratio=1100, shards=1)

    small = run(GzipBomb(unit, 16), settings)  # read to its end, trailer included
    with pytest.raises(InflationLimitError, match="ACCESS_LOG_MAX_INFLATED_MIB"):
        run(GzipBomb(unit, 10_000), settings)

    assert small.summary["accepted"] == 16 * 1000


def test_a_small_file_is_never_judged_by_its_ratio() -> None:
    lines = GOOD + b"\n"
    body = gzip.compress(lines * (RATIO_FREE_BYTES // len(lines)))

    result = run(body, AccessLogSettings(max_inflation_ratio=2, shards=1))

    assert result.summary["accepted"] == RATIO_FREE_BYTES // len(lines)


def test_an_empty_line_flood_counts_no_lines() -> None:
    result = run(GzipBomb(b"\n" * MIB, 8))

    assert (result.summary["lines"], result.increments) == (0, ())


class LosingWork:
    """A lease that is lost at the `lose_at`-th check."""

    def __init__(self, lose_at: int) -> None:
        self.checks = 0
        self._lose_at = lose_at

    @property
    def request_id(self) -> str:
        return "losing"

    @property
    def lost(self) -> bool:
        return self.checks >= self._lose_at

    def check(self) -> None:
        self.checks += 1
        if self.lost:
            raise LeaseLostError("taken over")


def test_the_lease_is_checked_while_streaming_and_a_lost_lease_stops_the_work() -> None:
    body = (
        log_bytes(
            requests(5_000, hours=3, seed=3, start=UPLOAD - datetime.timedelta(hours=4)), "combined"
        )
        * 20
    )  # 100,000 lines
    counting, losing = LosingWork(lose_at=10**9), LosingWork(lose_at=2)
    stream = CountingStream(body)

    run(body, work=counting)
    with pytest.raises(LeaseLostError):
        AccessLogProcessor(StreamStore(stream), logger=quiet()).process(OBJ, losing)

    assert counting.checks >= 100_000 // (CHECK_EVERY_LINES * 5 // 4)
    assert losing.checks == 2
    assert stream.consumed < len(body) // 2


def test_a_file_of_only_too_long_lines_is_read_in_flat_memory() -> None:
    body = (b"a b " * 25_600 + b"\n") * 160  # 16 MB of 100 KiB lines, none kept
    tracemalloc.start()
    try:
        result = run(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (result.summary["lines"], result.summary["rejected"]) == (160, 160)
    assert peak < 4 * MIB  # the body was made before tracing began


def test_past_the_key_limit_counts_are_folded_into_hours_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aggregate, "MAX_KEYS", 50)
    items = requests(3000, hours=20, seed=12, start=UPLOAD - datetime.timedelta(hours=30))

    result = run(log_bytes(items, "combined", garbage_every=100))

    assert {
        inc.key: HourTotals.from_counters(inc.deltas).to_json() for inc in result.increments
    } == truth(items)
    assert result.summary["accepted"] == 3000


@pytest.mark.parametrize("log_format", list(LogFormat))
def test_lines_shorter_than_a_format_allows_are_set_aside_unparsed(log_format: LogFormat) -> None:
    shortest = re._parser.parse(PATTERNS[log_format].pattern).getwidth()[0]  # type: ignore[attr-defined]
    good = log_bytes(
        requests(5, 1, seed=1, start=UPLOAD - datetime.timedelta(hours=2)), log_format.value
    )

    result = run(
        good + b"x\n" * 1000 + b"\r\n" * 10, AccessLogSettings(log_format=log_format, shards=1)
    )

    assert MIN_LINE_BYTES[log_format] == shortest
    assert (result.summary["lines"], result.summary["accepted"]) == (1005, 5)
