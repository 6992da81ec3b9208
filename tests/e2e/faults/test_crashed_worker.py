"""A worker killed with SIGKILL mid-processing: its lease holds off redeliveries, then expires.

The worker runs the real handler in a process of its own. Its S3 endpoint is a socket that
accepts connections and never answers, so the worker is inside the processor (lock taken,
object not done) when it is killed: the recipe's "crash after the lock".
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from chalicelib.core.errors import IncompleteBatchError
from s3once.s3_events import created_event, put_upload
from tests.conftest import PROJECT_DIR
from tests.e2e.conftest import AppUnderTest

LEASE_SECONDS = 3


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
def test_a_killed_worker_leaves_the_object_busy_until_its_lease_expires_then_taken_over(
    make_app: Callable[..., AppUnderTest], silent_endpoint: str
) -> None:
    app = make_app(LEASE_SECONDS=str(LEASE_SECONDS))
    # Build this side's pipeline (its clients) now, not inside the worker's short lease.
    app.invoke({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": app.bucket})
    event = created_event(
        put_upload(app.s3, app.bucket, "big upload.bin", b"x" * 64, "application/zip")
    )

    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.faults.worker_process"],
        cwd=PROJECT_DIR,
        env={
            **os.environ,
            **app.stage,
            "AWS_ENDPOINT_URL_S3": silent_endpoint,
            "PYTHONPATH": str(PROJECT_DIR),
        },
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert worker.stdin is not None
    worker.stdin.write(json.dumps(event).encode())
    worker.stdin.close()
    wait_for(lambda: bool(app.lock_items()) or worker.poll() is not None, 30, "the worker's lock")
    assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)

    [stuck] = app.lock_items()
    assert (stuck["status"]["S"], stuck["attempts"]["N"]) == ("IN_PROGRESS", "1")

    with pytest.raises(IncompleteBatchError) as busy:
        app.invoke(event)
    assert [(r["outcome"], r["attempts"]) for r in busy.value.records] == [("busy", 1)]

    lease_end_s = int(stuck["lease_expires_at"]["N"]) / 1000
    wait_for(lambda: time.time() > lease_end_s + 0.05, LEASE_SECONDS + 5, "the lease to expire")
    taken = app.invoke(event)
    assert [(r["outcome"], r["attempts"]) for r in taken["records"]] == [("taken_over", 2)]
    assert [(r["outcome"], r["attempts"]) for r in app.invoke(event)["records"]] == [("skipped", 2)]
    [done] = app.lock_items()
    assert done["status"]["S"] == "COMPLETED"
    assert done["result"]["M"]["content_type"]["S"] == "application/zip"
