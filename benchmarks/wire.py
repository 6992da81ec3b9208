"""What passes between a botocore client and DynamoDB: counted, recorded, or answered instantly.

`InstantDynamoDB` answers every request from a response DynamoDB Local gave to the same
design's request at the same step, recorded by `Recorder`: the client still validates,
serialises, signs and parses exactly as it would against the service (botocore's `before-send`
event, the hook moto uses too), but nothing goes over a socket and nothing waits for a server,
so what is timed is the client's own CPU.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse


@dataclass(frozen=True)
class RecordedResponse:
    status_code: int
    headers: Any  # the response's own case-insensitive header map
    body: bytes


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class RequestCounter:
    """Counts the requests a client sends (retries included)."""

    def __init__(self) -> None:
        self.requests = 0
        self.request_bytes = 0

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send.dynamodb", self._count)

    def _count(self, request: Any, **_: Any) -> None:
        self.requests += 1
        self.request_bytes += len(request.body or b"")


class Recorder:
    """Keeps every response a client receives, in order."""

    def __init__(self) -> None:
        self.responses: list[RecordedResponse] = []

    def attach(self, client: Any) -> None:
        client.meta.events.register("after-call.dynamodb", self._keep)

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("after-call.dynamodb", self._keep)

    def _keep(self, http_response: Any, **_: Any) -> None:
        self.responses.append(
            RecordedResponse(
                http_response.status_code, http_response.headers, http_response.content
            )
        )


class InstantDynamoDB:
    """Answers each request at once with the next of `script`, cycling."""

    def __init__(self) -> None:
        self._script: list[RecordedResponse] = []
        self._next = 0

    def play(self, script: list[RecordedResponse]) -> None:
        self._script = script
        self._next = 0

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send.dynamodb", self._answer)

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        recorded = self._script[self._next % len(self._script)]
        self._next += 1
        return AWSResponse(
            request.url, recorded.status_code, recorded.headers, _Body(recorded.body)
        )
