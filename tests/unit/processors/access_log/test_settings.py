"""The access-log settings, read by the processor itself through the registry
(`AccessLogSettings`: aggregates table, format, budgets, window, shards)."""

from __future__ import annotations

import dataclasses

import pytest

from chalicelib.core.errors import ConfigurationError
from chalicelib.core.settings import Settings
from chalicelib.processors import REGISTRY
from chalicelib.processors.access_log.formats import MAX_BYTES_DIGITS, LogFormat
from chalicelib.processors.access_log.settings import MAX_INFLATED_MIB, MIB, AccessLogSettings

BASE = {"APP_BUCKET_NAME": "b", "LOCK_TABLE_NAME": "locks"}


def test_access_log_reads_its_format_and_aggregates_table_through_the_registry() -> None:
    configured = REGISTRY.configure(
        "access-log", BASE | {"ACCESS_LOG_FORMAT": "s3", "AGGREGATES_TABLE_NAME": "agg"}
    )

    assert configured.settings == AccessLogSettings(
        aggregates_table_name="agg", log_format=LogFormat.S3
    )
    assert REGISTRY.tables_named_in({"AGGREGATES_TABLE_NAME": "agg"}) == {
        "agg": configured.plugin.tables[0]
    }


def test_an_unknown_format_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="ACCESS_LOG_FORMAT='w3c' is not one of"):
        REGISTRY.configure(
            "access-log", BASE | {"ACCESS_LOG_FORMAT": "w3c", "AGGREGATES_TABLE_NAME": "a"}
        )


def test_access_log_without_an_aggregates_table_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="AGGREGATES_TABLE_NAME must be set"):
        REGISTRY.configure("access-log", BASE)


def test_the_core_settings_know_nothing_of_access_logs() -> None:
    assert not {"aggregates_table_name", "access_log_format"} & set(Settings._fields)


ACCESS_LOG = {"AGGREGATES_TABLE_NAME": "agg"}


def test_the_processor_settings_have_documented_defaults() -> None:
    settings = AccessLogSettings.from_environ(ACCESS_LOG)

    assert settings == AccessLogSettings(aggregates_table_name="agg")
    assert settings.log_format is None  # detected per file
    assert (settings.max_inflated_bytes, settings.max_inflation_ratio) == (1024 * MIB, 100)
    assert (settings.max_hours_before_upload, settings.max_hours_after_upload) == (9600, 2)
    assert (settings.max_hours_per_file, settings.shards) == (744, 32)


def test_every_processor_variable_is_read() -> None:
    settings = AccessLogSettings.from_environ(
        {
            "AGGREGATES_TABLE_NAME": " agg ",
            "ACCESS_LOG_FORMAT": "combined",
            "ACCESS_LOG_MAX_INFLATED_MIB": "64",
            "ACCESS_LOG_MAX_INFLATION_RATIO": "50",
            "ACCESS_LOG_MAX_HOURS_PER_FILE": "24",
            "ACCESS_LOG_MAX_HOURS_BEFORE_UPLOAD": "48",
            "ACCESS_LOG_MAX_HOURS_AFTER_UPLOAD": "0",
            "ACCESS_LOG_SHARDS": "1",
        }
    )

    assert settings == AccessLogSettings(
        aggregates_table_name="agg",
        log_format=LogFormat.COMBINED,
        max_inflated_bytes=64 * MIB,
        max_inflation_ratio=50,
        max_hours_per_file=24,
        max_hours_before_upload=48,
        max_hours_after_upload=0,
        shards=1,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ACCESS_LOG_FORMAT", "w3c", "is not one of"),
        ("ACCESS_LOG_MAX_INFLATED_MIB", "0", "out of range"),
        ("ACCESS_LOG_MAX_INFLATED_MIB", "lots", "not a whole number"),
        ("ACCESS_LOG_MAX_INFLATION_RATIO", "1", "out of range"),
        ("ACCESS_LOG_MAX_HOURS_PER_FILE", "5000", "out of range"),
        ("ACCESS_LOG_MAX_HOURS_BEFORE_UPLOAD", "-1", "out of range"),
        ("ACCESS_LOG_MAX_HOURS_AFTER_UPLOAD", "1.5", "not a whole number"),
        ("ACCESS_LOG_SHARDS", "0", "out of range"),
        ("ACCESS_LOG_SHARDS", "65", "out of range"),
    ],
)
def test_an_invalid_value_names_its_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=f"{name}.*{message}"):
        AccessLogSettings.from_environ(ACCESS_LOG | {name: value})


def test_the_processor_needs_its_aggregates_table() -> None:
    with pytest.raises(ConfigurationError, match="AGGREGATES_TABLE_NAME"):
        AccessLogSettings.from_environ({"AGGREGATES_TABLE_NAME": "  "})


def test_the_settings_are_frozen() -> None:
    settings = AccessLogSettings()

    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.shards = 2  # type: ignore[misc]


def test_the_largest_counters_the_limits_allow_stay_far_inside_38_digits() -> None:
    # Every line is at least a few dozen bytes; each adds at most 10**13 - 1 bytes sent.
    most_lines_per_file = MAX_INFLATED_MIB * MIB // 2
    largest_sum = most_lines_per_file * (10**MAX_BYTES_DIGITS - 1)

    assert len(str(largest_sum)) <= 24  # 14 digits of headroom: 10**14 such files per hour
