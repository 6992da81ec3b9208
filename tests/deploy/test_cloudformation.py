"""CloudFormation for the `chalice deploy` path: the lock table and the failed-event queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint
from cfnlint.decode import decode_str

from tests.deploy.stages import PROJECT_DIR

TEMPLATE = PROJECT_DIR / "infra" / "cloudformation" / "resources.yaml"


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    template, errors = decode_str(TEMPLATE.read_text(encoding="utf-8"))
    assert not errors and template is not None
    resources: dict[str, Any] = template["Resources"]
    return resources


def test_the_template_passes_cfn_lint_errors_and_warnings() -> None:
    matches = lint(TEMPLATE.read_text(encoding="utf-8"))

    assert [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches] == []


def test_cfn_lint_catches_a_broken_template(tmp_path: Path) -> None:
    broken = TEMPLATE.read_text(encoding="utf-8").replace("KeyType: HASH", "KeyType: PRIMARY")

    assert lint(broken)


def test_the_lock_table_has_the_key_ttl_recovery_and_encryption_the_app_relies_on(
    resources: dict[str, Any],
) -> None:
    table = resources["LockTable"]["Properties"]

    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"][0] == {"AttributeName": "pk", "AttributeType": "S"}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_deleting_the_stack_keeps_the_lock_records_and_failed_events(
    resources: dict[str, Any],
) -> None:
    for name in ("LockTable", "FailedEventsQueue"):
        assert resources[name]["DeletionPolicy"] == "Retain"
        assert resources[name]["UpdateReplacePolicy"] == "Retain"


def test_the_aggregates_table_exists_only_when_asked_for_and_follows_the_stage_names(
    resources: dict[str, Any],
) -> None:
    table = resources["AggregatesTable"]

    assert table["Condition"] == "CreateAggregatesTable"
    assert table["Properties"]["TableName"] == {"Fn::Sub": "s3-once-aggregates-${Stage}"}
    assert table["Properties"]["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]


def test_the_events_queue_is_opt_in_keeps_failures_aside_and_admits_only_the_stage_bucket(
    resources: dict[str, Any],
) -> None:
    queue = resources["EventsQueue"]
    policy = resources["EventsQueuePolicy"]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]

    assert queue["Condition"] == "CreateEventsQueue"
    assert queue["Properties"]["QueueName"] == {"Fn::Sub": "s3-once-events-${Stage}"}
    assert queue["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    assert policy["Condition"] == "EventsQueueHasBucket"
    assert (statement["Principal"], statement["Action"]) == (
        {"Service": "s3.amazonaws.com"},
        "sqs:SendMessage",
    )
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:s3:::${UploadBucket}"
    }


def test_the_batch_operations_role_may_invoke_only_the_route_read_manifests_write_reports(
    resources: dict[str, Any],
) -> None:
    role = resources["BatchOperationsRole"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    (policy,) = role["Properties"]["Policies"]
    grants = {
        s["Sid"]: (s["Action"], s["Resource"]["Fn::Sub"])
        for s in policy["PolicyDocument"]["Statement"]
    }

    assert role["Condition"] == "CreateBatchOperationsRole"
    assert trust["Principal"] == {"Service": "batchoperations.s3.amazonaws.com"}
    assert grants == {
        "InvokeTheRoute": (
            "lambda:InvokeFunction",
            "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
            "s3-once-${Stage}-on_batch_operations_task",
        ),
        "ReadManifests": (
            ["s3:GetObject", "s3:GetObjectVersion"],
            "arn:${AWS::Partition}:s3:::${BatchOperationsBucket}/${BatchOperationsPrefix}manifests/*",
        ),
        "WriteReports": (
            "s3:PutObject",
            "arn:${AWS::Partition}:s3:::${BatchOperationsBucket}/${BatchOperationsPrefix}reports/*",
        ),
    }
