"""The local servers the tests and `s3once` start never outlive the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import PROJECT_DIR

STARTER = """
import time
from s3once.local.servers import dynamodb_local
with dynamodb_local() as url:
    print(url, flush=True)
    time.sleep(120)
"""


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="relies on Linux's parent-death signal")
def test_dynamodb_local_dies_with_a_starter_killed_by_sigkill() -> None:
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER],
        cwd=PROJECT_DIR,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert starter.stdout is not None
    assert starter.stdout.readline().startswith("http://127.0.0.1:")
    [server] = children_of(starter.pid)
    assert alive(server)

    starter.send_signal(signal.SIGKILL)
    starter.wait(timeout=10)
    deadline = time.monotonic() + 15
    while alive(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(server)
