"""The Chalice app under test, through `chalice.test.Client` as Chalice documents it.

`app.py` is imported once, as a Lambda container does; it reads only the trigger's bucket at
import. Each test gets a stage of its own: a copy of `.chalice/config.json` whose `dev` stage
names the test's bucket and tables (and any settings it overrides), given to
`Client(app, stage_name="dev", project_dir=...)`, which applies the stage's variables around
each invocation. S3 is moto, DynamoDB is DynamoDB Local, through the standard endpoint vars.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.core.errors import IncompleteBatchError
from s3once.aws.tables import create_lock_table
from s3once.stage import stage_environment
from tests.conftest import PROJECT_DIR, unique_name
from tests.faults import FaultProxy, fault_proxy

STAGE = "dev"
MakeApp = Callable[..., "AppUnderTest"]


# Settings Chalice's decorators read at import (which functions a stage deploys): a stage that
# sets them is a different app, imported afresh as a new deployment would be.
IMPORT_TIME_VARIABLES = ("SQS_QUEUE_NAME", "SQS_BATCH_SIZE")


@dataclass
class AppUnderTest:
    module: ModuleType
    client: Client
    bucket: str
    lock_table: str
    s3: Any
    dynamodb: Any
    stage: dict[str, str]  # the variables the Client applies around each invocation

    def invoke(self, event: dict[str, Any]) -> Any:
        return self.client.lambda_.invoke("on_object_created", event).payload

    def lock_items(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=self.lock_table, ConsistentRead=True)["Items"])


def write_stage(project_dir: Path, variables: dict[str, str]) -> Path:
    """A project directory whose `.chalice/config.json` is the project's, with `variables` added
    to the dev stage's environment."""
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text(encoding="utf-8"))
    config["stages"][STAGE]["environment_variables"].update(variables)
    (project_dir / ".chalice").mkdir(parents=True, exist_ok=True)
    (project_dir / ".chalice" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return project_dir


@pytest.fixture
def make_app(
    moto_url: str,
    dynamodb_local_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., AppUnderTest]]:
    """The app on a new stage with the given settings; S3 on moto, DynamoDB Local."""

    def build(
        app_dynamodb_url: str | None = None, app_s3_url: str | None = None, **variables: str
    ) -> AppUnderTest:
        """`app_*_url` point the app (not the test's own clients) elsewhere, e.g. a fault proxy."""
        bucket = unique_name("uploads")
        table = unique_name("locks")
        s3 = boto3.client("s3", endpoint_url=moto_url)
        dynamodb = boto3.client("dynamodb", endpoint_url=dynamodb_local_url)
        s3.create_bucket(Bucket=bucket)
        create_lock_table(dynamodb, table)
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", app_s3_url or moto_url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", app_dynamodb_url or dynamodb_local_url)
        stage = {"APP_BUCKET_NAME": bucket, "LOCK_TABLE_NAME": table, **variables}
        project = write_stage(tmp_path_factory.mktemp("stage"), stage)
        import_time = {k: v for k, v in variables.items() if k in IMPORT_TIME_VARIABLES}
        # Such a stage is imported afresh with its variables in the environment, as Lambda
        # runs it, so its handlers may also be called directly (not through the Client).
        for name, value in (stage_environment(project, STAGE) if import_time else {}).items():
            monkeypatch.setenv(name, value)
        module = load_app(fresh=bool(import_time))
        client = Client(module.app, stage_name=STAGE, project_dir=str(project))
        return AppUnderTest(
            module, client, bucket, table, s3, dynamodb, stage_environment(project, STAGE)
        )

    yield build


def load_app(fresh: bool = False) -> ModuleType:
    """`app.py`, imported once per process as Lambda imports it (`fresh`: again, for a stage
    whose import-time settings differ)."""
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    if fresh and "app" in sys.modules:
        return importlib.reload(sys.modules["app"])
    return importlib.import_module("app")


@pytest.fixture
def dev_stage(
    moto_url: str, dynamodb_local_url: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The dev stage's bucket, output buckets and tables on the local servers, for tests written
    as Chalice documents them: `Client(app, stage_name="dev")`, from the project directory."""
    from chalicelib.processors import REGISTRY
    from s3once.aws.tables import create_required_tables

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local_url)
    monkeypatch.chdir(PROJECT_DIR)
    environment = stage_environment(PROJECT_DIR, STAGE)
    plugin = REGISTRY.plugin(environment.get("PROCESSOR"))
    s3 = boto3.client("s3", endpoint_url=moto_url)
    buckets = {environment["APP_BUCKET_NAME"]} | {
        environment[action.setting] for action in plugin.actions if action.action.startswith("s3:")
    }
    for bucket in sorted(buckets):
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=bucket)
    create_required_tables(boto3.client("dynamodb", endpoint_url=dynamodb_local_url), environment)
    return environment


def outcomes(payload: dict[str, Any] | IncompleteBatchError) -> list[tuple[Any, Any]]:
    """(outcome, attempts) of each record of an invocation's summary or of the error it raised."""
    records = payload.records if isinstance(payload, IncompleteBatchError) else payload["records"]
    return [(r["outcome"], r["attempts"]) for r in records]


@pytest.fixture
def two_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The standard AWS_MAX_ATTEMPTS, lowered so that giving up takes little time."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")


@pytest.fixture
def dynamodb_proxy(dynamodb_local_url: str) -> Iterator[FaultProxy]:
    """A fault proxy in front of DynamoDB Local (tests/faults.py): point the app at its url."""
    with fault_proxy(dynamodb_local_url) as proxy:
        yield proxy


@pytest.fixture
def s3_proxy(moto_url: str) -> Iterator[FaultProxy]:
    """A fault proxy in front of moto's S3."""
    with fault_proxy(moto_url) as proxy:
        yield proxy
