"""The access-log settings: ACCESS_LOG_FORMAT and AGGREGATES_TABLE_NAME."""

from __future__ import annotations

import pytest

from chalicelib.errors import ConfigurationError
from chalicelib.settings import Settings

BASE = {"APP_BUCKET_NAME": "b", "LOCK_TABLE_NAME": "locks"}


def test_access_log_reads_its_format_and_aggregates_table() -> None:
    settings = Settings.from_environ(
        BASE
        | {"PROCESSOR": "access-log", "ACCESS_LOG_FORMAT": "s3", "AGGREGATES_TABLE_NAME": "agg"}
    )

    assert (settings.processor, settings.access_log_format, settings.aggregates_table_name) == (
        "access-log",
        "s3",
        "agg",
    )


def test_the_format_defaults_to_auto_detection() -> None:
    settings = Settings.from_environ(
        BASE | {"PROCESSOR": "access-log", "AGGREGATES_TABLE_NAME": "a"}
    )

    assert settings.access_log_format == "auto"


def test_an_unknown_format_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="ACCESS_LOG_FORMAT"):
        Settings.from_environ(BASE | {"ACCESS_LOG_FORMAT": "w3c", "AGGREGATES_TABLE_NAME": "a"})


def test_access_log_without_an_aggregates_table_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="AGGREGATES_TABLE_NAME"):
        Settings.from_environ(BASE | {"PROCESSOR": "access-log"})


def test_other_processors_do_not_need_an_aggregates_table() -> None:
    assert Settings.from_environ(BASE).aggregates_table_name is None
