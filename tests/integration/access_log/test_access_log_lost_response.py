"""A commit whose response is lost on the way back: botocore sends it again, and DynamoDB must
not apply it twice. The retry carries the same ClientRequestToken, so DynamoDB answers it as
the success it was. Without that (moto ignores the token) the retry's fence condition fails and
the worker reports `lease_lost` for work that did commit: hence DynamoDB Local only."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from tests.access_log_data import requests
from tests.faults import LOST_RESPONSE, FaultProxy, FaultRule, dynamodb_operation, fault_proxy
from tests.integration.access_log.access_log_harness import (
    log_file,
    new_stack,
    truth_of,
    upload,
    worker,
)

pytestmark = pytest.mark.dynamodb_local_only


@pytest.fixture
def proxy(dynamodb_local_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(dynamodb_local_url) as running:
        yield running


def test_a_commit_retried_after_its_response_was_lost_counts_once_and_completes(
    dynamodb_local_url: str, moto_url: str, proxy: FaultProxy
) -> None:
    stack = new_stack(dynamodb_local_url, moto_url)
    file = log_file("apache/access.log", requests(200, hours=5, seed=7), "combined")
    target = upload(stack, file)
    rule = FaultRule(dynamodb_operation("TransactWriteItems"), LOST_RESPONSE, times=1)
    proxy.rules.append(rule)

    through_proxy = worker(dataclasses.replace(stack, dynamodb_url=proxy.url))
    assert through_proxy.deliver(target) == ["processed"]
    assert rule.hits == 1  # the first commit took effect, then its answer was lost
    assert stack.totals() == truth_of([file])
