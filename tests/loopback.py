"""An HTTP request handler served on a free loopback port, in a thread of its own.

The stand-ins for AWS endpoints the tests run (a Lambda Runtime API, fault proxies, recorders)
are `BaseHTTPRequestHandler` classes; this serves one until it is closed. Each request runs in
its own daemon thread, so a handler that blocks (a long poll) holds up no other request.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a killed worker, a timed-out request) is not an error of the
        server's; anything else is printed as the standard library does."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LoopbackServer:
    """`handler` served on 127.0.0.1 at a free port from construction until `close()`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """`127.0.0.1:<port>`, as a variable such as AWS_LAMBDA_RUNTIME_API names a server."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[LoopbackServer]:
    server = LoopbackServer(handler)
    try:
        yield server
    finally:
        server.close()
