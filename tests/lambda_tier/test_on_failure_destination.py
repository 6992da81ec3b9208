"""Events Lambda gives up on reach the on-failure queue once, in the documented shape."""

from __future__ import annotations

import json

from chalicelib.aws.lock_table import DEFAULT_OPEN_SHARDS, open_shard
from chalicelib.core.settings import OPEN_SHARDS_VARIABLE
from s3once.s3_events import created_event, put_upload
from tests.faults import Fault
from tests.lambda_tier.async_invoke import EVENT_AGE_EXCEEDED, RETRIES_EXHAUSTED
from tests.lambda_tier.conftest import Deliver, Deploy, MakeInvoker, Stage

# The function's role may not read the bucket: S3 refuses every read, botocore does not retry.
ACCESS_DENIED = Fault(403, b"", content_type="application/xml")
PROCESSOR = "content-type"  # the dev stage's


def test_a_permanent_failure_reaches_the_on_failure_queue_exactly_once_after_two_retries(
    stage: Stage, deliver_with_faulty_reads: Deliver
) -> None:
    delivery = deliver_with_faulty_reads(
        "private/q3 plan.docx", b"PK...", "application/zip", ACCESS_DENIED
    )
    function, event, invocation = delivery.function, delivery.event, delivery.invocation

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
    # The FAILED record waits in the open-work index, on the shard of its pk under the stage's
    # shard count, where `s3once status` finds it without a scan.
    pk = record["pk"]["S"]
    shards = int(function.config.variables.get(OPEN_SHARDS_VARIABLE, DEFAULT_OPEN_SHARDS))
    [entry] = stage.open_work(open_shard(pk, "FAILED", shards))
    assert (entry["pk"], entry["open_since"]) == (record["pk"], record["open_since"])
    assert entry["last_error"]["S"].startswith("ClientError")
    status = stage.s3once("status")
    assert status["counts"] == {
        PROCESSOR: {"COMPLETED": 0, "FAILED": 1, "IN_PROGRESS": 0, "IN_PROGRESS past lease": 0}
    }
    [failure] = status["attention"]
    assert (failure["pk"], failure["status"], failure["attempts"]) == (pk, "FAILED", 3)
    assert failure["key"] == "private/q3 plan.docx"


def test_an_event_older_than_the_maximum_event_age_goes_to_the_queue_before_its_retries(
    stage: Stage, deliver_with_faulty_reads: Deliver
) -> None:
    # 150 s: less than the three attempts' 3 minutes, so the retries cannot all happen.
    invocation = deliver_with_faulty_reads(
        "private/q4 plan.docx", b"PK...", "application/zip", ACCESS_DENIED, maximum_event_age_s=150
    ).invocation

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
