"""The Terraform stack: Chalice's package plus infra/terraform, read as Terraform would load it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.stages import Stage, load_stages
from tests.deploy.terraform import TerraformModuleError, load_module, version_admits

CURRENT_TERRAFORM = "1.9.8"


@pytest.fixture(scope="module")
def stage() -> Stage:
    return next(stage for stage in load_stages() if stage.name == "dev")


@pytest.fixture(scope="module")
def module(terraform_package: Path) -> dict[str, Any]:
    return load_module(terraform_package)


def test_the_lock_table_has_the_key_ttl_recovery_and_encryption_the_app_relies_on(
    module: dict[str, Any],
) -> None:
    table = module["resource"]["aws_dynamodb_table"]["locks"]

    assert table["hash_key"] == "pk"
    assert table["attribute"][0] == {"name": "pk", "type": "S"}
    assert "range_key" not in table
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"] == {"enabled": True}


def test_the_table_is_named_by_the_lock_table_name_the_function_receives(
    module: dict[str, Any], stage: Stage
) -> None:
    function = module["resource"]["aws_lambda_function"]["on_object_created"]
    table = module["resource"]["aws_dynamodb_table"]["locks"]

    assert function["environment"]["variables"] == stage.environment
    assert table["name"] == (
        '${aws_lambda_function.on_object_created.environment[0].variables["LOCK_TABLE_NAME"]}'
    )


def test_the_function_has_the_stage_timeout_memory_and_handler(module: dict[str, Any]) -> None:
    function = module["resource"]["aws_lambda_function"]["on_object_created"]

    assert (function["timeout"], function["memory_size"]) == (60, 256)
    assert function["handler"] == "app.on_object_created"
    assert function["filename"] == "${path.module}/deployment.zip"


def test_the_bucket_notification_sends_only_object_created_events_to_the_function(
    module: dict[str, Any], stage: Stage
) -> None:
    (notification,) = module["resource"]["aws_s3_bucket_notification"].values()

    assert notification["bucket"] == stage.environment["APP_BUCKET_NAME"]
    assert notification["lambda_function"] == [
        {
            "events": ["s3:ObjectCreated:*"],
            "lambda_function_arn": "${aws_lambda_function.on_object_created.arn}",
        }
    ]


def test_only_the_stage_bucket_in_this_account_may_invoke_the_function(
    module: dict[str, Any], stage: Stage
) -> None:
    permissions = module["resource"]["aws_lambda_permission"].values()
    (permission,) = [p for p in permissions if p["principal"] == "s3.amazonaws.com"]

    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["source_arn"].endswith(":s3:::" + stage.environment["APP_BUCKET_NAME"])
    assert permission["source_account"] == "${data.aws_caller_identity.chalice.account_id}"


def test_the_role_carries_exactly_the_stage_policy_file(
    module: dict[str, Any], stage: Stage
) -> None:
    policies = module["resource"]["aws_iam_role_policy"]
    function_policies = {name: p for name, p in policies.items() if name != "batch_operations"}

    assert sorted(function_policies) == [f"{handler}_role" for handler in stage.functions]
    for role_policy in function_policies.values():
        assert json.loads(role_policy["policy"]) == stage.policy_document()
    assert "aws_iam_role_policy_attachment" not in module["resource"]


def test_failed_events_go_to_the_stage_queue_after_bounded_retries(
    module: dict[str, Any], stage: Stage
) -> None:
    invoke = module["resource"]["aws_lambda_function_event_invoke_config"]["on_object_created"]
    queue = module["resource"]["aws_sqs_queue"]["failed_events"]
    variables = module["variable"]

    assert invoke["function_name"] == "${aws_lambda_function.on_object_created.function_name}"
    assert invoke["destination_config"]["on_failure"]["destination"] == (
        "${aws_sqs_queue.failed_events.arn}"
    )
    assert invoke["depends_on"] == ["aws_iam_role_policy.on_object_created_role"]
    assert 0 <= variables["maximum_retry_attempts"]["default"] <= 2
    assert 60 <= variables["maximum_event_age_in_seconds"]["default"] <= 21600
    stage_name = module["data"]["null_data_source"]["chalice"]["inputs"]["stage"]
    assert module["locals"]["stage"] == '${data.null_data_source.chalice.outputs["stage"]}'
    assert queue["name"].replace("${local.stage}", stage_name) == stage.failure_queue_name
    assert queue["sqs_managed_sse_enabled"] is True


def test_the_override_lifts_chalices_terraform_pin_to_current_terraform(
    terraform_package: Path, module: dict[str, Any]
) -> None:
    chalice_pin = json.loads((terraform_package / "chalice.tf.json").read_text())["terraform"]

    assert not version_admits(chalice_pin["required_version"], CURRENT_TERRAFORM)
    assert version_admits(module["terraform"]["required_version"], CURRENT_TERRAFORM)
    assert not version_admits(module["terraform"]["required_version"], "2.0.0")
    aws = module["terraform"]["required_providers"]["aws"]["version"]
    assert version_admits(aws, "4.67.0")
    assert not version_admits(aws, "4.8.0")
    assert (
        module["terraform"]["required_providers"]["null"]
        == (chalice_pin["required_providers"]["null"])
    )


def test_a_project_file_redefining_a_chalice_resource_does_not_load(
    terraform_package: Path, tmp_path: Path
) -> None:
    (tmp_path / "chalice.tf.json").write_bytes((terraform_package / "chalice.tf.json").read_bytes())
    clash: dict[str, Any] = {"resource": {"aws_lambda_function": {"on_object_created": {}}}}
    (tmp_path / "extra.tf.json").write_text(json.dumps(clash))

    with pytest.raises(TerraformModuleError, match="on_object_created"):
        load_module(tmp_path)


def test_version_constraints_are_read_term_by_term() -> None:
    assert version_admits(">= 0.12.26, < 1.4.0", "1.3.9")
    assert not version_admits(">= 0.12.26, < 1.4.0", "1.4.0")
    assert not version_admits(">= 1.0.0, < 2.0.0", "0.15.5")


def test_the_aggregates_table_is_opt_in_and_named_by_the_stage_setting(
    module: dict[str, Any],
) -> None:
    table = module["resource"]["aws_dynamodb_table"]["aggregates"]

    assert module["variable"]["create_aggregates_table"]["default"] is False
    assert table["count"] == "${var.create_aggregates_table ? 1 : 0}"
    assert '"AGGREGATES_TABLE_NAME"' in table["name"]
    assert (table["hash_key"], table["attribute"]) == ("pk", [{"name": "pk", "type": "S"}])


def test_the_sqs_mapping_reports_batch_item_failures_and_reads_the_stage_queue(
    module: dict[str, Any], stage: Stage
) -> None:
    (mapping,) = module["resource"]["aws_lambda_event_source_mapping"].values()
    queues = module["resource"]["aws_sqs_queue"]

    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["event_source_arn"] == "${aws_sqs_queue.events.arn}"
    assert mapping["function_name"] == "${aws_lambda_function.on_sqs_message.arn}"
    assert mapping["batch_size"] == 10
    assert '"SQS_QUEUE_NAME"' in queues["events"]["name"]
    assert stage.environment["SQS_QUEUE_NAME"] == f"s3-once-events-{stage.name}"
    assert "aws_sqs_queue.events_dead_letter.arn" in queues["events"]["redrive_policy"]
    assert "maxReceiveCount = 5" in queues["events"]["redrive_policy"]
    policy = module["resource"]["aws_sqs_queue_policy"]["events"]["policy"]
    assert '"aws:SourceArn"' in policy and '"APP_BUCKET_NAME"' in policy


def test_the_partial_batch_override_needs_the_mapping_chalice_generates(
    terraform_package: Path, tmp_path: Path
) -> None:
    for name in ("chalice.tf.json", "partial_batch_override.tf.json"):
        (tmp_path / name).write_bytes((terraform_package / name).read_bytes())
    chalice = json.loads((tmp_path / "chalice.tf.json").read_text())
    del chalice["resource"]["aws_lambda_event_source_mapping"]  # a stage without SQS
    (tmp_path / "chalice.tf.json").write_text(json.dumps(chalice))

    with pytest.raises(TerraformModuleError, match="missing base resource"):
        load_module(tmp_path)


def test_eventbridge_events_get_the_same_bounded_retries_and_failure_queue(
    module: dict[str, Any],
) -> None:
    invoke = module["resource"]["aws_lambda_function_event_invoke_config"]
    rule = module["resource"]["aws_cloudwatch_event_rule"]["on_eventbridge_object_created-event"]

    assert (
        invoke["on_eventbridge_object_created"]["destination_config"]
        == (invoke["on_object_created"]["destination_config"])
    )
    assert invoke["on_eventbridge_object_created"]["depends_on"] == [
        "aws_iam_role_policy.on_eventbridge_object_created_role"
    ]
    assert json.loads(rule["event_pattern"])["detail-type"] == ["Object Created"]


def test_the_batch_operations_role_may_invoke_only_the_route_and_is_opt_in(
    module: dict[str, Any],
) -> None:
    role = module["resource"]["aws_iam_role"]["batch_operations"]
    policy = module["resource"]["aws_iam_role_policy"]["batch_operations"]["policy"]

    assert role["count"] == policy_count(module)
    assert 'Service = "batchoperations.s3.amazonaws.com"' in role["assume_role_policy"]
    assert 'Action = "lambda:InvokeFunction"' in policy
    assert "Resource = aws_lambda_function.on_batch_operations_task.arn" in policy
    assert policy.count("Action") == 3
    assert "manifests/*" in policy and "reports/*" in policy
    assert module["variable"]["batch_operations_bucket"]["default"] == ""


def policy_count(module: dict[str, Any]) -> str:
    count: str = module["resource"]["aws_iam_role_policy"]["batch_operations"]["count"]
    assert count == '${var.batch_operations_bucket == "" ? 0 : 1}'
    return count
