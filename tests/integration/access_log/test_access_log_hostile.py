"""Hostile logs through the real pipeline on DynamoDB Local and moto's S3: nothing is left
half-committed, and a bomb is refused for good."""

from __future__ import annotations

import datetime

import pytest

from tests.access_log_data import START, GzipBomb, Request, combined_line, log_bytes
from tests.integration.access_log.access_log_harness import (
    LogFile,
    Stack,
    TransactionCounter,
    truth_of,
    upload,
    worker,
)

pytestmark = pytest.mark.dynamodb_local_only


def test_an_impossible_line_in_a_later_step_no_longer_leaves_totals_half_committed(
    stack: Stack,
) -> None:
    # 150 hours: two fenced steps. A 39-digit bytes field in hour 120 (the second step) used to
    # be counted, fail DynamoDB's 38 digits after step 1 had committed, and fail every takeover.
    items = [Request(START + datetime.timedelta(hours=h, minutes=5), 200, 10) for h in range(150)]
    hostile = combined_line(Request(START + datetime.timedelta(hours=120), 200, 1))
    hostile = hostile.replace(b" 200 1 ", b" 200 " + b"9" * 39 + b" ")
    overflowing = b'h - - [01/Jan/0001:00:30:00 +0100] "GET / HTTP/1.1" 200 1'
    file = LogFile(
        "big/hostile.log",
        log_bytes(items, "combined") + hostile + b"\n" + overflowing,
        tuple(items),
    )
    w = worker(stack)
    counter = TransactionCounter(w.dynamodb)

    assert w.deliver(upload(stack, file)) == ["processed"]
    assert counter.calls == 2
    assert stack.totals() == truth_of([file])
    [record] = stack.lock_items()
    assert record["status"]["S"] == "COMPLETED"
    assert record["result"]["M"]["rejected"]["N"] == "2"


def test_a_gzip_bomb_fails_permanently_and_commits_nothing(stack: Stack) -> None:
    bomb = GzipBomb(b"\n" * (1 << 20), 1000)  # 1 MB of gzip, 1 GiB of newlines
    file = LogFile("bomb.log.gz", bomb.read(), ())

    outcome = worker(stack).deliver(upload(stack, file))

    assert outcome == ["failed_permanently"]
    assert stack.totals() == {}
    [record] = stack.lock_items()
    assert record["status"]["S"] == "FAILED"
    assert "ACCESS_LOG_MAX_INFLATION_RATIO" in str(record)
