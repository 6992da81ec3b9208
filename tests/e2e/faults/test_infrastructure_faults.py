"""Outages of DynamoDB or S3 are never read as "already done": the invocation fails, Lambda
retries, and the retry processes the object exactly once.

Faults come from a proxy between the app and the local servers (tests/faults.py), so they
travel over HTTP through botocore's parsing and standard retries, as AWS's own would.
"""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from chalicelib.core.errors import IncompleteBatchError
from s3once.s3_events import created_event, put_upload
from tests.e2e.conftest import MakeApp, outcomes
from tests.faults import (
    S3_UNAVAILABLE,
    THROTTLED,
    FaultProxy,
    FaultRule,
    dynamodb_operation,
    s3_method,
)

pytestmark = pytest.mark.usefixtures("two_attempts")


def test_a_throttled_acquisition_propagates_and_the_retry_processes_the_object(
    make_app: MakeApp, dynamodb_proxy: FaultProxy
) -> None:
    app = make_app(app_dynamodb_url=dynamodb_proxy.url)
    upload = put_upload(app.s3, app.bucket, "throttled.txt", b"t", "text/plain")
    rule = FaultRule(dynamodb_operation("UpdateItem"), THROTTLED)
    dynamodb_proxy.rules.append(rule)

    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
        app.invoke(created_event(upload))
    assert rule.hits == 2  # botocore retried before giving up
    assert app.lock_items() == []

    dynamodb_proxy.rules.clear()
    assert outcomes(app.invoke(created_event(upload))) == [("processed", 1)]


def test_a_brief_throttle_is_absorbed_by_botocore_retries(
    make_app: MakeApp, dynamodb_proxy: FaultProxy
) -> None:
    app = make_app(app_dynamodb_url=dynamodb_proxy.url)
    upload = put_upload(app.s3, app.bucket, "brief.txt", b"b", "text/plain")
    dynamodb_proxy.rules.append(FaultRule(dynamodb_operation("UpdateItem"), THROTTLED, times=1))
    assert outcomes(app.invoke(created_event(upload))) == [("processed", 1)]


def test_a_throttled_completion_leaves_a_lease_that_a_later_delivery_takes_over(
    make_app: MakeApp, dynamodb_proxy: FaultProxy
) -> None:
    app = make_app(app_dynamodb_url=dynamodb_proxy.url, LEASE_SECONDS="1")
    upload = put_upload(app.s3, app.bucket, "half-done.txt", b"h", "text/plain")
    dynamodb_proxy.rules.append(FaultRule(dynamodb_operation("UpdateItem"), THROTTLED, after=1))

    # The completion and then the FAILED mark are throttled: the lease is what frees it.
    with pytest.raises(IncompleteBatchError, match="1 failed") as raised:
        app.invoke(created_event(upload))
    assert isinstance(raised.value.__cause__, ClientError)
    [held] = app.lock_items()
    assert held["status"]["S"] == "IN_PROGRESS"

    dynamodb_proxy.rules.clear()
    time.sleep(1.1)
    assert outcomes(app.invoke(created_event(upload))) == [("taken_over", 2)]


def test_a_failing_object_is_recorded_raised_and_processed_by_the_retry(
    make_app: MakeApp, s3_proxy: FaultProxy
) -> None:
    app = make_app(app_s3_url=s3_proxy.url)
    broken = put_upload(app.s3, app.bucket, "unlucky.txt", b"u", "text/plain")
    fine = put_upload(app.s3, app.bucket, "fine.txt", b"f", "text/plain")
    s3_proxy.rules.append(FaultRule(s3_method("HEAD"), S3_UNAVAILABLE, times=2))

    with pytest.raises(IncompleteBatchError, match="1 failed") as raised:
        app.invoke(created_event(broken, fine))
    assert isinstance(raised.value.__cause__, ClientError)
    assert [(r["key"], r["outcome"]) for r in raised.value.records] == [
        ("unlucky.txt", "failed"),
        ("fine.txt", "processed"),
    ]
    [failed] = [item for item in app.lock_items() if item["status"]["S"] == "FAILED"]
    assert "503" in failed["last_error"]["S"]

    retried = app.invoke(created_event(broken, fine))
    assert outcomes(retried) == [("processed", 2), ("skipped", 1)]
