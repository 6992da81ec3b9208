"""A fuzzer of malformed events: real AWS payloads mutated field by field with hostile values.

Whatever arrives, `parse_event` and `idempotency_key` raise nothing but InvalidEventError: a bad
record is collected in `ParsedEvent.invalid` (and the others are still read), an unreadable
event raises InvalidEventError at once. Every message is printable in a log line and every pk
fits DynamoDB. `S3ONCE_FUZZ_EXAMPLES` sets the number of events (5,000 by default).
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.core.errors import InvalidEventError
from chalicelib.core.keys import MAX_PK_BYTES, idempotency_key
from chalicelib.core.model import IdempotencyScope
from chalicelib.routes.notifications import parse_event
from s3once.s3_events import Upload, created_event
from tests.conftest import FIXTURES_DIR

FUZZ_EXAMPLES = int(os.environ.get("S3ONCE_FUZZ_EXAMPLES", "5000"))
# Kept as JSON text: decoding a fresh copy is cheaper than deepcopy.
SEEDS = [
    (FIXTURES_DIR / name).read_text()
    for name in (
        "powertools__s3Event.json",
        "powertools__s3SqsEvent.json",
        "powertools__s3EventDeleteObject.json",
        "awslambdago__s3-event.json",
        "awsdocs__s3_test_event.json",
    )
] + [
    json.dumps(
        created_event(
            Upload("uploads", "reports/q1 #2.csv", "d41d8cd98f00b204e9800998ecf8427e", 5),
            Upload(
                "uploads", "a+b %.txt", "9b2cf535f27731c974343645a3985328-3", 0, version_id="v1"
            ),
            Upload("uploads", "日本語", "e", 2, version_id="null"),
        )
    )
]


def nested(depth: int) -> object:
    """A list nested `depth` deep, built without recursion."""
    value: object = []
    for _ in range(depth):
        value = [value]
    return value


surrogates = st.characters(categories=["Cs"])
awkward_text = st.text(
    alphabet=st.one_of(st.characters(), surrogates, st.sampled_from('#%+"\\\x00 .-')), max_size=40
)
plausible_text = st.sampled_from(
    [
        "ObjectCreated:Put",
        "ObjectRemoved:Delete",
        "aws:s3",
        "aws:sqs",
        "s3:TestEvent",
        "null",
        '"d41d8cd98f00b204e9800998ecf8427e"',
        '""',
        "%FF%FE",
        "%ED%A0%80",
        "a+b%2B",
        "192.168.0.1",
        "2026-01-01T00:00:00.000Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "0C0F6F405D6ED209E1",
        "",
    ]
)
huge_text = st.builds(
    lambda char, count: char * count,
    st.sampled_from(["a", "#", "é", "[", "\ud800", "%"]),
    st.sampled_from([64, 1025, 3000, 70_000, 1_100_000]),
)
numbers = st.one_of(
    st.integers(),
    st.sampled_from([-1, 0, 2**63, 10**38, 10**39, 5 * 1024**4 + 1]),
    st.sampled_from([39, 400, 5000]).map(lambda digits: 10**digits),  # past str()'s 4,300
    st.floats(allow_nan=True, allow_infinity=True),
)
deep = st.sampled_from([40, 1200]).map(nested)
hostile_json_bodies = st.one_of(
    st.sampled_from(["{not json", "[1]", "null", '"x"', '{"Records": {}}', "1" * 5000]),
    st.sampled_from([40, 2000, 200_000]).map(lambda n: "[" * n + "]" * n),
    st.sampled_from([40, 2000]).map(lambda n: '{"a":' * n + "1" + "}" * n),
)
small_json = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, awkward_text, plausible_text),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(awkward_text, children, max_size=3)
    ),
    max_leaves=6,
)
hostile = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    awkward_text,
    plausible_text,
    huge_text,
    deep,
    small_json,
    hostile_json_bodies,
)


def positions(event: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in the event, found without recursion."""
    found: list[tuple[Any, Any]] = []
    pending = [event]
    while pending:
        node = pending.pop()
        slots = node.items() if isinstance(node, dict) else enumerate(node)
        for slot, child in slots:
            found.append((node, slot))
            if isinstance(child, dict | list):
                pending.append(child)
    return found


# The fields a parser reads, where mutations are aimed most of the time.
FIELDS = [
    ("eventSource",),
    ("eventName",),
    ("eventTime",),
    ("s3",),
    ("s3", "bucket"),
    ("s3", "bucket", "name"),
    ("s3", "object"),
    ("s3", "object", "key"),
    ("s3", "object", "eTag"),
    ("s3", "object", "versionId"),
    ("s3", "object", "sequencer"),
    ("s3", "object", "size"),
]


def aim(draw: st.DrawFn, event: dict[str, Any]) -> None:
    """Replace or delete one field the parser reads, in one of the records."""
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        return
    node = records[draw(st.integers(0, len(records) - 1))]
    *path, name = FIELDS[draw(st.integers(0, len(FIELDS) - 1))]
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return
    if draw(st.integers(0, 5)) == 0:
        node.pop(name, None)
    else:
        node[name] = draw(hostile)


def scatter(draw: st.DrawFn, event: dict[str, Any]) -> None:
    """Replace, delete or add a value anywhere in the event."""
    slots = positions(event)
    if not slots:
        return
    container, slot = slots[draw(st.integers(0, len(slots) - 1))]
    action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if action == "replace":
        container[slot] = draw(hostile)
    elif action == "delete":
        del container[slot]
    elif isinstance(container, dict):
        container[draw(st.sampled_from(["body", "eventSource", "Records", "x"]))] = draw(hostile)
    else:
        container.append(draw(hostile))


def wrapped_in_sqs(event: dict[str, Any]) -> dict[str, Any]:
    """The event as the body of an SQS message, when it can be written as JSON at all."""
    try:
        body = json.dumps(event)
    except (ValueError, RecursionError):  # a 5,000-digit number, a list nested 1,200 deep
        return event
    return {"Records": [{"eventSource": "aws:sqs", "body": body}]}


@st.composite
def malformed_events(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 30)) == 0:
        return draw(hostile)  # not even an object
    event = json.loads(SEEDS[draw(st.integers(0, len(SEEDS) - 1))])
    if draw(st.booleans()) and isinstance(event.get("Records"), list):
        records = event["Records"]
        records.extend(json.loads(json.dumps(records)) * draw(st.integers(0, 2)))
    for _ in range(draw(st.integers(0, 4))):
        aim(draw, event)
    for _ in range(draw(st.integers(0, 2))):
        scatter(draw, event)
    if draw(st.integers(0, 4)) == 0:
        event = wrapped_in_sqs(event)
        if draw(st.booleans()):
            scatter(draw, event)
    return event


def top_level_records(event: object) -> list[Any] | None:
    """The records of an event none of whose records is an SQS message (each then yields exactly
    one object, ignored record or invalid message)."""
    if not isinstance(event, dict) or event.get("Event") == "s3:TestEvent":
        return None
    records = event.get("Records")
    if not isinstance(records, list):
        return None
    if any(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records):
        return None
    return records


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(event=malformed_events(), processor=st.one_of(st.just("content-type"), st.text()))
def test_malformed_events_raise_nothing_but_invalid_event_error(
    event: object, processor: str
) -> None:
    try:
        parsed = parse_event(event)
    except InvalidEventError as exc:
        str(exc).encode("utf-8")  # fit for a log line: no lone surrogate
        return
    for message in parsed.invalid:
        message.encode("utf-8")
        assert len(message) < 2000
    records = top_level_records(event)
    if records is not None:  # one bad record never hides the others
        assert len(parsed.objects) + len(parsed.ignored) + len(parsed.invalid) == len(records)
    for obj in parsed.objects:
        for scope in IdempotencyScope:
            try:
                pk = idempotency_key(obj, scope, processor)
            except InvalidEventError as exc:
                str(exc).encode("utf-8")
                continue
            assert len(pk.encode("utf-8")) <= MAX_PK_BYTES
