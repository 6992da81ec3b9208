"""`chalice deploy` and `chalice delete` of the dev stage, offline against moto.

The run follows docs/deploy.md: the CloudFormation stack for the lock table, the failed-event
queue and (dev has the SQS route) the events queue, `make deploy STAGE=dev` (`chalice deploy`
from a clean copy with bytecode), the settings
Chalice cannot express (asynchronous retries, ReportBatchItemFailures on the SQS mapping), then
`chalice delete`. The upload bucket already has a notification of its own, which must
survive both the deploy and the delete.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.deploy.project import copy_project, run_chalice
from tests.deploy.stages import PROJECT_DIR, Stage, load_stages

CFN_TEMPLATE = PROJECT_DIR / "infra" / "cloudformation" / "resources.yaml"
MAX_RETRIES = 2
MAX_EVENT_AGE_S = 6 * 3600
JOB_BUCKET = "s3-once-jobs-dev"
ASYNC_HANDLERS = ("on_object_created", "on_eventbridge_object_created")


@dataclass
class Deployment:
    stage: Stage
    project: Path
    endpoint: str
    existing_notification: dict[str, Any]
    outputs: dict[str, str]
    deploy_output: str

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    def notification(self) -> dict[str, Any]:
        response = self.client("s3").get_bucket_notification_configuration(
            Bucket=self.stage.environment["APP_BUCKET_NAME"]
        )
        response.pop("ResponseMetadata")
        return dict(response)


def make_deploy(project: Path, stage: str, endpoint: str) -> subprocess.CompletedProcess[str]:
    """`make deploy STAGE=<stage>` on `project`: `chalice deploy` from its clean copy, with what
    Chalice records of the deployment carried back (so `chalice delete` in `project` works)."""
    command = [sys.executable, "-m", "scripts.deploy", "--stage", stage, "--project-dir"]
    return subprocess.run(
        [*command, str(project)],
        cwd=PROJECT_DIR,
        env=os.environ | {"AWS_ENDPOINT_URL": endpoint},
        capture_output=True,
        text=True,
        timeout=600,
    )


def as_document(policy: Any) -> Any:
    """A policy document as a dict. moto returns an inline policy its CloudFormation created as
    the text of a Python dict (single quotes), not JSON; AWS returns JSON."""
    if isinstance(policy, str):
        try:
            return json.loads(policy)
        except ValueError:
            return ast.literal_eval(policy)
    return policy


def sqs_mapping(awslambda: Any, function_name: str) -> dict[str, Any]:
    """The function's one event source mapping (as `aws lambda list-event-source-mappings`)."""
    mappings = awslambda.list_event_source_mappings()["EventSourceMappings"]
    (mapping,) = [m for m in mappings if m["FunctionArn"].endswith(":function:" + function_name)]
    return dict(mapping)


@pytest.fixture(scope="module")
def deployed(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    stage = next(stage for stage in load_stages() if stage.name == "dev")
    bucket = stage.environment["APP_BUCKET_NAME"]
    s3 = boto3.client("s3", endpoint_url=moto_url)
    sqs = boto3.client("sqs", endpoint_url=moto_url)
    s3.create_bucket(Bucket=bucket)
    audit_url = sqs.create_queue(QueueName="audit-trail")["QueueUrl"]
    audit_arn = sqs.get_queue_attributes(QueueUrl=audit_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    existing: Any = {
        "QueueConfigurations": [
            {"Id": "audit-trail", "QueueArn": audit_arn, "Events": ["s3:ObjectRemoved:*"]}
        ]
    }
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=existing)

    cloudformation = boto3.client("cloudformation", endpoint_url=moto_url)
    stack = f"s3-once-{stage.name}-resources"
    cloudformation.create_stack(
        StackName=stack,
        TemplateBody=CFN_TEMPLATE.read_text(encoding="utf-8"),
        Parameters=[
            {"ParameterKey": "Stage", "ParameterValue": stage.name},
            {"ParameterKey": "WithEventsQueue", "ParameterValue": "true"},
            {"ParameterKey": "UploadBucket", "ParameterValue": bucket},
            {"ParameterKey": "BatchOperationsBucket", "ParameterValue": JOB_BUCKET},
        ],
    )
    (description,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}

    project = copy_project(tmp_path_factory.mktemp("project"))
    result = make_deploy(project, stage.name, moto_url)
    assert result.returncode == 0, result.stderr[-4000:]
    awslambda = boto3.client("lambda", endpoint_url=moto_url)
    for handler in ASYNC_HANDLERS:
        awslambda.put_function_event_invoke_config(
            FunctionName=f"{stage.app_name}-{stage.name}-{handler}",
            MaximumRetryAttempts=MAX_RETRIES,
            MaximumEventAgeInSeconds=MAX_EVENT_AGE_S,
            DestinationConfig={"OnFailure": {"Destination": outputs["FailedEventsQueueArn"]}},
        )
    mapping = sqs_mapping(awslambda, f"{stage.app_name}-{stage.name}-on_sqs_message")
    awslambda.update_event_source_mapping(
        UUID=mapping["UUID"], FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    yield Deployment(stage, project, moto_url, existing, outputs, result.stdout)


@pytest.mark.slow
def test_the_stack_creates_the_lock_table_and_queue_the_stage_names(deployed: Deployment) -> None:
    dynamodb = deployed.client("dynamodb")
    table_name = deployed.stage.environment["LOCK_TABLE_NAME"]

    table = dynamodb.describe_table(TableName=table_name)["Table"]

    assert deployed.outputs["LockTableName"] == table_name
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert deployed.outputs["FailedEventsQueueArn"].endswith(
        ":" + deployed.stage.failure_queue_name
    )


@pytest.mark.slow
def test_deploy_points_the_bucket_notification_at_the_function_and_keeps_the_existing_one(
    deployed: Deployment,
) -> None:
    notification = deployed.notification()
    function = deployed.client("lambda").get_function_configuration(
        FunctionName=deployed.stage.function_name
    )

    assert (
        notification["QueueConfigurations"] == deployed.existing_notification["QueueConfigurations"]
    )
    assert [
        (entry["LambdaFunctionArn"], entry["Events"])
        for entry in notification["LambdaFunctionConfigurations"]
    ] == [(function["FunctionArn"], ["s3:ObjectCreated:*"])]


@pytest.mark.slow
def test_deploy_creates_the_function_with_the_stage_settings(deployed: Deployment) -> None:
    configuration = deployed.client("lambda").get_function_configuration(
        FunctionName=deployed.stage.function_name
    )

    assert configuration["Timeout"] == 60
    assert configuration["MemorySize"] == 256
    assert configuration["Handler"] == "app.on_object_created"
    assert configuration["Environment"]["Variables"] == deployed.stage.environment


@pytest.mark.slow
def test_deploy_gives_the_function_a_role_with_exactly_the_stage_policy(
    deployed: Deployment,
) -> None:
    iam = deployed.client("iam")
    role_name = (
        deployed.client("lambda")
        .get_function_configuration(FunctionName=deployed.stage.function_name)["Role"]
        .rsplit("/", 1)[1]
    )

    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]

    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    assert document == deployed.stage.policy_document()


@pytest.mark.slow
def test_only_the_stage_bucket_may_invoke_the_function(deployed: Deployment) -> None:
    policy = json.loads(
        deployed.client("lambda").get_policy(FunctionName=deployed.stage.function_name)["Policy"]
    )

    (statement,) = policy["Statement"]

    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
        "arn:aws:s3:::" + deployed.stage.environment["APP_BUCKET_NAME"]
    )


@pytest.mark.slow
def test_failed_events_go_to_the_stage_queue_after_bounded_retries(deployed: Deployment) -> None:
    config = deployed.client("lambda").get_function_event_invoke_config(
        FunctionName=deployed.stage.function_name
    )

    assert config["MaximumRetryAttempts"] == MAX_RETRIES
    assert config["MaximumEventAgeInSeconds"] == MAX_EVENT_AGE_S
    assert (
        config["DestinationConfig"]["OnFailure"]["Destination"]
        == (deployed.outputs["FailedEventsQueueArn"])
    )


@pytest.mark.slow
def test_deploy_creates_every_route_and_the_sqs_mapping_reports_batch_item_failures(
    deployed: Deployment,
) -> None:
    awslambda = deployed.client("lambda")
    names = {f["FunctionName"] for f in awslambda.list_functions()["Functions"]}
    prefix = f"{deployed.stage.app_name}-{deployed.stage.name}-"
    mapping = sqs_mapping(awslambda, prefix + "on_sqs_message")

    events = deployed.client("events")
    (rule,) = [
        r for r in events.list_rules()["Rules"] if "on_eventbridge_object_created" in r["Name"]
    ]
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]

    assert {prefix + handler for handler in deployed.stage.functions} <= names
    assert json.loads(rule["EventPattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [deployed.stage.environment["APP_BUCKET_NAME"]]}},
    }
    assert target["Arn"].endswith(":function:" + prefix + "on_eventbridge_object_created")
    assert mapping["EventSourceArn"] == deployed.outputs["EventsQueueArn"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10


@pytest.mark.slow
def test_the_stack_gives_batch_operations_a_role_that_invokes_only_the_route(
    deployed: Deployment,
) -> None:
    iam = deployed.client("iam")
    role_name = f"s3-once-batch-operations-{deployed.stage.name}"
    trust = as_document(iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"])
    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    document = as_document(
        iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    )
    grants = {s["Sid"]: (s["Action"], s["Resource"]) for s in document["Statement"]}

    assert deployed.outputs["BatchOperationsRoleArn"].endswith(":role/" + role_name)
    assert trust["Statement"][0]["Principal"] == {"Service": "batchoperations.s3.amazonaws.com"}
    assert grants["InvokeTheRoute"][0] == "lambda:InvokeFunction"
    assert grants["InvokeTheRoute"][1].endswith(
        f":function:{deployed.stage.app_name}-{deployed.stage.name}-on_batch_operations_task"
    )
    assert grants["ReadManifests"][1] == (f"arn:aws:s3:::{JOB_BUCKET}/s3once/manifests/*")
    assert grants["WriteReports"] == (
        "s3:PutObject",
        f"arn:aws:s3:::{JOB_BUCKET}/s3once/reports/*",
    )


@pytest.mark.slow
def test_delete_removes_the_function_and_only_its_own_notification(deployed: Deployment) -> None:
    result = run_chalice(
        deployed.project,
        "delete",
        "--stage",
        deployed.stage.name,
        environment={"AWS_ENDPOINT_URL": deployed.endpoint},
    )

    assert result.returncode == 0, result.stderr[-4000:]
    assert deployed.notification() == deployed.existing_notification
    functions = deployed.client("lambda").list_functions()["Functions"]
    assert deployed.stage.function_name not in {f["FunctionName"] for f in functions}
    roles = deployed.client("iam").list_roles()["Roles"]
    assert not [role for role in roles if role["RoleName"].startswith(deployed.stage.function_name)]
