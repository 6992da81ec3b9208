"""The stage policies grant exactly what the application does, proven by replaying its scenarios.

The end-to-end scenarios (tests/e2e and test_policy_scenarios.py) run once in a child pytest
with the call recorder loaded. Each stage's PROCESSOR selects the calls made under it; they are
turned into the IAM actions AWS checks, on that stage's ARNs, and judged against the stage's
policy file in both directions. The checker is itself tested on altered copies of the policy.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from typing import Any

import parliament
import pytest
from chalice.config import Config

from chalicelib.processors import REGISTRY
from tests.deploy.call_recorder import CALL_LOG
from tests.deploy.iam import (
    Permission,
    Policy,
    RecordedCall,
    UnmappedOperationError,
    judge,
    required_permissions,
)
from tests.deploy.stages import PROJECT_DIR, Stage, load_stages

SCENARIOS = ("tests/e2e", "tests/deploy/test_policy_scenarios.py")
STAGES = load_stages()
STAGE_IDS = [stage.name for stage in STAGES]
RECORDER_OPTIONS = ("-p", "no:cacheprovider", "-p", "tests.deploy.call_recorder")
TEST_SETUP_OPERATIONS = {"CreateBucket", "PutObject", "CreateTable", "Scan", "DeleteObject"}


@pytest.fixture(scope="module")
def recorded_calls(tmp_path_factory: pytest.TempPathFactory) -> list[RecordedCall]:
    log = tmp_path_factory.mktemp("calls") / "calls.jsonl"
    log.touch()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *SCENARIOS, "-q", *RECORDER_OPTIONS],
        cwd=PROJECT_DIR,
        env=dict(os.environ, **{CALL_LOG: str(log)}),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, "the scenarios failed:\n" + result.stdout[-6000:]
    lines = log.read_text(encoding="utf-8").splitlines()
    return [RecordedCall.from_json(json.loads(line)) for line in lines]


def needed_by(stage: Stage, calls: list[RecordedCall]) -> list[Permission]:
    processor = stage.environment["PROCESSOR"]
    made = [call for call in calls if call.processor == processor]
    assert made, f"no scenario runs processor {processor!r}: {stage.name}'s policy is unproven"
    needed = [p for call in made for p in required_permissions(call, stage.environment)]
    return needed + stage.platform_permissions()


# What every processor needs through the core: the lock record, and reading the upload.
CORE_ACTIONS = {
    ("dynamodb:UpdateItem", "LOCK_TABLE_NAME"),
    ("s3:GetObject", "APP_BUCKET_NAME"),
    ("s3:GetObjectVersion", "APP_BUCKET_NAME"),
    ("s3:ListBucket", "APP_BUCKET_NAME"),
}
_RESOURCE_SETTING = re.compile(r"arn:aws:(?:dynamodb:[^:]*:[^:]*:table/|s3:::)([^/]+)")


class SettingNames(dict[str, str]):
    """An environment in which every setting holds its own name: ARNs then name settings."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return key


def actions_by_setting(calls: list[RecordedCall]) -> set[tuple[str, str]]:
    permissions = [p for call in calls for p in required_permissions(call, SettingNames())]
    return {
        (p.action, match[1])
        for p in permissions
        if p.in_stage and (match := _RESOURCE_SETTING.match(p.resource))
    }


def lint(document: dict[str, Any]) -> list[str]:
    findings = parliament.analyze_policy_string(json.dumps(document)).findings
    return [f"{finding.issue}: {finding.detail}" for finding in findings]


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_stage_policy_allows_exactly_the_calls_its_processor_makes(
    stage: Stage, recorded_calls: list[RecordedCall]
) -> None:
    policy = Policy.from_document(stage.policy_document())

    verdict = judge(policy, needed_by(stage, recorded_calls))

    assert verdict.proven, f"{stage.policy_file.name}:\n{verdict.explain()}"


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_stage_policy_has_no_iam_linter_findings(stage: Stage) -> None:
    assert lint(stage.policy_document()) == []


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_chalice_deploys_the_stage_with_its_own_policy_file_not_a_generated_one(
    stage: Stage,
) -> None:
    config = Config(
        chalice_stage=stage.name,
        function_name="on_object_created",
        user_provided_params={"project_dir": str(PROJECT_DIR)},
        config_from_disk=json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text()),
    )

    assert config.autogen_policy is False
    assert config.iam_policy_file == f"policy-{stage.name}.json"
    assert stage.policy_file.is_file()
    for name in ("APP_BUCKET_NAME", "LOCK_TABLE_NAME", "PROCESSOR", "IDEMPOTENCY_SCOPE"):
        assert config.environment_variables.get(name), f"{stage.name} does not set {name}"
    assert config.environment_variables.get("RECORD_TTL_DAYS")


@pytest.mark.slow
def test_the_recorder_keeps_the_applications_calls_and_drops_the_tests_own(
    recorded_calls: list[RecordedCall],
) -> None:
    operations = {(call.service, call.operation) for call in recorded_calls}

    assert ("dynamodb", "UpdateItem") in operations
    assert ("s3", "HeadObject") in operations
    setup = {
        (call.operation, call.params.get("Bucket"))
        for call in recorded_calls
        if call.operation in TEST_SETUP_OPERATIONS
    }
    # The tests upload to APP_BUCKET_NAME; only the checksum processor's sidecars are the app's.
    assert setup <= {("PutObject", "CHECKSUM_BUCKET_NAME")}


@pytest.mark.slow
def test_every_action_the_proof_derives_is_a_real_iam_action(
    recorded_calls: list[RecordedCall],
) -> None:
    actions = {p.action for stage in STAGES for p in needed_by(stage, recorded_calls)}

    for action in sorted(actions):
        parliament.expand_action(action)  # raises UnknownActionException for a made-up action


@pytest.mark.slow
@pytest.mark.parametrize("processor", REGISTRY.names())
def test_each_processor_needs_only_the_cores_actions_and_those_its_plugin_declares(
    processor: str, recorded_calls: list[RecordedCall]
) -> None:
    calls = [call for call in recorded_calls if call.processor == processor]
    declared = {(action.action, action.setting) for action in REGISTRY.plugin(processor).actions}

    needed = actions_by_setting(calls)

    assert calls, f"no scenario runs processor {processor!r}"
    assert needed - CORE_ACTIONS - declared == set()
    assert declared <= needed, "the plugin declares actions no scenario needs"


def test_the_iam_action_catalogue_rejects_an_api_operation_that_is_not_an_action() -> None:
    with pytest.raises(parliament.UnknownActionException):
        parliament.expand_action("s3:HeadObject")


# The checker's own tests: each alters a copy of the dev policy and expects the proof to fail.


def dev_stage() -> Stage:
    return next(stage for stage in STAGES if stage.name == "dev")


def without_action(document: dict[str, Any], action: str) -> dict[str, Any]:
    altered = copy.deepcopy(document)
    for statement in altered["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != action]
    altered["Statement"] = [s for s in altered["Statement"] if s["Action"]]
    return altered


def with_statement(document: dict[str, Any], action: str, resource: str) -> dict[str, Any]:
    altered = copy.deepcopy(document)
    altered["Statement"].append({"Effect": "Allow", "Action": [action], "Resource": [resource]})
    return altered


@pytest.mark.slow
@pytest.mark.parametrize(
    "action", ["dynamodb:UpdateItem", "s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]
)
def test_the_proof_fails_when_the_policy_lacks_an_action_the_code_needs(
    action: str, recorded_calls: list[RecordedCall]
) -> None:
    stage = dev_stage()
    policy = Policy.from_document(without_action(stage.policy_document(), action))

    verdict = judge(policy, needed_by(stage, recorded_calls))

    assert not verdict.proven
    assert {p.action for p in verdict.denied} == {action}


@pytest.mark.slow
def test_the_proof_fails_when_the_policy_allows_an_action_the_code_never_uses(
    recorded_calls: list[RecordedCall],
) -> None:
    stage = dev_stage()
    table = "arn:aws:dynamodb:*:*:table/s3-once-locks-dev"
    policy = Policy.from_document(
        with_statement(stage.policy_document(), "dynamodb:DeleteItem", table)
    )

    verdict = judge(policy, needed_by(stage, recorded_calls))

    assert verdict.unused == [("dynamodb:DeleteItem", table)]


@pytest.mark.slow
def test_the_proof_fails_when_a_grant_widens_to_every_resource(
    recorded_calls: list[RecordedCall],
) -> None:
    stage = dev_stage()
    document = stage.policy_document()
    document["Statement"][0]["Resource"] = "*"

    verdict = judge(Policy.from_document(document), needed_by(stage, recorded_calls))

    assert verdict.wildcards == ["dynamodb:UpdateItem on *"]


@pytest.mark.slow
def test_the_proof_fails_when_a_stage_policy_names_another_stages_resources(
    recorded_calls: list[RecordedCall],
) -> None:
    dev = dev_stage()
    prod = next(stage for stage in STAGES if stage.name == "prod")

    verdict = judge(Policy.from_document(dev.policy_document()), needed_by(prod, recorded_calls))

    assert {p.action for p in verdict.denied} >= {"dynamodb:UpdateItem", "s3:GetObject"}
    assert all("-prod" in p.resource for p in verdict.denied)


def test_a_transaction_needs_the_single_item_action_of_each_of_its_items() -> None:
    call = RecordedCall(
        processor="any",
        service="dynamodb",
        operation="TransactWriteItems",
        params={
            "TransactItems": [
                {"ConditionCheck": {"TableName": "LOCK_TABLE_NAME"}},
                {"Update": {"TableName": "AGGREGATES_TABLE_NAME"}},
            ]
        },
    )
    environment = {"LOCK_TABLE_NAME": "locks", "AGGREGATES_TABLE_NAME": "totals"}

    needed = required_permissions(call, environment)

    assert [(p.action, p.resource.rsplit("/", 1)[1]) for p in needed] == [
        ("dynamodb:ConditionCheckItem", "locks"),
        ("dynamodb:UpdateItem", "totals"),
    ]


def test_a_call_the_checker_cannot_map_fails_the_proof() -> None:
    call = RecordedCall("any", "sqs", "SendMessage", {"QueueUrl": "q"})

    with pytest.raises(UnmappedOperationError, match="sqs"):
        required_permissions(call, {})


def test_a_setting_the_stage_does_not_define_fails_the_proof() -> None:
    call = RecordedCall("any", "dynamodb", "UpdateItem", {"TableName": "AGGREGATES_TABLE_NAME"})

    with pytest.raises(UnmappedOperationError, match="does not set"):
        required_permissions(call, {"LOCK_TABLE_NAME": "locks"})


def test_a_call_on_a_bucket_outside_the_stage_must_stay_denied() -> None:
    stage = dev_stage()
    foreign = RecordedCall(
        "content-type", "s3", "HeadObject", {"Bucket": "<unnamed:elsewhere>", "Key": "k"}
    )
    needed = required_permissions(foreign, stage.environment)
    too_wide = with_statement(stage.policy_document(), "s3:GetObject", "arn:aws:s3:::*/*")

    assert judge(Policy.from_document(stage.policy_document()), needed).outside == []
    assert [p.resource for p in judge(Policy.from_document(too_wide), needed).outside] == [
        "arn:aws:s3:::elsewhere/k"
    ]


def test_the_iam_linter_reports_an_action_granted_on_the_wrong_kind_of_resource() -> None:
    document = with_statement(
        dev_stage().policy_document(), "s3:GetObject", "arn:aws:dynamodb:*:*:table/t"
    )

    assert any(finding.startswith("RESOURCE_MISMATCH") for finding in lint(document))


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_stage_table_and_queue_names_follow_the_infrastructure_templates(stage: Stage) -> None:
    environment = stage.environment

    assert environment["LOCK_TABLE_NAME"] == f"s3-once-locks-{stage.name}"
    assert environment.get("AGGREGATES_TABLE_NAME", f"s3-once-aggregates-{stage.name}") == (
        f"s3-once-aggregates-{stage.name}"
    )
    assert stage.failure_queue_name == f"s3-once-failed-{stage.name}"


def test_every_stage_deploys_the_four_routes_where_configured() -> None:
    functions = {stage.name: stage.functions for stage in STAGES}

    assert functions["dev"] == (
        "on_batch_operations_task",
        "on_eventbridge_object_created",
        "on_object_created",
        "on_sqs_message",
    )
    assert functions["prod"] == tuple(f for f in functions["dev"] if f != "on_sqs_message")


@pytest.mark.slow
@pytest.mark.parametrize("action", ["sqs:ReceiveMessage", "sqs:DeleteMessage"])
def test_the_proof_fails_when_the_sqs_stage_cannot_consume_its_queue(
    action: str, recorded_calls: list[RecordedCall]
) -> None:
    stage = dev_stage()
    policy = Policy.from_document(without_action(stage.policy_document(), action))

    verdict = judge(policy, needed_by(stage, recorded_calls))

    assert [(p.action, p.resource.rsplit(":", 1)[1]) for p in verdict.denied] == [
        (action, stage.environment["SQS_QUEUE_NAME"])
    ]


def test_a_stage_without_the_sqs_route_may_not_touch_a_queue_but_its_failure_queue() -> None:
    prod = next(stage for stage in STAGES if stage.name == "prod")
    grants = Policy.from_document(prod.policy_document()).grants()

    assert [(a, r) for a, r in grants if a.startswith("sqs:")] == [
        ("sqs:SendMessage", "arn:aws:sqs:*:*:s3-once-failed-prod")
    ]
