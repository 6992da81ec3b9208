"""Events Lambda gives up on reach the on-failure queue once, in the documented shape."""

from __future__ import annotations

import json

from s3once.s3_events import created_event, put_upload
from tests.faults import Fault, FaultProxy, FaultRule, s3_method
from tests.lambda_tier.async_invoke import EVENT_AGE_EXCEEDED, RETRIES_EXHAUSTED
from tests.lambda_tier.conftest import Deploy, MakeInvoker, Stage

# The function's role may not read the bucket: S3 refuses every read, botocore does not retry.
ACCESS_DENIED = Fault(403, b"", content_type="application/xml")


def test_a_permanent_failure_reaches_the_on_failure_queue_exactly_once_after_two_retries(
    stage: Stage,
    deploy: Deploy,
    async_invoker: MakeInvoker,
    s3_proxy: FaultProxy,
) -> None:
    function = deploy(s3_url=s3_proxy.url)
    upload = put_upload(stage.s3, stage.bucket, "private/q3 plan.docx", b"PK...", "application/zip")
    s3_proxy.rules.append(FaultRule(s3_method("HEAD"), ACCESS_DENIED))
    event = created_event(upload)

    invocation = async_invoker(function).invoke(event)

    assert [a.error_type for a in invocation.attempts] == ["IncompleteBatchError"] * 3
    [message] = [json.loads(body) for body in stage.failed_events()]
    assert message == invocation.failure_record
    assert message["version"] == "1.0"
    assert message["requestContext"] == {
        "requestId": invocation.request_id,
        "functionArn": f"{function.arn}:$LATEST",
        "condition": RETRIES_EXHAUSTED,
        "approximateInvokeCount": 3,
    }
    assert message["requestPayload"] == event  # what a re-drive sends back to the function
    assert message["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert message["responsePayload"]["errorType"] == "IncompleteBatchError"
    # Every attempt left the record FAILED, never a lease: each retry acquired it again.
    [record] = stage.lock_items()
    assert (record["status"]["S"], record["attempts"]["N"]) == ("FAILED", "3")


def test_an_event_older_than_the_maximum_event_age_goes_to_the_queue_before_its_retries(
    stage: Stage,
    deploy: Deploy,
    async_invoker: MakeInvoker,
    s3_proxy: FaultProxy,
) -> None:
    function = deploy(s3_url=s3_proxy.url)
    upload = put_upload(stage.s3, stage.bucket, "private/q4 plan.docx", b"PK...", "application/zip")
    s3_proxy.rules.append(FaultRule(s3_method("HEAD"), ACCESS_DENIED))

    # 150 s: less than the three attempts' 3 minutes, so the retries cannot all happen.
    invocation = async_invoker(function, maximum_event_age_s=150).invoke(created_event(upload))

    [message] = [json.loads(body) for body in stage.failed_events()]
    assert message["requestContext"]["condition"] == EVENT_AGE_EXCEEDED
    assert message["requestContext"]["approximateInvokeCount"] == len(invocation.attempts) < 3


def test_a_stage_that_fails_at_import_reports_an_init_error_and_its_events_reach_the_queue(
    stage: Stage, deploy: Deploy, async_invoker: MakeInvoker
) -> None:
    # A deployment without the trigger's bucket: app.py cannot even be imported.
    function = deploy(APP_BUCKET_NAME="")
    upload = put_upload(stage.s3, stage.bucket, "notes/a.txt", b"a", "text/plain")

    invocation = async_invoker(function).invoke(created_event(upload))

    # Each attempt is a new environment whose init fails (the runtime client posts to
    # /runtime/init/error and exits); nothing was acquired.
    assert [a.environment for a in invocation.attempts] == [1, 2, 3]
    assert {a.error_type for a in invocation.attempts} == {"ConfigurationError"}
    assert "APP_BUCKET_NAME" in invocation.attempts[0].payload["errorMessage"]
    [message] = [json.loads(body) for body in stage.failed_events()]
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert stage.lock_items() == []
