"""Lambda's retries of a failed asynchronous invocation: the same event, the same request id,
a minute later (scaled), and what the application makes of them."""

from __future__ import annotations

from s3once.s3_events import created_event, put_upload
from tests.faults import S3_UNAVAILABLE, FaultProxy, FaultRule, s3_method
from tests.lambda_tier.conftest import Deploy, MakeInvoker, Stage

# botocore's standard retries make 3 attempts: 3 answers of 503 fail the processor's read.
BOTOCORE_ATTEMPTS = 3


def test_a_processor_failure_is_retried_by_lambda_with_the_same_request_id_and_completes(
    stage: Stage,
    deploy: Deploy,
    async_invoker: MakeInvoker,
    s3_proxy: FaultProxy,
) -> None:
    function = deploy(s3_url=s3_proxy.url)
    upload = put_upload(stage.s3, stage.bucket, "inbox/scan 7.png", b"\x89PNG...", "image/png")
    # S3 answers the processor's read 503 (SlowDown) until botocore gives up, once.
    s3_proxy.rules.append(FaultRule(s3_method("HEAD"), S3_UNAVAILABLE, times=BOTOCORE_ATTEMPTS))

    invocation = async_invoker(function).invoke(created_event(upload))

    first, retry = invocation.attempts
    assert (first.succeeded, retry.succeeded) == (False, True)
    assert first.error_type == "IncompleteBatchError"
    assert first.request_id == retry.request_id == invocation.request_id
    assert [r["outcome"] for r in retry.payload["records"]] == ["processed"]
    [record] = stage.lock_items()
    # The failed attempt marked the record FAILED; the retry acquired it with the next fence.
    assert (record["status"]["S"], record["attempts"]["N"]) == ("COMPLETED", "2")
    assert record["owner"]["S"] == invocation.request_id  # the request id the runtime passed
    # A function error leaves the execution environment warm: the retry ran in it.
    assert (first.environment, retry.environment) == (1, 1)
    assert stage.failed_events() == []
