"""Hostile or broken logs: bad lines are rejected lines; budgets refuse a file for good, early.

Streams count what the processor read from them, so "refused early" is asserted as "read
only a small part", never as a time.
"""

from __future__ import annotations

import datetime
import gzip
import io
import logging
import re
import tracemalloc
from typing import BinaryIO

import pytest

from chalicelib.access_log import aggregate
from chalicelib.access_log.aggregate import HourTotals
from chalicelib.access_log.formats import MIN_LINE_BYTES, PATTERNS, LogFormat
from chalicelib.access_log.processor import CHECK_EVERY_LINES, AccessLogProcessor
from chalicelib.access_log.reader import READ_BUFFER_BYTES
from chalicelib.access_log.settings import MIB, RATIO_FREE_BYTES, AccessLogSettings
from chalicelib.errors import (
    HourOutOfWindowError,
    InflationLimitError,
    LeaseLostError,
    PermanentProcessingError,
    TooManyHoursError,
)
from chalicelib.model import ObjectRef
from chalicelib.ports import ObjectMetadata, ProcessingResult, UnguardedWork, WorkContext
from tests.access_log_data import GzipBomb, Request, combined_line, log_bytes, requests, truth

UPLOAD = datetime.datetime(2026, 3, 10, 12, 30, tzinfo=datetime.UTC)
UPLOAD_MS = int(UPLOAD.timestamp() * 1000)
OBJ = ObjectRef("logs", "access.log", etag="e1", event_time_ms=UPLOAD_MS)
GOOD = combined_line(Request(UPLOAD - datetime.timedelta(hours=1), 200, 5))


class CountingStream(io.BytesIO):
    consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.consumed += len(data)
        return data


class StreamStore:
    """Hands out one given stream (a generated bomb, a counting stream)."""

    def __init__(self, stream: BinaryIO | GzipBomb) -> None:
        self.stream = stream

    def head(self, obj: ObjectRef) -> ObjectMetadata:
        raise NotImplementedError

    def open(self, obj: ObjectRef) -> BinaryIO:
        return self.stream  # type: ignore[return-value]


class FixedClock:
    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now


def quiet() -> logging.Logger:
    logger = logging.getLogger("test-hostile-logs")
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger


def run(
    body: bytes | GzipBomb,
    settings: AccessLogSettings | None = None,
    obj: ObjectRef = OBJ,
    work: WorkContext | None = None,
    clock: FixedClock | None = None,
) -> ProcessingResult:
    stream = CountingStream(body) if isinstance(body, bytes) else body
    processor = AccessLogProcessor(
        StreamStore(stream), settings or AccessLogSettings(shards=1), clock, quiet()
    )
    return processor.process(obj, work or UnguardedWork())


def line_at(stamp: str, sent: str = "5") -> bytes:
    return f'192.0.2.7 - - [{stamp}] "GET / HTTP/1.1" 200 {sent} "-" "-"'.encode()


@pytest.mark.parametrize(
    "line",
    [
        line_at("01/Jan/0001:00:30:00 +0100"),  # before year 1: OverflowError before
        line_at("31/Dec/9999:23:30:00 -0100"),  # after year 9999: OverflowError before
        line_at("01/Jan/0001:00:30:00 +0000"),  # a time no log holds
        line_at("31/Dec/1969:23:59:59 +0000"),
        line_at("01/Mar/2026:10:00:00 +0000", sent="9" * 39),  # accepted before: 39 digits
        line_at("01/Mar/2026:10:00:00 +0000", sent="9" * 4300),  # ValueError before
        line_at("01/Mar/2026:10:00:00 +0000", sent="1" + "0" * 13),  # 10 TB in one response
    ],
    ids=["year-1-overflow", "year-10000", "year-1", "1969", "39-digits", "4300-digits", "10TB"],
)
def test_an_impossible_value_is_a_rejected_line_not_an_exception(line: bytes) -> None:
    result = run(GOOD + b"\n" + line + b"\n")

    assert result.summary["lines"] == 2
    assert result.summary["rejected"] == 1
    assert [increment.deltas["bytes"] for increment in result.increments] == [5]


def test_the_largest_accepted_bytes_field_has_13_digits() -> None:
    result = run(line_at("10/Mar/2026:10:00:00 +0000", sent="9" * 13) + b"\n")

    assert [increment.deltas["bytes"] for increment in result.increments] == [10**13 - 1]


def test_rejected_lines_are_sampled_as_escaped_text(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test-hostile-samples")
    bad = [b'\x00\x1b[31mred\r\xff"quoted\\', line_at("01/Jan/0001:00:30:00 +0100")]
    body = b"\n".join([GOOD, *bad, b"x" * 70_000]) + b"\n"

    with caplog.at_level(logging.WARNING, logger="test-hostile-samples"):
        AccessLogProcessor(StreamStore(CountingStream(body)), logger=logger).process(
            OBJ, UnguardedWork()
        )

    fields = [getattr(r, "s3once_fields", {}) for r in caplog.records]
    samples = {f["reason"]: f["sample"] for f in fields if "sample" in f}
    assert samples["no match"] == '\\x00\\x1b[31mred\\r\\xff"quoted\\\\'
    assert samples["impossible time"].startswith("192.0.2.7 - - [01/Jan/0001")
    assert samples["too long"] == "x" * 200
    assert all(value.isprintable() and value.isascii() for value in samples.values())


def test_a_line_too_far_before_the_upload_fails_the_file_permanently() -> None:
    inside = combined_line(Request(UPLOAD - datetime.timedelta(hours=48), 200, 5))
    old = combined_line(Request(UPLOAD - datetime.timedelta(hours=49), 200, 5))
    settings = AccessLogSettings(max_hours_before_upload=48, shards=1)

    assert run(inside + b"\n", settings).summary["accepted"] == 1
    with pytest.raises(HourOutOfWindowError, match="more than 48 hours before") as raised:
        run(GOOD + b"\n" + old + b"\n", settings)

    assert isinstance(raised.value, PermanentProcessingError)


def _at(event_time_ms: int | None) -> ObjectRef:
    return ObjectRef("logs", "access.log", etag="e1", event_time_ms=event_time_ms)


def test_a_line_after_the_upload_beyond_the_skew_fails_the_file_permanently() -> None:
    within = combined_line(Request(UPLOAD + datetime.timedelta(hours=2), 200, 5))
    beyond = combined_line(Request(UPLOAD + datetime.timedelta(hours=3), 200, 5))

    assert run(within + b"\n").summary["accepted"] == 1
    with pytest.raises(HourOutOfWindowError, match="more than 2 hours after"):
        run(beyond + b"\n")


def test_without_an_upload_time_the_window_is_around_now() -> None:
    line = combined_line(Request(UPLOAD + datetime.timedelta(hours=30), 200, 5))
    later = FixedClock(UPLOAD_MS + 30 * 3_600_000)

    assert run(line + b"\n", obj=_at(None), clock=later).summary["accepted"] == 1
    with pytest.raises(HourOutOfWindowError):
        run(line + b"\n", obj=_at(None), clock=FixedClock(UPLOAD_MS))


def test_more_distinct_hours_than_allowed_fail_the_file_permanently() -> None:
    start = UPLOAD - datetime.timedelta(hours=30)
    day = [Request(start + datetime.timedelta(hours=h), 200, 1) for h in range(24)]
    settings = AccessLogSettings(max_hours_per_file=24, shards=1)

    assert run(log_bytes(day, "combined"), settings).summary["hours"] == 24
    extra = Request(start + datetime.timedelta(hours=24), 200, 1)
    with pytest.raises(TooManyHoursError, match="more than 24 distinct hours"):
        run(log_bytes([*day, extra], "combined"), settings)


def test_a_refused_file_is_refused_before_the_rest_is_read() -> None:
    implausible = combined_line(Request(UPLOAD - datetime.timedelta(days=3000), 200, 5))
    rest = (
        log_bytes(
            requests(5_000, hours=3, seed=1, start=UPLOAD - datetime.timedelta(hours=4)), "combined"
        )
        * 12
    )
    stream = CountingStream(GOOD + b"\n" + implausible + b"\n" + rest)

    with pytest.raises(HourOutOfWindowError):
        AccessLogProcessor(StreamStore(stream), logger=quiet()).process(OBJ, UnguardedWork())

    assert len(rest) > 8 * MIB
    assert stream.consumed < 2 * MIB


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
