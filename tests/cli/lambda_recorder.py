"""A stand-in for the Lambda Invoke API on loopback that records what it is sent.

The tool reaches it through the standard AWS_ENDPOINT_URL_LAMBDA, so its invocations travel as
they would to AWS: signed HTTP requests through botocore."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from tests.loopback import serve

INVOKE_PATH = "/2015-03-31/functions/"


@dataclass(frozen=True)
class Invocation:
    function: str
    invocation_type: str
    event: dict[str, Any]


@dataclass
class LambdaRecorder:
    url: str = ""
    invocations: list[Invocation] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        return [record for call in self.invocations for record in call.event["Records"]]


@contextmanager
def lambda_recorder() -> Iterator[LambdaRecorder]:
    recorder = LambdaRecorder()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            if not self.path.startswith(INVOKE_PATH):
                self._reply(404, b'{"message": "not an Invoke request"}')
                return
            function = unquote(self.path[len(INVOKE_PATH) :].split("/", 1)[0])
            invocation = Invocation(
                function=function,
                invocation_type=self.headers.get("X-Amz-Invocation-Type", "RequestResponse"),
                event=json.loads(body),
            )
            with lock:
                recorder.invocations.append(invocation)
            self._reply(202, b"")

        def _reply(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    with serve(Handler) as server:
        recorder.url = server.url
        yield recorder
