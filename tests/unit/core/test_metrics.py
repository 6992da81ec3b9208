"""Outcome counts as CloudWatch Embedded Metric Format, checked against the specification's
required fields (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
CloudWatch_Embedded_Metric_Format_Specification.html)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from chalicelib.core.errors import IncompleteBatchError, InvalidEventError
from chalicelib.core.logs import request_context
from chalicelib.core.model import IdempotencyScope, ObjectRef, ParsedEvent
from chalicelib.core.service import IdempotentPipeline, Invocation, LeasePolicy
from tests.fakes import FakeClock, FakeProcessor, InMemoryLockRepository

UNITS = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Count"}


def assert_valid_emf(document: dict[str, Any]) -> None:
    """The specification's rules for the root node and its MetricDirectives."""
    metadata = document["_aws"]
    assert isinstance(metadata["Timestamp"], int) and metadata["Timestamp"] > 0
    directives = metadata["CloudWatchMetrics"]
    assert isinstance(directives, list) and directives
    for directive in directives:
        assert isinstance(directive["Namespace"], str) and 1 <= len(directive["Namespace"]) <= 255
        assert isinstance(directive["Dimensions"], list)
        for dimension_set in directive["Dimensions"]:
            assert 1 <= len(dimension_set) <= 30
            for dimension in dimension_set:
                assert isinstance(document[dimension], str)  # dimension values are strings
        metrics = directive["Metrics"]
        assert 1 <= len(metrics) <= 100
        for metric in metrics:
            assert metric["Name"] and metric.get("Unit", "None") in UNITS | {"None"}
            assert isinstance(document[metric["Name"]], int | float)  # values at top level


def pipeline(processor: FakeProcessor, clock: FakeClock) -> IdempotentPipeline:
    return IdempotentPipeline(
        locks=InMemoryLockRepository(),
        processor=processor,
        clock=clock,
        scope=IdempotencyScope.CONTENT,
        lease=LeasePolicy(60),
        record_ttl_days=30,
        logger=logging.getLogger("tests.metrics"),
    )


def emf_lines(out: str) -> list[dict[str, Any]]:
    return [doc for doc in map(json.loads, out.splitlines()) if "_aws" in doc]


def test_each_invocation_prints_its_outcome_counts_as_one_emf_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def fail_on_bad(obj: ObjectRef) -> None:
        if obj.key == "bad":
            raise ValueError("boom")

    objects = [ObjectRef("b", key, etag="e") for key in ("one", "two", "bad")]
    clock = FakeClock()
    under_test = pipeline(FakeProcessor(name="line-count", behaviour=fail_on_bad), clock)
    with request_context("req-7"), pytest.raises(IncompleteBatchError):
        under_test.handle(ParsedEvent(objects=objects), Invocation("req-7"))
    under_test_again = under_test.handle(ParsedEvent(objects=objects[:2]), Invocation("req-8"))

    first, second = emf_lines(capsys.readouterr().out)
    assert_valid_emf(first)
    assert first["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "s3-once"
    assert first["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["processor"]]
    assert (first["processor"], first["request_id"]) == ("line-count", "req-7")
    counts = {m["Name"]: first[m["Name"]] for m in first["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert counts == {
        "processed": 2,
        "taken_over": 0,
        "skipped": 0,
        "busy": 0,
        "failed": 1,
        "failed_permanently": 0,
        "lease_lost": 0,
        "ignored": 0,
        "invalid": 0,
    }
    assert (second["skipped"], second["processed"]) == (2, 0)
    assert len(under_test_again.records) == 2


def test_records_the_parser_could_not_read_are_counted_as_invalid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = ParsedEvent(objects=[ObjectRef("b", "ok", etag="e")], invalid=["Records[1].s3 ..."])
    with pytest.raises(InvalidEventError):
        pipeline(FakeProcessor(), FakeClock()).handle(event, Invocation("req-9"))

    [line] = emf_lines(capsys.readouterr().out)
    assert_valid_emf(line)
    assert (line["processed"], line["invalid"]) == (1, 1)


def test_the_checker_rejects_a_document_missing_a_required_field() -> None:
    document = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {"Namespace": "n", "Dimensions": [["processor"]], "Metrics": [{"Name": "x"}]}
            ],
        },
        "processor": "p",
    }
    with pytest.raises(KeyError):
        assert_valid_emf(document)  # the value of metric "x" is missing
