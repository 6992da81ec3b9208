"""Access-log totals equal the ground truth however files are delivered, against DynamoDB Local.

The truth is computed from the generated requests themselves, never by the parser under test.
Killed workers are real processes that SIGKILL themselves from a botocore hook at an exact
transaction; paused workers are threads blocked in such a hook while another takes over.
"""

from __future__ import annotations

import datetime
import random
import threading
import time
from typing import Any

import boto3
import pytest

from s3once.s3_events import Upload
from tests.access_log_data import START, Request, requests
from tests.integration.access_log.access_log_harness import (
    BEYOND_LEASE_MS,
    LogFile,
    Stack,
    TransactionCounter,
    log_file,
    run_killed_worker,
    truth_of,
    upload,
    worker,
)

pytestmark = pytest.mark.dynamodb_local_only


def small_files() -> list[LogFile]:
    """Four files in both formats, one gzip, whose hours overlap (so their commits contend)."""
    return [
        log_file("apache/access.log", requests(300, hours=6, seed=1), "combined"),
        log_file("nginx/access.log.1.gz", requests(250, hours=6, seed=2), "combined", True),
        log_file("s3/2026-03-01-00-00-00-A", requests(200, hours=6, seed=3), "s3"),
        log_file("s3/2026-03-01-00-00-00-B.gz", requests(150, hours=6, seed=4), "s3", True),
    ]


def big_file(hours: int = 250) -> LogFile:
    """A file touching `hours` hours: one per hour, then more at random (3 steps for 250)."""
    items = [Request(START + datetime.timedelta(hours=h, minutes=5), 200, 10) for h in range(hours)]
    items += requests(2 * hours, hours=hours, seed=hours)
    random.Random(0).shuffle(items)
    return log_file(f"big/{hours}h.log.gz", items, "combined", compress=True)


def test_every_file_delivered_twice_is_counted_once(stack: Stack) -> None:
    files = small_files()
    uploads = [upload(stack, file) for file in files]
    w = worker(stack)

    first = [w.deliver(u) for u in uploads]
    again = [w.deliver(u) for u in uploads] + [w.deliver(*uploads, *uploads)]

    assert first == [["processed"]] * 4
    assert again == [["skipped"]] * 4 + [["skipped"] * 8]
    assert stack.totals() == truth_of(files)


def test_eight_concurrent_deliveries_of_each_file_count_it_once(stack: Stack) -> None:
    files = [*small_files(), big_file(120)]
    uploads = [upload(stack, file) for file in files]
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def deliver_all(n: int) -> None:
        w = worker(stack, name=f"concurrent-{n}")
        pending = uploads[n % len(uploads) :] + uploads[: n % len(uploads)]
        deadline = time.monotonic() + 60
        try:
            while pending and time.monotonic() < deadline:
                result = w.deliver(pending[0])
                if result == ["busy"]:
                    time.sleep(0.05)  # the holder is committing; Lambda would retry later
                    continue
                outcomes.extend(result)
                pending.pop(0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver_all, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(outcomes) == sorted(["processed"] * 5 + ["skipped"] * 35)
    assert stack.totals() == truth_of(files)


@pytest.mark.parametrize(
    ("when", "call", "committed_before_takeover"),
    [
        ("before", 1, "nothing"),  # after reading the whole file, before any commit
        ("after", 1, "some hours"),  # after the first of three fenced steps
        ("before", 3, "some hours"),  # after two steps, before the one that completes
        ("after", 3, "everything"),  # completed, killed before returning
    ],
    ids=["after-reading", "after-a-partial-commit", "before-completion", "after-completion"],
)
def test_a_worker_killed_at_each_step_leaves_totals_that_a_takeover_makes_exact(
    stack: Stack, when: str, call: int, committed_before_takeover: str
) -> None:
    file = big_file()
    target = upload(stack, file)
    truth = truth_of([file])

    run_killed_worker(stack, [target], when, call)
    left_behind = stack.totals()
    takeover = worker(stack, name="takeover", clock_offset_ms=BEYOND_LEASE_MS)
    counter = TransactionCounter(takeover.dynamodb)
    outcome = takeover.deliver(target)
    redelivered = worker(stack, name="later", clock_offset_ms=BEYOND_LEASE_MS).deliver(target)

    if committed_before_takeover == "nothing":
        assert left_behind == {}
    elif committed_before_takeover == "some hours":
        assert left_behind != truth and set(left_behind) < set(truth)
        assert all(left_behind[hour] == truth[hour] for hour in left_behind)
    else:
        assert left_behind == truth
    assert outcome == (["skipped"] if committed_before_takeover == "everything" else ["taken_over"])
    assert counter.calls == 3 - call + (when == "before")  # only the steps not yet committed
    assert redelivered == ["skipped"]
    assert stack.totals() == truth


class Pause:
    """Blocks a worker in its hook before its n-th transaction until released."""

    def __init__(self, at_call: int) -> None:
        self.at_call = at_call
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self, n: int) -> None:
        if n == self.at_call:
            self.reached.set()
            assert self.release.wait(60)


def paused_worker(stack: Stack, name: str, target: Upload, pause: Pause, offset_ms: int = 0) -> Any:
    """A thread delivering `target` through a worker that blocks where `pause` says."""
    w = worker(stack, name=name, clock_offset_ms=offset_ms)
    TransactionCounter(w.dynamodb, "before", pause)
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.extend(w.deliver(target)))
    thread.start()
    assert pause.reached.wait(60)
    return thread, outcome


@pytest.mark.parametrize(
    ("file_kind", "pause_before_call"),
    [("small", 1), ("big", 1), ("big", 2)],
    ids=["single-transaction", "before-first-step", "after-a-partial-commit"],
)
def test_a_worker_paused_beyond_its_lease_cannot_commit_after_a_takeover(
    stack: Stack, file_kind: str, pause_before_call: int
) -> None:
    file = small_files()[1] if file_kind == "small" else big_file()
    target = upload(stack, file)
    pause = Pause(pause_before_call)
    zombie, zombie_outcome = paused_worker(stack, "zombie", target, pause)

    taker = worker(stack, name="taker", clock_offset_ms=BEYOND_LEASE_MS).deliver(target)
    after_takeover = stack.totals()
    pause.release.set()
    zombie.join(60)

    assert taker == ["taken_over"]
    assert zombie_outcome == ["lease_lost"]
    assert after_takeover == truth_of([file])
    assert stack.totals() == truth_of([file])
    [record] = stack.lock_items()
    assert (record["status"]["S"], record["attempts"]["N"]) == ("COMPLETED", "2")


@pytest.mark.parametrize("file_kind", ["small", "big"])
def test_a_resumed_worker_cannot_commit_while_the_new_holder_is_still_working(
    stack: Stack, file_kind: str
) -> None:
    """Both records are IN_PROGRESS here: only the fence (attempts) tells the holders apart."""
    file = small_files()[1] if file_kind == "small" else big_file()
    target = upload(stack, file)
    zombie_pause, taker_pause = Pause(1), Pause(1)
    zombie, zombie_outcome = paused_worker(stack, "zombie", target, zombie_pause)
    taker, taker_outcome = paused_worker(stack, "taker", target, taker_pause, BEYOND_LEASE_MS)

    zombie_pause.release.set()
    zombie.join(60)
    after_zombie = stack.totals()
    taker_pause.release.set()
    taker.join(60)

    assert zombie_outcome == ["lease_lost"]
    assert after_zombie == {}
    assert taker_outcome == ["taken_over"]
    assert stack.totals() == truth_of([file])


@pytest.mark.parametrize(("hours", "transactions"), [(99, 1), (100, 2), (250, 3)])
def test_a_file_larger_than_one_transaction_commits_in_fenced_steps_exactly_once(
    stack: Stack, hours: int, transactions: int
) -> None:
    file = big_file(hours)
    target = upload(stack, file)
    w = worker(stack)
    counter = TransactionCounter(w.dynamodb)

    outcomes = [w.deliver(target), w.deliver(target)]

    assert outcomes == [["processed"], ["skipped"]]
    assert counter.calls == transactions
    assert stack.totals() == truth_of([file])
    [record] = stack.lock_items()
    assert record["status"]["S"] == "COMPLETED"
    assert "counters_through" not in record
    assert "counters_plan" not in record


@pytest.mark.parametrize("change", ["deleted", "overwritten"])
def test_a_takeover_finishes_a_partial_commit_from_the_stored_plan_whatever_became_of_the_object(
    stack: Stack, change: str
) -> None:
    """Killed after its first fenced step; the object is then deleted or replaced. The new
    holder must not read it again (it would fail, or count other bytes): it commits the rest
    of the stored plan."""
    file = big_file()
    target = upload(stack, file)
    run_killed_worker(stack, [target], "after", 1)
    [half_done] = stack.lock_items()
    assert {"counters_through", "counters_plan"} <= set(half_done)
    if change == "deleted":
        stack.s3().delete_object(Bucket=stack.bucket, Key=target.key)
    else:
        stack.s3().put_object(Bucket=stack.bucket, Key=target.key, Body=b"other bytes")

    taker = worker(stack, name="taker", clock_offset_ms=BEYOND_LEASE_MS)
    counter = TransactionCounter(taker.dynamodb)

    assert taker.deliver(target) == ["taken_over"]
    assert counter.calls == 2
    assert stack.totals() == truth_of([file])
    [record] = stack.lock_items()
    assert record["status"]["S"] == "COMPLETED"
    assert record["result"]["M"]["accepted"]["N"] == str(len(file.requests))


def test_completing_without_increments_still_costs_one_request(stack: Stack) -> None:
    from chalicelib.aws.dynamodb_counters import FencedCounterCommit
    from chalicelib.aws.dynamodb_lock import DynamoDBLockRepository
    from chalicelib.core.ports import Release

    client = stack.dynamodb()
    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    locks = DynamoDBLockRepository(
        client,
        stack.lock_table,
        FencedCounterCommit(client, stack.lock_table, stack.aggregates_table),
    )

    assert not locks.complete(Release(pk="absent", fence=1, now_ms=1, expires_at=1))
    assert calls == ["UpdateItem"]


def test_an_unknown_table_error_propagates_instead_of_losing_the_lease(stack: Stack) -> None:
    from botocore.exceptions import ClientError

    from chalicelib.aws.dynamodb_counters import FencedCounterCommit
    from chalicelib.core.ports import CounterIncrement, Release

    client = boto3.client("dynamodb", endpoint_url=stack.dynamodb_url)
    commit = FencedCounterCommit(client, stack.lock_table, "no-such-table")
    release = Release(
        pk="p",
        fence=1,
        now_ms=1,
        expires_at=1,
        increments=(CounterIncrement("h", {"requests": 1}),),
    )

    with pytest.raises(ClientError):
        commit.commit(release)
