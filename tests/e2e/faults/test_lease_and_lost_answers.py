"""Through the Chalice handler on DynamoDB Local: answers lost on the way back, errors after
the acquisition, and a lease renewed while the work outlasts it (issue 7, findings 1 to 3).

The lost answers come from a proxy that forwards the write (DynamoDB applies it) and answers
500 instead of DynamoDB's answer, so botocore sends the same write again.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.core.errors import IncompleteBatchError
from s3once.s3_events import created_event, put_upload
from tests.e2e.conftest import MakeApp, outcomes
from tests.faults import (
    LOST_RESPONSE,
    S3_UNAVAILABLE,
    SLOW,
    THROTTLED,
    FaultProxy,
    FaultRule,
    dynamodb_operation,
    s3_method,
)

pytestmark = pytest.mark.usefixtures("two_attempts")


def lose_answer(proxy: FaultProxy, after: int) -> FaultRule:
    """Lose the answer to the UpdateItem after the first `after` of them."""
    rule = FaultRule(dynamodb_operation("UpdateItem"), LOST_RESPONSE, times=1, after=after)
    proxy.rules.append(rule)
    return rule


def test_a_lost_answer_to_the_acquisition_is_our_own_lease_not_busy(
    make_app: MakeApp, dynamodb_proxy: FaultProxy
) -> None:
    """Finding 2: the resent acquisition found our own IN_PROGRESS record: `busy`, retried."""
    app = make_app(app_dynamodb_url=dynamodb_proxy.url)
    upload = put_upload(app.s3, app.bucket, "acquired.txt", b"a", "text/plain")
    rule = lose_answer(dynamodb_proxy, after=0)
    assert outcomes(app.invoke(created_event(upload))) == [("processed", 1)]
    assert rule.hits == 1
    [done] = app.lock_items()
    assert done["status"]["S"] == "COMPLETED"


def test_a_lost_answer_to_the_completion_reports_processed(
    make_app: MakeApp, dynamodb_proxy: FaultProxy
) -> None:
    """Finding 1: the completion was stored, yet the resend's failed condition read `lease_lost`."""
    app = make_app(app_dynamodb_url=dynamodb_proxy.url)
    upload = put_upload(app.s3, app.bucket, "completed.txt", b"c", "text/plain")
    rule = lose_answer(dynamodb_proxy, after=1)
    assert outcomes(app.invoke(created_event(upload))) == [("processed", 1)]
    assert rule.hits == 1


def test_a_lost_answer_to_the_failed_write_still_fails_the_invocation(
    make_app: MakeApp, dynamodb_proxy: FaultProxy, s3_proxy: FaultProxy
) -> None:
    """Finding 1: read as `lease_lost`, the invocation succeeded and the object was lost."""
    app = make_app(app_dynamodb_url=dynamodb_proxy.url, app_s3_url=s3_proxy.url)
    upload = put_upload(app.s3, app.bucket, "unlucky.txt", b"u", "text/plain")
    s3_proxy.rules.append(FaultRule(s3_method("HEAD"), S3_UNAVAILABLE, times=2))
    rule = lose_answer(dynamodb_proxy, after=1)

    with pytest.raises(IncompleteBatchError, match="1 failed") as raised:
        app.invoke(created_event(upload))
    assert outcomes(raised.value) == [("failed", 1)]
    assert rule.hits == 1
    [failed] = app.lock_items()
    assert failed["status"]["S"] == "FAILED"
    assert outcomes(app.invoke(created_event(upload))) == [("processed", 2)]


def test_a_throttled_completion_frees_the_object_for_the_next_retry_at_once(
    make_app: MakeApp, dynamodb_proxy: FaultProxy
) -> None:
    """Finding 3: the completion's error propagated and left the record IN_PROGRESS for a
    whole lease; now it is marked FAILED and Lambda's retry processes it without waiting."""
    app = make_app(app_dynamodb_url=dynamodb_proxy.url)
    upload = put_upload(app.s3, app.bucket, "throttled.txt", b"t", "text/plain")
    dynamodb_proxy.rules.append(
        FaultRule(dynamodb_operation("UpdateItem"), THROTTLED, after=1, times=2)
    )
    with pytest.raises(IncompleteBatchError, match="1 failed") as raised:
        app.invoke(created_event(upload))
    assert isinstance(raised.value.__cause__, ClientError)
    [failed] = app.lock_items()
    assert failed["status"]["S"] == "FAILED"
    assert "ProvisionedThroughputExceeded" in failed["last_error"]["S"]
    assert outcomes(app.invoke(created_event(upload))) == [("processed", 2)]


def test_the_default_lease_is_short_whatever_the_timeout(
    make_app: MakeApp, dynamodb_proxy: FaultProxy
) -> None:
    """Finding 3: a lease of "remaining time + 10 s" outlived both Lambda retries on 300 s."""
    app = make_app(app_dynamodb_url=dynamodb_proxy.url)
    upload = put_upload(app.s3, app.bucket, "held.txt", b"h", "text/plain")
    dynamodb_proxy.rules.append(FaultRule(dynamodb_operation("UpdateItem"), THROTTLED, after=1))
    with pytest.raises(IncompleteBatchError):
        app.invoke(created_event(upload))
    [held] = app.lock_items()  # completion and FAILED mark both throttled: only the lease
    assert held["status"]["S"] == "IN_PROGRESS"
    assert int(held["lease_expires_at"]["N"]) - int(held["created_at"]["N"]) <= 30_000


@pytest.mark.slow
def test_a_lease_renewed_while_the_work_outlasts_it_keeps_a_redelivery_busy(
    make_app: MakeApp, s3_proxy: FaultProxy
) -> None:
    """Finding 3: a 1 s lease, a HeadObject answered after 2.5 s. The renewals keep the object
    held; a redelivery meanwhile is busy, not a second worker."""
    app = make_app(app_s3_url=s3_proxy.url, LEASE_SECONDS="1")
    upload = put_upload(app.s3, app.bucket, "slow.txt", b"s", "text/plain")
    s3_proxy.rules.append(FaultRule(s3_method("HEAD"), SLOW, times=1))
    first: list[Any] = []
    worker = threading.Thread(target=lambda: first.append(app.invoke(created_event(upload))))
    worker.start()
    threading.Event().wait(1.6)  # past the first lease's end, before the work ends
    with pytest.raises(IncompleteBatchError, match="held by another invocation") as busy:
        app.invoke(created_event(upload))
    assert outcomes(busy.value) == [("busy", 1)]
    worker.join(timeout=30)
    assert outcomes(first[0]) == [("processed", 1)]
