"""Log lines: a timestamp and the invocation's request id on every line, the processor's too."""

from __future__ import annotations

import json
import logging
import re

import pytest

from chalicelib.core.errors import ConfigurationError
from chalicelib.core.logs import (
    HANDLER_NAME,
    configure_level,
    get_logger,
    log,
    log_level,
    request_context,
)

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.fixture(autouse=True)
def fresh_handler() -> None:
    """The handler writes to the stdout of the moment (capsys swaps it per test)."""
    root = logging.getLogger("s3once")
    root.handlers = [h for h in root.handlers if h.get_name() != HANDLER_NAME]
    root.setLevel(logging.INFO)


def test_every_line_of_an_invocation_carries_its_request_id_and_a_timestamp(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with request_context("req-1"):
        log(get_logger(), logging.INFO, "core line", key="a")
        log(get_logger("s3once.line-count"), logging.WARNING, "processor line")
    log(get_logger(), logging.INFO, "outside")

    core, processor, outside = lines(capsys)
    assert (core["request_id"], processor["request_id"]) == ("req-1", "req-1")
    assert processor["logger"] == "s3once.line-count"
    assert "request_id" not in outside
    assert all(ISO_UTC.match(str(line["timestamp"])) for line in (core, processor, outside))


@pytest.mark.parametrize(
    ("value", "level"),
    [("", logging.INFO), ("DEBUG", logging.DEBUG), ("WARN", logging.WARNING), ("fatal", 50)],
)
def test_lambdas_log_level_is_honoured(value: str, level: int) -> None:
    assert log_level({"AWS_LAMBDA_LOG_LEVEL": value}) == level


def test_lines_below_the_level_are_dropped(capsys: pytest.CaptureFixture[str]) -> None:
    configure_level({"AWS_LAMBDA_LOG_LEVEL": "ERROR"})
    log(get_logger("s3once.checksum"), logging.INFO, "quiet")
    log(get_logger("s3once.checksum"), logging.ERROR, "loud")
    assert [line["message"] for line in lines(capsys)] == ["loud"]


def test_an_unknown_level_is_refused_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="AWS_LAMBDA_LOG_LEVEL='LOUD' is not one of"):
        log_level({"AWS_LAMBDA_LOG_LEVEL": "loud"})
