"""The Lambda tier: the deployment package run as Lambda runs it.

Once per session the dev stage is built as `make package` builds it and its zip is extracted
into a read-only task root. Each test deploys a function of that package (handler, runtime,
timeout, memory and environment read from the generated `chalice.tf.json`) on a bucket, lock
table and failed-event queue of its own: only the stage's bucket and table names are replaced
(another deployment of the same stage), and the test adds the AWS_ENDPOINT_URL_* variables that
point boto3 at moto and DynamoDB Local. Lambda's clock is scaled by `TIME_SCALE`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from s3once.aws.tables import create_lock_table
from tests.conftest import unique_name
from tests.faults import FaultProxy, fault_proxy
from tests.lambda_tier.async_invoke import AsyncInvoker, AsyncSettings, QueueDestination
from tests.lambda_tier.deployment import (
    FunctionConfig,
    build_package,
    event_invoke_config,
    extract_read_only,
    function_configs,
    make_writable,
    tree_state,
)
from tests.lambda_tier.function import Function

STAGE = "dev"
# Lambda's minutes become seconds: retries 2 s and 4 s after a failure (60 s and 120 s), the
# 30 s lease 1 s, the 6 h maximum event age 12 min. Proportions, and so the arguments of
# docs/deploy.md about them, stay as they are.
TIME_SCALE = 1 / 30
LEASE_SECONDS = 1  # the default 30 s, scaled


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.lambda_tier)


@pytest.fixture(scope="session")
def terraform_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package(STAGE, tmp_path_factory.mktemp("package") / "terraform" / STAGE)


@pytest.fixture(scope="session")
def task_root(terraform_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = extract_read_only(terraform_dir / "deployment.zip", tmp_path_factory.mktemp("task"))
    yield root
    make_writable(root)


@pytest.fixture(scope="session")
def functions(terraform_dir: Path) -> dict[str, FunctionConfig]:
    return function_configs(terraform_dir)


@dataclass
class Stage:
    """The test's deployment of the stage: its bucket, lock table and on-failure queue."""

    bucket: str
    lock_table: str
    failed_queue_url: str
    s3: Any
    dynamodb: Any
    sqs: Any

    def lock_items(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=self.lock_table, ConsistentRead=True)["Items"])

    def failed_events(self) -> list[str]:
        """Every message of the on-failure queue (received, so hidden for a while)."""
        bodies: list[str] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.failed_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60
            ).get("Messages", [])
            if not messages:
                return bodies
            bodies.extend(message["Body"] for message in messages)


@pytest.fixture
def stage(moto_url: str, dynamodb_local_url: str) -> Stage:
    s3 = boto3.client("s3", endpoint_url=moto_url)
    dynamodb = boto3.client("dynamodb", endpoint_url=dynamodb_local_url)
    sqs = boto3.client("sqs", endpoint_url=moto_url)
    bucket, table = unique_name("uploads"), unique_name("locks")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    create_lock_table(dynamodb, table)
    queue_url = sqs.create_queue(QueueName=unique_name("s3-once-failed"))["QueueUrl"]
    return Stage(bucket, table, queue_url, s3, dynamodb, sqs)


Deploy = Callable[..., Function]


@pytest.fixture
def deploy(
    stage: Stage,
    task_root: Path,
    functions: dict[str, FunctionConfig],
    moto_url: str,
    dynamodb_local_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deploy]:
    """`deploy(resource, s3_url=..., timeout_s=..., **variables)`: a function of the package;
    `s3_url` puts a fault proxy between it and S3."""
    deployed: list[Function] = []

    def make(
        resource: str = "on_object_created",
        s3_url: str | None = None,
        timeout_s: float | None = None,
        **variables: str,
    ) -> Function:
        names = {"APP_BUCKET_NAME": stage.bucket, "LOCK_TABLE_NAME": stage.lock_table}
        config = functions[resource].with_settings(timeout_s, **{**names, **variables})
        endpoints = {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ENDPOINT_URL_S3": s3_url or moto_url,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local_url,
        }
        function = Function(config, task_root, tmp_path_factory.mktemp("logs"), endpoints)
        deployed.append(function)
        return function

    extracted = tree_state(task_root)
    yield make
    for function in deployed:
        function.close()
    # Lambda's /var/task is read-only: nothing may have been written there.
    assert tree_state(task_root) == extracted, "the function wrote into its task root"


MakeInvoker = Callable[..., AsyncInvoker]


@pytest.fixture
def async_invoker(stage: Stage) -> MakeInvoker:
    """Lambda's asynchronous invocation of a function, with the retries and event age
    infra/terraform configures for it, and the stage's on-failure queue."""

    def make(function: Function, maximum_event_age_s: float | None = None) -> AsyncInvoker:
        config = event_invoke_config(function.config.resource)
        assert config.on_failure == "${aws_sqs_queue.failed_events.arn}"
        settings = AsyncSettings(
            config.maximum_retry_attempts,
            maximum_event_age_s or config.maximum_event_age_s,
            TIME_SCALE,
        )
        return AsyncInvoker(function, settings, QueueDestination(stage.sqs, stage.failed_queue_url))

    return make


@pytest.fixture
def s3_proxy(moto_url: str) -> Iterator[FaultProxy]:
    """A fault proxy in front of moto's S3, for `deploy(s3_url=s3_proxy.url)`."""
    with fault_proxy(moto_url) as proxy:
        yield proxy


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
