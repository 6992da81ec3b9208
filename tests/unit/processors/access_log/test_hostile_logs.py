"""Hostile or broken lines: a bad line is a rejected line; the hour window and the hour cap
refuse a file for good, before the rest is read."""

from __future__ import annotations

import datetime
import logging

import pytest

from chalicelib.core.errors import PermanentProcessingError
from chalicelib.core.ports import UnguardedWork
from chalicelib.processors.access_log.errors import HourOutOfWindowError, TooManyHoursError
from chalicelib.processors.access_log.processor import AccessLogProcessor
from chalicelib.processors.access_log.settings import MIB, AccessLogSettings
from tests.access_log_data import Request, combined_line, log_bytes, requests
from tests.unit.processors.access_log.streams import (
    GOOD,
    OBJ,
    UPLOAD,
    UPLOAD_MS,
    CountingStream,
    FixedClock,
    StreamStore,
    at,
    line_at,
    quiet,
    run,
)


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


def test_a_line_after_the_upload_beyond_the_skew_fails_the_file_permanently() -> None:
    within = combined_line(Request(UPLOAD + datetime.timedelta(hours=2), 200, 5))
    beyond = combined_line(Request(UPLOAD + datetime.timedelta(hours=3), 200, 5))

    assert run(within + b"\n").summary["accepted"] == 1
    with pytest.raises(HourOutOfWindowError, match="more than 2 hours after"):
        run(beyond + b"\n")


def test_without_an_upload_time_the_window_is_around_now() -> None:
    line = combined_line(Request(UPLOAD + datetime.timedelta(hours=30), 200, 5))
    later = FixedClock(UPLOAD_MS + 30 * 3_600_000)

    assert run(line + b"\n", obj=at(None), clock=later).summary["accepted"] == 1
    with pytest.raises(HourOutOfWindowError):
        run(line + b"\n", obj=at(None), clock=FixedClock(UPLOAD_MS))


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
