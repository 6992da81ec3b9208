"""The same upload delivered by all four routes, in turn and at once: one processing, one record.

Direct notification, SQS-queued notification, EventBridge event and S3 Batch Operations task
name the same upload in four shapes (URL-encoded key or not, eTag or none). Each route reports
in its own way; whatever the order, exactly one delivery processes the object and every other
reports it done (skipped) or to be delivered again (busy), and a redelivery then skips it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from chalice.local import LambdaContext

from chalicelib.core.errors import IncompleteBatchError
from chalicelib.core.logs import LOGGER_NAME, JsonFormatter, get_logger
from s3once.s3_events import Upload, created_event, put_upload
from tests.e2e.conftest import AppUnderTest
from tests.e2e.routes.routes_app import BATCH_FUNCTION, EVENTBRIDGE_FUNCTION, SQS_FUNCTION
from tests.route_events import batch_of, eventbridge_created, fixture, sqs_batch, sqs_message

ROUTES = ("notification", "sqs", "eventbridge", "batch-operations")
KEY = "four ways/a+b #1 100%.txt"


class LogLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def processings(self, key: str) -> int:
        return sum(
            1
            for line in self.lines
            if line["message"].startswith("CONTENT TYPE") and line.get("key") == key
        )

    def sqs_outcome(self, message_id: str) -> str:
        (line,) = [line for line in self.lines if line.get("message_id") == message_id]
        if line["fate"] != "done":
            return "busy" if line["outcomes"] == ["busy"] else line["fate"]
        (outcome,) = line["outcomes"]
        return str(outcome)


@pytest.fixture
def logs() -> Iterator[LogLines]:
    handler = LogLines()
    logger = get_logger(LOGGER_NAME)  # configured first: it skips a logger that has handlers
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def deliveries(app: AppUnderTest, upload: Upload, logs: LogLines) -> dict[str, Callable[[], str]]:
    """Per route: deliver the upload and return the outcome that route reports for it."""
    handlers = app.module.app.handler_map

    def call(function: str, event: dict[str, Any]) -> Any:
        return handlers[function](event, LambdaContext(function, memory_size=256))

    def direct() -> str:
        try:
            return str(call("on_object_created", created_event(upload))["records"][0]["outcome"])
        except IncompleteBatchError as exc:
            return str(exc.records[0]["outcome"])

    def queued() -> str:
        message_id = f"m-{len(logs.lines)}-{threading.get_ident()}"
        test_event = sqs_message(fixture("awsdocs__s3_test_event.json"))
        batch = sqs_batch(sqs_message(created_event(upload), message_id), test_event)
        failures = call(SQS_FUNCTION, batch)["batchItemFailures"]
        assert failures in ([], [{"itemIdentifier": message_id}])
        return logs.sqs_outcome(message_id)

    def eventbridge() -> str:
        try:
            return str(
                call(EVENTBRIDGE_FUNCTION, eventbridge_created(upload))["records"][0]["outcome"]
            )
        except IncompleteBatchError as exc:
            return str(exc.records[0]["outcome"])

    def batch_operations() -> str:
        (result,) = call(BATCH_FUNCTION, batch_of(upload))["results"]
        expected = {"processed": "Succeeded", "skipped": "Succeeded", "busy": "TemporaryFailure"}
        outcome = result["resultString"].split(":")[0]
        assert result["resultCode"] == expected[outcome]
        return str(outcome)

    return dict(zip(ROUTES, (direct, queued, eventbridge, batch_operations), strict=True))


def four_route_app(make_app: Any) -> AppUnderTest:
    app: AppUnderTest = make_app(SQS_QUEUE_NAME="s3-once-events-test")
    app.module.route_handlers_for(app.stage)  # clients made before threads share them
    return app


@pytest.mark.parametrize("first", ROUTES)
def test_in_sequence_the_first_route_processes_and_the_others_skip(
    make_app: Any, logs: LogLines, first: str
) -> None:
    app = four_route_app(make_app)
    upload = put_upload(app.s3, app.bucket, KEY, b"same upload", "text/plain")
    deliver = deliveries(app, upload, logs)
    order = [first, *(route for route in ROUTES if route != first)]

    reported = {route: deliver[route]() for route in order}

    assert reported == {route: "processed" if route == first else "skipped" for route in ROUTES}
    assert logs.processings(KEY) == 1
    (item,) = app.lock_items()
    assert (item["key"]["S"], item["status"]["S"], item["attempts"]["N"]) == (
        KEY,
        "COMPLETED",
        "1",
    )


def at_once(deliver: dict[str, Callable[[], str]]) -> dict[str, str]:
    """Every route's delivery in a thread of its own, released together."""
    start = threading.Barrier(len(deliver))
    reported: dict[str, str] = {}

    def run(route: str) -> None:
        start.wait()
        reported[route] = deliver[route]()

    threads = [threading.Thread(target=run, args=(route,)) for route in deliver]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return reported


def test_at_once_one_route_processes_and_every_other_skips_or_is_busy_then_skips(
    make_app: Any, logs: LogLines
) -> None:
    app = four_route_app(make_app)
    uploads = [
        put_upload(app.s3, app.bucket, f"{KEY}-{n}", f"body {n}".encode(), "text/plain")
        for n in range(5)
    ]
    for upload in uploads:
        deliver = deliveries(app, upload, logs)
        reported = at_once(deliver)
        retried = {route: deliver[route]() for route, out in reported.items() if out == "busy"}

        assert sorted(reported) == sorted(ROUTES)
        assert list(reported.values()).count("processed") == 1, reported
        assert set(reported.values()) <= {"processed", "skipped", "busy"}, reported
        assert set(retried.values()) <= {"skipped"}, retried
        assert logs.processings(upload.key) == 1
    items = app.lock_items()
    assert sorted(item["key"]["S"] for item in items) == sorted(u.key for u in uploads)
    assert {(item["status"]["S"], item["attempts"]["N"]) for item in items} == {("COMPLETED", "1")}
