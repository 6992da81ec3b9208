"""The fuzzer's malformed events through every route's Chalice handler, as Lambda calls it.

Chalice builds its event object (`S3Event`, `CloudWatchEvent`, ...) from the raw event before
the handler runs, and may read fields as it does: the parser alone cannot show that nothing but
InvalidEventError escapes. Each route's handler is called as Lambda calls it (the registered
handler with the raw event and a context), on the real pipeline over in-memory fakes, and its
parser on the same event. The SQS route may also answer IncompleteBatchError: its documented
answer when every message of the batch failed.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.core.errors import IncompleteBatchError, InvalidEventError
from chalicelib.routes.batch_operations import read_invocation
from chalicelib.routes.eventbridge import parse_eventbridge
from chalicelib.routes.notifications import parse_event
from chalicelib.routes.sqs import read_messages
from tests.conftest import FIXTURES_DIR, PROJECT_DIR
from tests.unit.routes.routes_world import RouteWorld
from tests.unit.routes.test_event_fuzz import FUZZ_EXAMPLES, hostile, malformed_events, scatter

EXAMPLES = max(FUZZ_EXAMPLES * 4 // 5, 200)  # about a fifth as many per route
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
BUCKET = "s3-once-uploads-fuzz"
EVENTBRIDGE_SEEDS = [
    (FIXTURES_DIR / name).read_text()
    for name in (
        "powertools__s3EventBridgeNotificationObjectCreatedEvent.json",
        "powertools__s3EventBridgeNotificationObjectDeletedEvent.json",
    )
]
BATCH_SEEDS = [
    (FIXTURES_DIR / name).read_text()
    for name in (
        "powertools__s3BatchOperationEventSchemaV1.json",
        "powertools__s3BatchOperationEventSchemaV2.json",
    )
]
NOTIFICATION = json.loads((FIXTURES_DIR / "powertools__s3Event.json").read_text())


@pytest.fixture(scope="module")
def handlers() -> Iterator[ModuleType]:
    """`app.py` imported as Lambda imports it, on a stage with the SQS route, its pipeline and
    routes on in-memory fakes (scope `content`) instead of AWS."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("APP_BUCKET_NAME", BUCKET)
        patch.setenv("SQS_QUEUE_NAME", "s3-once-events-fuzz")
        spec = importlib.util.spec_from_file_location("app_under_fuzz", PROJECT_DIR / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        world = RouteWorld()
        patch.setattr(module, "pipeline_for", lambda environ: world.pipeline())
        patch.setattr(module, "route_handlers_for", lambda environ: world.routes())
        yield module


def only_invalid_event_error(call: Callable[[], object], *allowed: type[Exception]) -> None:
    try:
        call()
    except InvalidEventError as exc:
        str(exc).encode("utf-8")  # fit for a log line: no lone surrogate
    except allowed:
        pass


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str]) -> object:
    if draw(st.integers(0, 30)) == 0:
        return draw(hostile)
    event = json.loads(seeds[draw(st.integers(0, len(seeds) - 1))])
    for _ in range(draw(st.integers(1, 4))):
        scatter(draw, event)
    return event


@st.composite
def sqs_batches(draw: st.DrawFn) -> object:
    """SQS batches whose bodies are malformed notifications, or malformed batches."""
    bodies = draw(st.lists(malformed_events(), min_size=1, max_size=3))
    records: list[Any] = []
    for index, body in enumerate(bodies):
        try:
            text = json.dumps(body)
        except (ValueError, RecursionError):
            text = "{"
        records.append({"eventSource": "aws:sqs", "messageId": f"m{index}", "body": text})
    batch: dict[str, Any] = {"Records": records}
    if draw(st.integers(0, 3)) == 0:
        scatter(draw, batch)
    return batch


class Route(NamedTuple):
    handler: str  # app.py's name for it
    events: st.SearchStrategy[object]
    parse: Callable[[object], object]
    allowed: tuple[type[Exception], ...] = ()


ROUTES = [
    Route("on_object_created", malformed_events(), parse_event),
    Route("on_sqs_message", sqs_batches(), read_messages, (IncompleteBatchError,)),
    Route("on_eventbridge_object_created", mutated(EVENTBRIDGE_SEEDS), parse_eventbridge),
    Route("on_batch_operations_task", mutated(BATCH_SEEDS), read_invocation),
]


@FUZZ
@given(route=st.sampled_from(ROUTES), data=st.data())
def test_every_route_raises_nothing_but_invalid_event_error_through_its_handler_and_parser(
    handlers: ModuleType, route: Route, data: st.DataObject
) -> None:
    event = data.draw(route.events)
    only_invalid_event_error(lambda: route.parse(event))
    handler = getattr(handlers, route.handler)
    only_invalid_event_error(lambda: handler(event, None), *route.allowed)


def notification_with_first_key(key: object) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(json.dumps(NOTIFICATION))
    event["Records"][0]["s3"]["object"]["key"] = key
    return event


@pytest.mark.parametrize("key", [None, 7, 2.5, True, ["a"], {"a": 1}, ""])
def test_a_malformed_first_key_is_refused_by_path_through_the_handler(
    handlers: ModuleType, key: object
) -> None:
    with pytest.raises(InvalidEventError, match=r"^Records\[0\]\.s3\.object\.key "):
        handlers.on_object_created(notification_with_first_key(key), None)


def test_a_malformed_second_key_is_refused_by_path_and_the_first_record_processed(
    handlers: ModuleType,
) -> None:
    event = json.loads(json.dumps(NOTIFICATION))
    second = json.loads(json.dumps(event["Records"][0]))
    second["s3"]["object"]["key"] = ["not", "a", "key"]
    event["Records"].append(second)

    with pytest.raises(InvalidEventError) as raised:
        handlers.on_object_created(event, None)

    assert str(raised.value).startswith("Records[1].s3.object.key ")


def test_a_first_record_without_etag_is_named_by_its_path_under_the_content_scope(
    handlers: ModuleType,
) -> None:
    event = notification_with_first_key("no-etag.txt")
    del event["Records"][0]["s3"]["object"]["eTag"]

    with pytest.raises(InvalidEventError, match=r"^Records\[0\]\.s3\.object\.eTag is missing"):
        handlers.on_object_created(event, None)


def test_an_eventbridge_event_without_detail_is_refused_through_the_handler(
    handlers: ModuleType,
) -> None:
    event = json.loads(EVENTBRIDGE_SEEDS[0])
    del event["detail"], event["version"]

    with pytest.raises(InvalidEventError, match="detail is missing"):
        handlers.on_eventbridge_object_created(event, None)
