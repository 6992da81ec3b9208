"""The Lambda tier: the deployment package run as Lambda runs it.

Once per session the dev stage is built as `make package` builds it and its zip is extracted
into a read-only task root. Each test deploys a function of that package (handler, runtime,
timeout, memory and environment read from the generated `chalice.tf.json`) on a bucket, lock
table and failed-event queue of its own: only the stage's bucket and table names are replaced
(another deployment of the same stage), and the test adds the AWS_ENDPOINT_URL_* variables that
point boto3 at moto and DynamoDB Local. Lambda's clock is scaled by `TIME_SCALE`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.aws.lock_table import OPEN_INDEX, OPEN_SHARD
from s3once.aws.tables import create_lock_table
from s3once.s3_events import created_event, put_upload
from tests.conftest import PROJECT_DIR, run_s3once, unique_name
from tests.faults import Fault, FaultProxy, FaultRule, fault_proxy, s3_method
from tests.lambda_tier.async_invoke import (
    AsyncInvocation,
    AsyncInvoker,
    AsyncSettings,
    QueueDestination,
)
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


@dataclass(frozen=True)
class Package:
    """A stage's build: its Terraform directory, its read-only task root and its functions."""

    terraform_dir: Path
    task_root: Path
    functions: dict[str, FunctionConfig]


@contextmanager
def built(
    tmp_path_factory: pytest.TempPathFactory, project_dir: Path = PROJECT_DIR
) -> Iterator[Package]:
    """The dev stage of `project_dir` built as `make package` builds it, extracted."""
    out = tmp_path_factory.mktemp("package") / "terraform" / STAGE
    terraform_dir = build_package(STAGE, out, project_dir)
    root = extract_read_only(terraform_dir / "deployment.zip", tmp_path_factory.mktemp("task"))
    try:
        yield Package(terraform_dir, root, function_configs(terraform_dir))
    finally:
        make_writable(root)


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Package]:
    """The project's own dev stage."""
    with built(tmp_path_factory) as dev:
        yield dev


@pytest.fixture(scope="session")
def terraform_dir(package: Package) -> Path:
    return package.terraform_dir


@dataclass
class Stage:
    """The test's deployment of the stage: its bucket, lock table and on-failure queue."""

    bucket: str
    lock_table: str
    failed_queue_url: str
    dynamodb_url: str
    s3: Any
    dynamodb: Any
    sqs: Any

    def lock_items(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=self.lock_table, ConsistentRead=True)["Items"])

    def open_work(self, shard: str) -> list[dict[str, Any]]:
        """The entries of one shard (`<status>#<n>`) of the lock table's open-work index."""
        return list(
            self.dynamodb.query(
                TableName=self.lock_table,
                IndexName=OPEN_INDEX,
                KeyConditionExpression=f"{OPEN_SHARD} = :shard",
                ExpressionAttributeValues={":shard": {"S": shard}},
            )["Items"]
        )

    def s3once(self, *args: str) -> Any:
        """`s3once <args> --json` on this deployment of the stage, in a process of its own."""
        result = run_s3once(
            *args,
            "--json",
            cwd=PROJECT_DIR,
            AWS_ENDPOINT_URL_DYNAMODB=self.dynamodb_url,
            LOCK_TABLE_NAME=self.lock_table,
            APP_BUCKET_NAME=self.bucket,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

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
    return Stage(bucket, table, queue_url, dynamodb_local_url, s3, dynamodb, sqs)


Deploy = Callable[..., Function]


@pytest.fixture
def deploy(
    stage: Stage,
    package: Package,
    moto_url: str,
    dynamodb_local_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deploy]:
    """`deploy(resource, s3_url=..., timeout_s=..., built=..., **variables)`: a function of
    the package (the dev stage's, or `built`); `s3_url` puts a fault proxy between it and S3."""
    deployed: list[Function] = []
    extracted: dict[Path, dict[str, tuple[int, int]]] = {}

    def make(
        resource: str = "on_object_created",
        s3_url: str | None = None,
        timeout_s: float | None = None,
        built: Package = package,
        **variables: str,
    ) -> Function:
        if built.task_root not in extracted:
            extracted[built.task_root] = tree_state(built.task_root)
        names = {"APP_BUCKET_NAME": stage.bucket, "LOCK_TABLE_NAME": stage.lock_table}
        config = built.functions[resource].with_settings(timeout_s, **{**names, **variables})
        endpoints = {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ENDPOINT_URL_S3": s3_url or moto_url,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local_url,
        }
        function = Function(config, built.task_root, tmp_path_factory.mktemp("logs"), endpoints)
        deployed.append(function)
        return function

    yield make
    for function in deployed:
        function.close()
    # Lambda's /var/task is read-only: nothing may have been written there.
    for task_root, state in extracted.items():
        assert tree_state(task_root) == state, "the function wrote into its task root"


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


@dataclass(frozen=True)
class Delivery:
    """An upload delivered asynchronously to a function that reads S3 through a fault proxy."""

    function: Function
    event: dict[str, Any]
    invocation: AsyncInvocation


Deliver = Callable[..., Delivery]


@pytest.fixture
def deliver_with_faulty_reads(
    stage: Stage, deploy: Deploy, async_invoker: MakeInvoker, s3_proxy: FaultProxy
) -> Deliver:
    """`deliver(key, body, content_type, fault, times=None, maximum_event_age_s=None)`: the
    upload of `key`, delivered to a function whose reads of objects (HEAD) S3 answers with
    `fault`, `times` times (None: every time); returns every attempt Lambda made."""

    def deliver(
        key: str,
        body: bytes,
        content_type: str,
        fault: Fault,
        times: int | None = None,
        maximum_event_age_s: float | None = None,
    ) -> Delivery:
        function = deploy(s3_url=s3_proxy.url)
        upload = put_upload(stage.s3, stage.bucket, key, body, content_type)
        s3_proxy.rules.append(FaultRule(s3_method("HEAD"), fault, times=times))
        event = created_event(upload)
        invocation = async_invoker(function, maximum_event_age_s).invoke(event)
        return Delivery(function, event, invocation)

    return deliver


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
