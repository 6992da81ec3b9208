"""The Chalice app under test, wired to moto's S3 and DynamoDB Local through standard env vars."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from chalice.test import Client

from s3once.tables import create_lock_table
from tests.conftest import PROJECT_DIR, unique_name


@dataclass
class AppUnderTest:
    module: ModuleType
    client: Client
    bucket: str
    lock_table: str
    s3: Any
    dynamodb: Any

    def invoke(self, event: dict[str, Any]) -> Any:
        return self.client.lambda_.invoke("on_object_created", event).payload

    def lock_items(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=self.lock_table, ConsistentRead=True)["Items"])


@pytest.fixture
def make_app(
    moto_url: str, dynamodb_local_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., AppUnderTest]]:
    """Build the app with the given settings (env var overrides); S3 on moto, DynamoDB Local."""

    def build(
        app_dynamodb_url: str | None = None, app_s3_url: str | None = None, **environment: str
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
        monkeypatch.setenv("APP_BUCKET_NAME", bucket)
        monkeypatch.setenv("LOCK_TABLE_NAME", table)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        module = load_app()
        client = Client(module.app, project_dir=str(PROJECT_DIR))
        return AppUnderTest(module, client, bucket, table, s3, dynamodb)

    yield build


def load_app() -> ModuleType:
    """Import app.py afresh so it reads the current environment, as a new Lambda container would."""
    from chalicelib.composition import pipeline, route_handlers

    pipeline.cache_clear()
    route_handlers.cache_clear()
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    if "app" in sys.modules:
        return importlib.reload(sys.modules["app"])
    return importlib.import_module("app")
