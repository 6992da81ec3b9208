"""The core's configuration: defaults, and a clear message for each way it can be wrong."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from chalicelib.core.errors import ConfigurationError
from chalicelib.core.model import IdempotencyScope
from chalicelib.core.settings import Settings
from tests.conftest import PROJECT_DIR

REQUIRED = {"APP_BUCKET_NAME": "uploads", "LOCK_TABLE_NAME": "locks"}


def test_defaults_apply_when_only_the_required_settings_are_given() -> None:
    settings = Settings.from_environ(REQUIRED)
    assert settings == Settings(
        bucket_name="uploads",
        lock_table_name="locks",
        processor=None,
        scope=IdempotencyScope.CONTENT,
        lease_seconds=None,
        record_ttl_days=30,
    )


def test_every_setting_is_read() -> None:
    settings = Settings.from_environ(
        REQUIRED
        | {
            "PROCESSOR": "checksum",
            "IDEMPOTENCY_SCOPE": "version",
            "LEASE_SECONDS": "90",
            "RECORD_TTL_DAYS": "7",
            "OPEN_INDEX_SHARDS": "64",
        }
    )
    assert (
        settings.processor,
        settings.scope,
        settings.lease_seconds,
        settings.record_ttl_days,
        settings.open_index_shards,
    ) == ("checksum", IdempotencyScope.VERSION, 90, 7, 64)


def test_the_core_reads_no_processor_setting() -> None:
    fields = set(Settings._fields)
    assert fields == {
        "bucket_name",
        "lock_table_name",
        "processor",
        "scope",
        "lease_seconds",
        "record_ttl_days",
        "open_index_shards",
    }


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LOCK_TABLE_NAME": "locks"}, "APP_BUCKET_NAME must be set"),
        ({"APP_BUCKET_NAME": "uploads", "LOCK_TABLE_NAME": "  "}, "LOCK_TABLE_NAME must be set"),
        (REQUIRED | {"IDEMPOTENCY_SCOPE": "key"}, "IDEMPOTENCY_SCOPE='key' is not one of: content"),
        (REQUIRED | {"LEASE_SECONDS": "ten"}, "LEASE_SECONDS='ten' is not a whole number"),
        (REQUIRED | {"LEASE_SECONDS": "0"}, r"LEASE_SECONDS=0 is out of range \(1 to 86400\)"),
        (REQUIRED | {"RECORD_TTL_DAYS": "-1"}, "RECORD_TTL_DAYS=-1 is out of range"),
        (REQUIRED | {"OPEN_INDEX_SHARDS": "0"}, "OPEN_INDEX_SHARDS=0 is out of range"),
    ],
)
def test_bad_configuration_is_refused_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_environ(environ)


def import_app(**environ: str) -> subprocess.CompletedProcess[str]:
    """`import app` in a new interpreter, as a Lambda container starts."""
    env = {k: v for k, v in os.environ.items() if k not in ("APP_BUCKET_NAME", "LOCK_TABLE_NAME")}
    return subprocess.run(
        [sys.executable, "-c", "import app"],
        cwd=PROJECT_DIR,
        env=env | environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_app_refuses_to_start_without_a_bucket() -> None:
    result = import_app(LOCK_TABLE_NAME="locks")
    assert result.returncode != 0
    assert "ConfigurationError: APP_BUCKET_NAME must be set" in result.stderr


def test_importing_the_app_reads_only_the_bucket_and_loads_no_processor() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, app; print(sorted(m for m in sys.modules if 'processors.' in m"
            " or m.startswith('chalicelib.processors.access_log') or m == 'boto3'))",
        ],
        cwd=PROJECT_DIR,
        env={k: v for k, v in os.environ.items() if k != "LOCK_TABLE_NAME"}
        | {"APP_BUCKET_NAME": "uploads", "PROCESSOR": "no-such-processor"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # boto3 is imported by the composition root (clients are created on first use only); the
    # processors' registry with the processor, when the first event builds the pipeline.
    assert result.stdout.strip() == "['boto3']"
