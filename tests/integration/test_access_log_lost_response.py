"""A commit whose response is lost on the way back: botocore sends it again, and DynamoDB must
not apply it twice. The retry carries the same ClientRequestToken, so DynamoDB answers it as
the success it was. Without that (moto ignores the token) the retry's fence condition fails and
the worker reports `lease_lost` for work that did commit: hence DynamoDB Local only."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from s3once.tables import create_aggregates_table, create_lock_table
from tests.access_log_data import requests
from tests.conftest import unique_name
from tests.faults import LOST_RESPONSE, FaultProxy, FaultRule, dynamodb_operation, fault_proxy
from tests.integration.access_log_harness import Stack, log_file, truth_of, upload, worker

pytestmark = pytest.mark.dynamodb_local_only


@pytest.fixture
def proxy(dynamodb_local_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(dynamodb_local_url) as running:
        yield running


def test_a_commit_retried_after_its_response_was_lost_counts_once_and_completes(
    dynamodb_local_url: str, moto_url: str, proxy: FaultProxy
) -> None:
    stack = Stack(
        dynamodb_url=dynamodb_local_url,
        s3_url=moto_url,
        bucket=unique_name("logs"),
        lock_table=unique_name("locks"),
        aggregates_table=unique_name("aggregates"),
    )
    stack.s3().create_bucket(Bucket=stack.bucket)
    create_lock_table(stack.dynamodb(), stack.lock_table)
    create_aggregates_table(stack.dynamodb(), stack.aggregates_table)
    file = log_file("apache/access.log", requests(200, hours=5, seed=7), "combined")
    target = upload(stack, file)
    rule = FaultRule(dynamodb_operation("TransactWriteItems"), LOST_RESPONSE, times=1)
    proxy.rules.append(rule)

    through_proxy = worker(dataclasses.replace(stack, dynamodb_url=proxy.url))
    assert through_proxy.deliver(target) == ["processed"]
    assert rule.hits == 1  # the first commit took effect, then its answer was lost
    assert stack.totals() == truth_of([file])
