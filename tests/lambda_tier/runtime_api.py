"""Lambda's Runtime API for one execution environment, served on loopback.

The endpoints and headers AWS documents for custom runtimes and runtime interface clients
(`GET /2018-06-01/runtime/invocation/next`, `POST .../invocation/{id}/response` and `/error`,
`POST .../init/error`): the runtime client in the function's process long-polls for the next
invocation and posts its answer, exactly as it does on Lambda. One server per execution
environment, so an environment that was killed can never take another attempt's invocation.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import LoopbackServer

PREFIX = "/2018-06-01/runtime"
NEXT = PREFIX + "/invocation/next"
INIT_ERROR = PREFIX + "/init/error"
INVOCATION = PREFIX + "/invocation/"


@dataclass(frozen=True)
class Invocation:
    request_id: str
    payload: bytes
    function_arn: str
    timeout_s: float


@dataclass(frozen=True)
class Answer:
    """What the runtime posted: `response`, `error` (a function error) or `init_error`."""

    kind: str
    request_id: str
    body: bytes
    error_type: str | None = None  # the Lambda-Runtime-Function-Error-Type header

    @property
    def payload(self) -> Any:
        return json.loads(self.body) if self.body else None


def trace_id() -> str:
    """An X-Ray trace header as Lambda passes it to the runtime."""
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled=0"


class RuntimeAPI:
    """The Runtime API of one execution environment: `offer` an invocation, read `answers`."""

    def __init__(self) -> None:
        self._pending: queue.Queue[Invocation] = queue.Queue()
        self.answers: queue.Queue[Answer] = queue.Queue()
        self._handed_out: dict[str, float] = {}  # request id -> time.monotonic() of hand-out
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._server = LoopbackServer(self._handler())

    @property
    def address(self) -> str:
        """The value of AWS_LAMBDA_RUNTIME_API."""
        return self._server.address

    def offer(self, invocation: Invocation) -> None:
        self._pending.put(invocation)

    def handed_out_at(self, request_id: str) -> float | None:
        """When the runtime took the invocation: its timeout runs from then (init does not
        count against it)."""
        with self._lock:
            return self._handed_out.get(request_id)

    def close(self) -> None:
        self._closed.set()
        self._server.close()

    def _next_invocation(self) -> Invocation | None:
        while not self._closed.is_set():
            try:
                invocation = self._pending.get(timeout=0.05)
            except queue.Empty:
                continue
            with self._lock:
                self._handed_out[invocation.request_id] = time.monotonic()
            return invocation
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path != NEXT:
                    self._reply(404, {"errorMessage": f"no such endpoint {self.path}"})
                    return
                invocation = api._next_invocation()
                if invocation is None:  # the environment is shut down: its process is gone
                    self.close_connection = True
                    return
                deadline_ms = int((time.time() + invocation.timeout_s) * 1000)
                self._reply(
                    200,
                    invocation.payload,
                    {
                        "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                        "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                        "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                        "Lambda-Runtime-Trace-Id": trace_id(),
                    },
                )

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
                if self.path == INIT_ERROR:
                    api.answers.put(Answer("init_error", "", body, error_type))
                    self._reply(202, {"status": "OK"})
                    return
                request_id, _, kind = self.path.removeprefix(INVOCATION).partition("/")
                if not self.path.startswith(INVOCATION) or kind not in ("response", "error"):
                    self._reply(404, {"errorMessage": f"no such endpoint {self.path}"})
                    return
                api.answers.put(Answer(kind, request_id, body, error_type))
                self._reply(202, {"status": "OK"})

            def _reply(
                self,
                status: int,
                body: bytes | dict[str, str],
                headers: dict[str, str] | None = None,
            ) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        return Handler
