"""The content-type processor on an in-memory object store."""

from __future__ import annotations

import json
import logging

import pytest

from chalicelib.core.errors import ObjectNotFoundError
from chalicelib.core.logs import JsonFormatter
from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import UnguardedWork
from chalicelib.processors.content_type import ContentTypeProcessor
from tests.fakes import FakeObjectStore


def test_it_reports_and_logs_the_content_type_and_size(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeObjectStore()
    store.put("uploads", "a b.png", b"\x89PNG" + b"0" * 6, "image/png")
    logger = logging.getLogger("tests.content_type")
    with caplog.at_level(logging.INFO, logger=logger.name):
        result = ContentTypeProcessor(store, logger).process(
            ObjectRef("uploads", "a b.png"), UnguardedWork()
        )
    assert result.summary == {"content_type": "image/png", "size": 10}
    assert result.increments == ()
    [line] = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    assert line["message"] == "CONTENT TYPE: image/png"
    assert (line["key"], line["content_type"]) == ("a b.png", "image/png")


def test_a_missing_object_is_a_permanent_failure() -> None:
    with pytest.raises(ObjectNotFoundError, match="no longer exists"):
        ContentTypeProcessor(FakeObjectStore()).process(
            ObjectRef("uploads", "gone"), UnguardedWork()
        )
