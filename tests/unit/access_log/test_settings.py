"""The access-log settings: ACCESS_LOG_FORMAT and AGGREGATES_TABLE_NAME, read by the processor."""

from __future__ import annotations

import pytest

from chalicelib.access_log.settings import AccessLogSettings
from chalicelib.errors import ConfigurationError
from chalicelib.processors import REGISTRY

BASE = {"APP_BUCKET_NAME": "b", "LOCK_TABLE_NAME": "locks"}


def test_access_log_reads_its_format_and_aggregates_table() -> None:
    configured = REGISTRY.configure(
        "access-log", BASE | {"ACCESS_LOG_FORMAT": "s3", "AGGREGATES_TABLE_NAME": "agg"}
    )

    assert configured.settings == AccessLogSettings(aggregates_table_name="agg", log_format="s3")
    assert REGISTRY.tables_named_in({"AGGREGATES_TABLE_NAME": "agg"}) == {
        "agg": configured.plugin.tables[0]
    }


def test_the_format_defaults_to_auto() -> None:
    settings = AccessLogSettings.from_environ({"AGGREGATES_TABLE_NAME": "agg"})
    assert settings.log_format == "auto"


def test_an_unknown_format_is_refused_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="ACCESS_LOG_FORMAT='w3c' is not one of"):
        AccessLogSettings.from_environ({"ACCESS_LOG_FORMAT": "w3c", "AGGREGATES_TABLE_NAME": "a"})


def test_access_log_needs_its_aggregates_table() -> None:
    with pytest.raises(ConfigurationError, match="AGGREGATES_TABLE_NAME must be set"):
        REGISTRY.configure("access-log", BASE)
