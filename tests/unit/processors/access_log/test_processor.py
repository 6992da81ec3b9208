"""The access-log processor on an in-memory object store: totals, rejects, gzip, non-text."""

from __future__ import annotations

import gzip
import logging
import os

import pytest

from chalicelib.core.errors import PermanentProcessingError
from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import ProcessingResult, UnguardedWork
from chalicelib.processors.access_log.aggregate import HourTotals, hour_of_item
from chalicelib.processors.access_log.errors import NotTextError
from chalicelib.processors.access_log.formats import LogFormat
from chalicelib.processors.access_log.processor import AccessLogProcessor
from chalicelib.processors.access_log.reader import MAX_LINE_BYTES
from chalicelib.processors.access_log.settings import AccessLogSettings
from tests.access_log_data import log_bytes, requests, truth
from tests.fakes import FakeObjectStore

OBJ = ObjectRef(bucket="logs", key="access.log", etag="e1")


def totals_of(result: ProcessingResult) -> dict[str, object]:
    return {
        hour_of_item(inc.key): HourTotals.from_counters(inc.deltas).to_json()
        for inc in result.increments
    }


def holding(body: bytes) -> FakeObjectStore:
    store = FakeObjectStore()
    store.put(OBJ.bucket, OBJ.key, body, "text/plain")
    return store


def run(body: bytes, log_format: str = "auto") -> ProcessingResult:
    logger = logging.getLogger("test-access-log")
    settings = AccessLogSettings(log_format=None if log_format == "auto" else LogFormat(log_format))
    return AccessLogProcessor(holding(body), settings, logger=logger).process(OBJ, UnguardedWork())


@pytest.mark.parametrize("fmt", ["combined", "s3"])
def test_totals_per_hour_equal_the_generated_truth(fmt: str) -> None:
    items = requests(500, hours=30, seed=7)

    result = run(log_bytes(items, fmt, garbage_every=50))

    assert totals_of(result) == truth(items)
    assert result.summary["format"] == fmt
    assert result.summary["accepted"] == 500
    assert result.summary["rejected"] == 10


def test_gzip_is_detected_from_the_bytes_not_the_name() -> None:
    items = requests(200, hours=5, seed=8)

    result = run(gzip.compress(log_bytes(items, "combined")))  # the key says ".log"

    assert totals_of(result) == truth(items)


def test_concatenated_gzip_members_are_read_to_the_end() -> None:
    first, second = requests(50, 2, seed=1), requests(60, 3, seed=2)
    body = gzip.compress(log_bytes(first, "s3")) + gzip.compress(log_bytes(second, "s3"))

    assert totals_of(run(body)) == truth(first + second)


def test_the_configured_format_is_used_without_detection() -> None:
    items = requests(20, hours=1, seed=9)

    result = run(log_bytes(items, "combined"), log_format="s3")

    assert result.increments == ()
    assert result.summary["rejected"] == 20


def test_malformed_lines_are_rejected_and_logged_as_samples_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    items = requests(10, hours=1, seed=3)
    body = log_bytes(items, "combined") + b"not a log line\n" + b"x" * (MAX_LINE_BYTES + 10)
    logger = logging.getLogger("test-access-log")
    logger.propagate = True

    with caplog.at_level(logging.WARNING, logger="test-access-log"):
        result = AccessLogProcessor(holding(body), logger=logger).process(OBJ, UnguardedWork())

    assert totals_of(result) == truth(items)
    assert result.summary["rejected"] == 2
    rejected = [r for r in caplog.records if r.getMessage() == "access log line rejected"]
    assert len(rejected) == 2


def test_a_binary_object_fails_permanently() -> None:
    with pytest.raises(NotTextError) as raised:
        run(os.urandom(64 * 1024))

    assert isinstance(raised.value, PermanentProcessingError)


def test_a_gzip_of_binary_content_fails_permanently() -> None:
    with pytest.raises(NotTextError):
        run(gzip.compress(os.urandom(64 * 1024)))


def test_a_truncated_gzip_stream_fails_permanently() -> None:
    body = gzip.compress(log_bytes(requests(3000, 2, seed=4), "combined"))

    with pytest.raises(NotTextError):
        run(body[: len(body) // 2])


def test_a_corrupt_gzip_header_fails_permanently() -> None:
    with pytest.raises(NotTextError):
        run(b"\x1f\x8b\x00garbage-after-the-magic" * 10)


def test_an_empty_object_has_no_totals() -> None:
    result = run(b"")

    assert result.increments == ()
    assert result.summary["lines"] == 0
