"""Faults for the app's AWS calls, injected from outside the application.

A fault-injecting HTTP proxy on loopback, placed between the app and a local AWS server: the
app reaches it through the standard endpoint variables, so faults arrive exactly as AWS sends
them, over HTTP, through botocore's parsing and retries, with no hook in the app. And, for one
client, faults below botocore through its event hooks (`faults_below_botocore`).
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ConnectionClosedError

from tests.loopback import serve


@dataclass(frozen=True)
class Fault:
    status: int
    body: bytes
    content_type: str = "application/x-amz-json-1.0"
    # True: the request reaches the server and takes effect, only its response is lost.
    after_forwarding: bool = False
    # > 0: no fault at all, the request is only held this long before it is forwarded.
    delay_s: float = 0.0


THROTTLED = Fault(
    400,
    b'{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",'
    b'"message":"Rate of requests exceeds the allowed throughput."}',
)
S3_UNAVAILABLE = Fault(503, b"", content_type="application/xml")
SLOW = Fault(0, b"", delay_s=2.5)  # a slow answer: longer than a 1 s lease, no error
LOST_RESPONSE = Fault(
    500,
    b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError",'
    b'"message":"Internal server error"}',
    after_forwarding=True,
)


@dataclass
class FaultRule:
    """Answer `fault` to matching requests: after letting `after` through, `times` times
    (None: for ever)."""

    matches: Callable[[str, str, dict[str, str]], bool]
    fault: Fault
    times: int | None = None
    after: int = 0
    seen: int = 0
    hits: int = 0

    def take(self, method: str, path: str, headers: dict[str, str]) -> Fault | None:
        if not self.matches(method, path, headers):
            return None
        self.seen += 1
        if self.seen <= self.after or (self.times is not None and self.hits >= self.times):
            return None
        self.hits += 1
        return self.fault


@dataclass
class FaultProxy:
    url: str
    rules: list[FaultRule] = field(default_factory=list)


def dynamodb_operation(name: str) -> Callable[[str, str, dict[str, str]], bool]:
    return lambda _m, _p, headers: headers.get("x-amz-target", "").endswith("." + name)


def s3_method(method: str) -> Callable[[str, str, dict[str, str]], bool]:
    return lambda m, _p, _h: m == method


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    target = urlsplit(upstream)
    proxy = FaultProxy(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with lock:
                fault = next(
                    (
                        f
                        for rule in proxy.rules
                        if (f := rule.take(self.command, self.path, headers))
                    ),
                    None,
                )
            if fault is not None and fault.delay_s:
                time.sleep(fault.delay_s)
                fault = None
            if fault is not None and not fault.after_forwarding:
                self._reply(fault.status, [("Content-Type", fault.content_type)], fault.body)
                return
            upstream_conn = http.client.HTTPConnection(
                target.hostname or "127.0.0.1", target.port, timeout=60
            )
            upstream_conn.request(self.command, self.path, body=body, headers=dict(self.headers))
            response = upstream_conn.getresponse()
            payload = response.read()
            passed = [
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in {"content-length", "transfer-encoding", "connection"}
            ]
            upstream_conn.close()
            if fault is not None:
                self._reply(fault.status, [("Content-Type", fault.content_type)], fault.body)
                return
            self._reply(response.status, passed, payload)

        def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _handle

        def log_message(self, *_: object) -> None:
            pass

    with serve(Handler) as server:
        proxy.url = server.url
        yield proxy


# Faults below botocore, through its event hooks on one client (any endpoint, moto included).
LOST = "lost"  # the request reaches the server and is applied; its answer never arrives
THROTTLED_HERE = "throttled"  # refused as throttled before reaching the server
PASS = "pass"


@dataclass
class SendFaults:
    """Faults for the next sends of one operation, one per send in order; `seen` logs them."""

    pending: list[str]
    seen: list[str] = field(default_factory=list)


def faults_below_botocore(client: Any, operation: str, *faults: str) -> SendFaults:
    """Inject `faults` into the next sends of `operation` by `client`.

    A LOST send really goes to the server (so the write is applied), then fails as a dropped
    connection: botocore's retry logic sends the same request again, as it would on AWS.
    """
    plan = SendFaults(list(faults))

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        if not plan.pending:
            return None
        fault = plan.pending.pop(0)
        plan.seen.append(fault)
        if fault == LOST:
            client._endpoint.http_session.send(request)
            raise ConnectionClosedError(endpoint_url=request.url)
        if fault == THROTTLED_HERE:
            headers = HTTPHeaders()
            headers["Content-Type"] = THROTTLED.content_type
            return AWSResponse(request.url, THROTTLED.status, headers, _RawBody(THROTTLED.body))
        return None

    client.meta.events.register(f"before-send.dynamodb.{operation}", before_send)
    return plan


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body
