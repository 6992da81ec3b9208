"""Configuration: defaults, and a clear message for each way it can be wrong."""

from __future__ import annotations

import pytest

from chalicelib.errors import ConfigurationError
from chalicelib.model import IdempotencyScope
from chalicelib.settings import Settings

REQUIRED = {"APP_BUCKET_NAME": "uploads", "LOCK_TABLE_NAME": "locks"}


def test_defaults_apply_when_only_the_required_settings_are_given() -> None:
    settings = Settings.from_environ(REQUIRED)
    assert settings == Settings(
        bucket_name="uploads",
        lock_table_name="locks",
        processor="content-type",
        scope=IdempotencyScope.CONTENT,
        lease_seconds=None,
        record_ttl_days=30,
    )


def test_every_setting_is_read() -> None:
    settings = Settings.from_environ(
        REQUIRED | {"IDEMPOTENCY_SCOPE": "version", "LEASE_SECONDS": "90", "RECORD_TTL_DAYS": "7"}
    )
    assert (settings.scope, settings.lease_seconds, settings.record_ttl_days) == (
        IdempotencyScope.VERSION,
        90,
        7,
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LOCK_TABLE_NAME": "locks"}, "APP_BUCKET_NAME must be set"),
        ({"APP_BUCKET_NAME": "uploads", "LOCK_TABLE_NAME": "  "}, "LOCK_TABLE_NAME must be set"),
        (REQUIRED | {"PROCESSOR": "thumbnail"}, "PROCESSOR='thumbnail' is not one of"),
        (REQUIRED | {"IDEMPOTENCY_SCOPE": "key"}, "IDEMPOTENCY_SCOPE='key' is not one of: content"),
        (REQUIRED | {"LEASE_SECONDS": "ten"}, "LEASE_SECONDS='ten' is not a whole number"),
        (REQUIRED | {"LEASE_SECONDS": "0"}, r"LEASE_SECONDS=0 is out of range \(1 to 86400\)"),
        (REQUIRED | {"RECORD_TTL_DAYS": "-1"}, "RECORD_TTL_DAYS=-1 is out of range"),
    ],
)
def test_bad_configuration_is_refused_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_environ(environ)


def test_the_app_refuses_to_start_without_a_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.e2e.conftest import load_app

    monkeypatch.delenv("APP_BUCKET_NAME", raising=False)
    monkeypatch.setenv("LOCK_TABLE_NAME", "locks")
    with pytest.raises(ConfigurationError, match="APP_BUCKET_NAME must be set"):
        load_app()
