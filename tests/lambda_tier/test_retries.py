"""Lambda's retries of a failed asynchronous invocation: the same event, the same request id,
a minute later (scaled), and what the application makes of them."""

from __future__ import annotations

from tests.faults import S3_UNAVAILABLE
from tests.lambda_tier.conftest import Deliver, Stage

# botocore's standard retries make 3 attempts: 3 answers of 503 fail the processor's read.
BOTOCORE_ATTEMPTS = 3


def test_a_processor_failure_is_retried_by_lambda_with_the_same_request_id_and_completes(
    stage: Stage, deliver_with_faulty_reads: Deliver
) -> None:
    # S3 answers the processor's read 503 (SlowDown) until botocore gives up, once.
    delivery = deliver_with_faulty_reads(
        "inbox/scan 7.png", b"\x89PNG...", "image/png", S3_UNAVAILABLE, times=BOTOCORE_ATTEMPTS
    )

    invocation = delivery.invocation
    first, retry = invocation.attempts
    assert (first.succeeded, retry.succeeded) == (False, True)
    assert first.error_type == "IncompleteBatchError"
    assert first.request_id == retry.request_id == invocation.request_id
    assert [r["outcome"] for r in retry.payload["records"]] == ["processed"]
    [record] = stage.lock_items()
    # The failed attempt marked the record FAILED; the retry acquired it with the next fence.
    assert (record["status"]["S"], record["attempts"]["N"]) == ("COMPLETED", "2")
    assert record["owner"]["S"] == invocation.request_id  # the request id the runtime passed
    # The completion took the record out of the open-work index it entered when it failed.
    assert {"open_shard", "open_since"}.isdisjoint(record)
    # A function error leaves the execution environment warm: the retry ran in it.
    assert (first.environment, retry.environment) == (1, 1)
    assert stage.failed_events() == []
