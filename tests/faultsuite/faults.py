"""Faults below botocore, on one worker's DynamoDB client: lost answers, throttling, crashes, stops.

A `before-send` hook sees every HTTP request the client sends, resends included, and may:
- lose the answer: forward the request (the write applies), then answer 500 or drop the
  connection, so that botocore resends the same request;
- throttle it: answer ProvisionedThroughputExceededException without forwarding;
- crash the worker before or after forwarding (nothing after it reaches the store);
- stop the worker (it blocks until resumed), as SIGSTOP would.

Every request is recorded as a `Call`, so the checker can tell which writes were applied.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import urllib3
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ConnectionClosedError

ACQUIRE, RENEW, COMPLETE, FAIL, COMMIT, READ, OTHER = (
    "acquire",
    "renew",
    "complete",
    "fail",
    "commit",
    "read",
    "other",
)
WRITES = (ACQUIRE, RENEW, COMPLETE, FAIL, COMMIT)
LOST, THROTTLED, CRASH_BEFORE, CRASH_AFTER, STOPPED = (
    "lost",
    "throttled",
    "crash-before",
    "crash-after",
    "stopped",
)
_THROTTLE_BODY = (
    b'{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",'
    b'"message":"Rate of requests exceeds the allowed throughput."}'
)
_ERROR_BODY = (
    b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError",'
    b'"message":"Internal server error"}'
)
_POOL = urllib3.PoolManager(maxsize=16)


class SimulatedCrash(BaseException):
    """The worker died here: nothing it would do afterwards reaches the store.

    A BaseException, so that no `except Exception` in the code under test can turn a crash
    into an orderly failure."""


@dataclass(frozen=True)
class FaultPlan:
    """How one invocation's DynamoDB calls misbehave; every decision comes from `seed`."""

    seed: int
    lost_answer: float = 0.0  # per write request
    throttle: float = 0.0  # per request: a burst of 1 to `max_burst` throttled answers starts
    max_burst: int = 3
    crash_at: int | None = None  # request index
    crash_after_send: bool = False
    stop_at: int | None = None  # request index

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class Call:
    index: int
    kind: str
    pk: str
    digest: str  # the same request resent has the same digest
    fault: str = ""
    applied: bool | None = None  # for answers lost after forwarding: did the server apply it


@dataclass
class FaultInjector:
    """Attached to one client; `on_stop` blocks while the worker is stopped."""

    plan: FaultPlan
    on_stop: Callable[[], None] = lambda: None
    on_crash: Callable[[bool], None] | None = None  # called instead of raising (processes)
    calls: list[Call] = field(default_factory=list)
    dead: bool = False
    client: Any = None
    _burst: int = 0
    _running: threading.Event = field(default_factory=threading.Event)
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.plan.seed)
        self._running.set()

    def attach(self, client: Any) -> None:
        self.client = client
        client.meta.events.register_first("before-send.dynamodb", self._before_send)

    def crash(self) -> None:
        """Die now (from a processor, say): every later request of this worker is refused."""
        self.dead = True
        raise SimulatedCrash("worker crashed")

    def _before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        self._running.wait()  # a stopped worker's other threads (lease renewal) stop too
        if self.dead:
            raise SimulatedCrash("worker is dead")
        operation = event_name.rsplit(".", 1)[-1]
        body = bytes(request.body or b"")
        kind, pk = classify(operation, body)
        with self._lock:
            index = len(self.calls)
            fault = self._draw(index, kind)
        if fault == STOPPED:
            self.calls.append(Call(index, kind, pk, _digest(body), STOPPED))
            self._running.clear()
            try:
                self.on_stop()
            finally:
                self._running.set()
            if self.dead:
                raise SimulatedCrash("worker died while stopped")
            return None
        if fault in (CRASH_BEFORE, CRASH_AFTER):
            applied = _forward(request).status == 200 if fault == CRASH_AFTER else None
            self.calls.append(Call(index, kind, pk, _digest(body), fault, applied))
            self.dead = True
            if self.on_crash is not None:
                self.on_crash(fault == CRASH_AFTER)
            raise SimulatedCrash(f"worker crashed at request {index} ({kind}, {fault})")
        if fault == THROTTLED:
            self.calls.append(Call(index, kind, pk, _digest(body), THROTTLED))
            return _response(request.url, 400, _THROTTLE_BODY)
        if fault == LOST:
            status = _forward(request).status
            self.calls.append(Call(index, kind, pk, _digest(body), LOST, status == 200))
            if self._rng.random() < 0.5:
                raise ConnectionClosedError(endpoint_url=request.url)
            return _response(request.url, 500, _ERROR_BODY)
        self.calls.append(Call(index, kind, pk, _digest(body)))
        return None

    def _draw(self, index: int, kind: str) -> str:
        plan, rng = self.plan, self._rng
        lost, throttle = rng.random(), rng.random()
        if plan.crash_at == index:
            return CRASH_AFTER if plan.crash_after_send else CRASH_BEFORE
        if plan.stop_at == index:
            return STOPPED
        if self._burst > 0:
            self._burst -= 1
            return THROTTLED
        if throttle < plan.throttle:
            self._burst = rng.randint(1, plan.max_burst) - 1
            return THROTTLED
        if kind in WRITES and lost < plan.lost_answer:
            return LOST
        return ""


def classify(operation: str, body: bytes) -> tuple[str, str]:
    """The kind of lock write a DynamoDB request is, and the lock record it targets."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return OTHER, ""
    if operation == "TransactWriteItems":
        first = document.get("TransactItems", [{}])[0]
        update = first.get("Update") or first.get("ConditionCheck") or {}
        return COMMIT, str(update.get("Key", {}).get("pk", {}).get("S", ""))
    pk = str(document.get("Key", {}).get("pk", {}).get("S", ""))
    if operation == "GetItem":
        return READ, pk
    if operation != "UpdateItem":
        return OTHER, pk
    condition = str(document.get("ConditionExpression", ""))
    values = list(_strings(document.get("ExpressionAttributeValues", {})))
    if "attribute_not_exists" in condition:
        return ACQUIRE, pk
    if "COMPLETED" in values:
        return COMPLETE, pk
    if "FAILED" in values:
        return FAIL, pk
    return (RENEW if condition else OTHER), pk


def _strings(values: dict[str, Any]) -> Iterator[str]:
    for value in values.values():
        if isinstance(value, dict) and "S" in value:
            yield str(value["S"])


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def _forward(request: Any) -> Any:
    """Send the request to the server as botocore would have; the answer is ours to keep."""
    return _POOL.request(
        request.method,
        request.url,
        body=request.body,
        headers=dict(request.headers.items()),
        retries=False,
        preload_content=True,
    )


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _response(url: str, status: int, body: bytes) -> AWSResponse:
    headers = HTTPHeaders()
    headers["Content-Type"] = "application/x-amz-json-1.0"
    headers["x-amzn-RequestId"] = "faultsuite"
    return AWSResponse(url, status, headers, _Raw(body))
