"""A stage to operate: a lock table on DynamoDB Local or moto, a bucket on moto, and the
`s3once` command run in a process of its own against them."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from s3once.local.servers import dynamodb_local
from s3once.s3_events import Upload, put_upload
from tests.conftest import run_s3once, unique_name

PROCESSOR = "content-type"


@dataclass
class Stage:
    project: Path
    dynamodb_url: str
    s3_url: str
    table: str
    bucket: str
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_url,
            "AWS_ENDPOINT_URL_S3": self.s3_url,
            "LOCK_TABLE_NAME": self.table,
            "APP_BUCKET_NAME": self.bucket,
            **self.extra_env,
        }

    def s3once(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return run_s3once(*args, cwd=self.project, **{**self.env(), **env})

    def json(self, *args: str, **env: str) -> Any:
        result = self.s3once(*args, "--json", **env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    @property
    def dynamodb(self) -> Any:
        return boto3.client("dynamodb", endpoint_url=self.dynamodb_url)

    @property
    def s3(self) -> Any:
        return boto3.client("s3", endpoint_url=self.s3_url)

    def upload(self, key: str, body: bytes = b"hello") -> Upload:
        return put_upload(self.s3, self.bucket, key, body, "text/plain")

    def items(self) -> dict[str, dict[str, Any]]:
        items = {}
        for page in self.dynamodb.get_paginator("scan").paginate(
            TableName=self.table, ConsistentRead=True
        ):
            for item in page["Items"]:
                items[item["pk"]["S"]] = item
        return items

    def put_record(
        self,
        upload: Upload,
        status: str,
        attempts: int = 1,
        lease_ms: int = 0,
        owner: str = "request-1",
        error: str | None = None,
        updated_ms: int | None = None,
    ) -> str:
        """A lock record as docs/design.md "The lock table" lays it out (an open one with its
        open-work key, under the default shard count, as the function writes it)."""
        from chalicelib.aws.lock_table import DEFAULT_OPEN_SHARDS, open_shard
        from s3once.aws.listing import upload_pk

        pk = upload_pk(upload, "content", PROCESSOR)
        now = int(time.time() * 1000)
        item: dict[str, Any] = {
            "pk": {"S": pk},
            "status": {"S": status},
            "bucket": {"S": upload.bucket},
            "key": {"S": upload.key},
            "etag": {"S": upload.etag},
            "size": {"N": str(upload.size)},
            "attempts": {"N": str(attempts)},
            "owner": {"S": owner},
            "lease_expires_at": {"N": str(lease_ms or now - 1000)},
            "created_at": {"N": str(now)},
            "updated_at": {"N": str(updated_ms or now)},
            "expires_at": {"N": str(now // 1000 + 86400)},
        }
        if error is not None:
            item["last_error"] = {"S": error}
        if status != "COMPLETED":
            item["open_shard"] = {"S": open_shard(pk, status, DEFAULT_OPEN_SHARDS)}
            item["open_since"] = item["updated_at"]
        self.dynamodb.put_item(TableName=self.table, Item=item)
        return pk


def make_stage(project: Path, dynamodb_url: str, s3_url: str) -> Stage:
    """Tables created by `s3once create-tables`; an empty bucket."""
    stage = Stage(project, dynamodb_url, s3_url, unique_name("locks"), unique_name("uploads"))
    stage.s3.create_bucket(Bucket=stage.bucket)
    created = stage.s3once("create-tables")
    assert created.returncode == 0, created.stderr
    return stage


@pytest.fixture
def stage(project: Path, dynamodb_url: str, moto_url: str) -> Stage:
    """A stage whose lock table `s3once create-tables` made, on each DynamoDB in turn."""
    return make_stage(project, dynamodb_url, moto_url)


@pytest.fixture(scope="session")
def own_dynamodb_local() -> Iterator[str]:
    """A DynamoDB Local for the tests that add an index to an existing table: the session's,
    after many tables and requests, has been seen to leave such an index CREATING for good."""
    with dynamodb_local() as url:
        yield url


@pytest.fixture(params=("dynamodb-local", "moto"))
def index_server(request: pytest.FixtureRequest) -> str:
    """Each DynamoDB implementation in turn, DynamoDB Local being one of its own."""
    fixture = "own_dynamodb_local" if request.param == "dynamodb-local" else "moto_url"
    url: str = request.getfixturevalue(fixture)
    return url
