"""Execution environments that die mid-work: killed outright (out of memory, a crash) or for
outliving the function's timeout. Lambda starts a new environment for the retry, which takes
over the lease the dead one left behind."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from s3once.s3_events import created_event, put_upload
from tests.faults import Fault, FaultProxy, FaultRule, s3_method
from tests.lambda_tier.conftest import LEASE_SECONDS, Deploy, MakeInvoker, Stage, wait_for

TIMEOUT_S = 3.0  # the function's timeout for this deployment (the stage's is 60 s)
# S3 holds the processor's read this long before answering: the worker is mid-work.
HELD = Fault(0, b"", delay_s=2 * TIMEOUT_S)


def test_a_worker_killed_mid_work_is_taken_over_by_the_retry_in_a_new_environment(
    stage: Stage,
    deploy: Deploy,
    async_invoker: MakeInvoker,
    s3_proxy: FaultProxy,
) -> None:
    function = deploy(s3_url=s3_proxy.url, LEASE_SECONDS=str(LEASE_SECONDS))
    upload = put_upload(stage.s3, stage.bucket, "video/clip 01.mp4", b"\x00" * 64, "video/mp4")
    read = FaultRule(s3_method("HEAD"), HELD, times=1)
    s3_proxy.rules.append(read)

    with ThreadPoolExecutor(max_workers=1) as lambda_service:
        pending = lambda_service.submit(async_invoker(function).invoke, created_event(upload))
        wait_for(lambda: read.hits == 1, "the worker's read of the object, held by S3")
        [held] = stage.lock_items()
        assert held["status"]["S"] == "IN_PROGRESS"
        function.kill()
        invocation = pending.result(timeout=60)

    killed, retry = invocation.attempts
    assert (killed.error_type, retry.succeeded) == ("Runtime.ExitError", True)
    assert "signal: killed" in killed.payload["errorMessage"]
    assert (killed.environment, retry.environment) == (1, 2)
    # The lease (1 s, scaled from 30 s) ran out before Lambda's retry (2 s, scaled from 60 s).
    assert [r["outcome"] for r in retry.payload["records"]] == ["taken_over"]
    [record] = stage.lock_items()
    assert (record["status"]["S"], record["attempts"]["N"]) == ("COMPLETED", "2")
    assert stage.failed_events() == []


def test_a_worker_past_its_timeout_is_killed_and_its_lease_ends_at_its_deadline(
    stage: Stage,
    deploy: Deploy,
    async_invoker: MakeInvoker,
    s3_proxy: FaultProxy,
) -> None:
    # The stage's own 30 s lease, not a scaled one: what frees the object for the retry two
    # seconds later is the deadline the runtime passed in (Lambda-Runtime-Deadline-Ms).
    function = deploy(s3_url=s3_proxy.url, timeout_s=TIMEOUT_S)
    assert "LEASE_SECONDS" not in function.config.variables
    upload = put_upload(stage.s3, stage.bucket, "exports/day 3.csv", b"a,b\n1,2\n", "text/csv")
    s3_proxy.rules.append(FaultRule(s3_method("HEAD"), HELD, times=1))

    invocation = async_invoker(function).invoke(created_event(upload))

    timed_out, retry = invocation.attempts
    assert (timed_out.error_type, retry.succeeded) == ("Sandbox.Timedout", True)
    assert (timed_out.environment, retry.environment) == (1, 2)
    assert [r["outcome"] for r in retry.payload["records"]] == ["taken_over"]
    [record] = stage.lock_items()
    assert (record["status"]["S"], record["attempts"]["N"]) == ("COMPLETED", "2")
    assert stage.failed_events() == []
