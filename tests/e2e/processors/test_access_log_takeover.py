"""Through the Chalice handler: an access log whose commit of several steps was cut short is
finished by the next delivery from the plan stored on its lock record, without the object."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from botocore.exceptions import ClientError

from chalicelib.core.errors import IncompleteBatchError
from s3once.aws.tables import create_aggregates_table
from s3once.commands.report import read_totals
from s3once.s3_events import created_event, put_upload
from tests.access_log_data import log_bytes, requests, truth
from tests.conftest import unique_name
from tests.e2e.conftest import AppUnderTest
from tests.faults import THROTTLED, FaultProxy, FaultRule, dynamodb_operation, fault_proxy

# More distinct hours than one transaction carries beside the lock record: three fenced steps.
LONG_LOG = requests(1200, hours=230, seed=5)


@pytest.fixture
def dynamodb_proxy(dynamodb_local_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(dynamodb_local_url) as proxy:
        yield proxy


def test_a_cut_short_commit_is_finished_by_the_next_delivery_after_the_object_is_gone(
    make_app: Callable[..., AppUnderTest],
    dynamodb_proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    aggregates = unique_name("aggregates")
    app = make_app(
        app_dynamodb_url=dynamodb_proxy.url,
        PROCESSOR="access-log",
        AGGREGATES_TABLE_NAME=aggregates,
        LEASE_SECONDS="1",
    )
    create_aggregates_table(app.dynamodb, aggregates)
    upload = put_upload(
        app.s3, app.bucket, "long.log", log_bytes(LONG_LOG, "combined"), "text/plain"
    )
    # The first fenced step commits; the second is throttled, the record is marked FAILED
    # (keeping its progress and plan) and the invocation fails.
    dynamodb_proxy.rules.append(
        FaultRule(dynamodb_operation("TransactWriteItems"), THROTTLED, after=1)
    )
    with pytest.raises(IncompleteBatchError, match="1 failed") as raised:
        app.invoke(created_event(upload))
    assert isinstance(raised.value.__cause__, ClientError)
    [cut_short] = app.lock_items()
    assert cut_short["status"]["S"] == "FAILED"
    assert {"counters_through", "counters_plan"} <= set(cut_short)
    partial = read_totals(app.dynamodb, aggregates)
    assert 0 < len(partial) < len(truth(LONG_LOG))

    dynamodb_proxy.rules.clear()
    app.s3.delete_object(Bucket=app.bucket, Key=upload.key)
    time.sleep(1.1)  # the lease of the failed invocation expires
    retried = app.invoke(created_event(upload))

    assert [(r["outcome"], r["attempts"]) for r in retried["records"]] == [("taken_over", 2)]
    totals = read_totals(app.dynamodb, aggregates)
    assert {hour: t.to_json() for hour, t in totals.items()} == truth(LONG_LOG)
    [done] = app.lock_items()
    assert done["status"]["S"] == "COMPLETED"
    assert "counters_plan" not in done
