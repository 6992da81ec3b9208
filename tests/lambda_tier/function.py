"""A Lambda function run the way Lambda runs it, one execution environment at a time.

An execution environment is a process of its own: AWS's runtime interface client
(`python -m awslambdaric <handler>`) in the read-only task root, with the variables Lambda sets
and the function's own, talking to a Runtime API of its own (`tests/lambda_tier/runtime_api.py`).
It is kept warm between invocations; an invocation that outlives its timeout is killed with its
environment, and so is one whose process dies: the next attempt starts a new environment, with
a new cold start, as on Lambda.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s3once.local.servers import OFFLINE_CREDENTIALS
from tests.lambda_tier.deployment import FunctionConfig
from tests.lambda_tier.runtime_api import Answer, Invocation, RuntimeAPI

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
# Lambda's limit on the init phase of an on-demand environment (importing the handler).
INIT_TIMEOUT_S = 10.0
# Where boto3 and the runtime client come from: the test venv's, as Lambda's runtime provides its.
SITE_PACKAGES = sysconfig.get_paths()["purelib"]


@dataclass(frozen=True)
class Attempt:
    """One invocation attempt: the function's response, or the error Lambda reports."""

    request_id: str
    succeeded: bool
    payload: Any
    environment: int  # which execution environment ran it: 1, 2, ... in the order started

    @property
    def error_type(self) -> str | None:
        if self.succeeded or not isinstance(self.payload, dict):
            return None
        return str(self.payload.get("errorType"))


class ExecutionEnvironment:
    def __init__(self, number: int, process: subprocess.Popen[bytes], api: RuntimeAPI) -> None:
        self.number = number
        self.process = process
        self.api = api

    def discard(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self.api.close()


class Function:
    """`config` deployed from `task_root`; `environment` adds what the test points elsewhere
    (the AWS_ENDPOINT_URL_* of the local servers)."""

    def __init__(
        self, config: FunctionConfig, task_root: Path, log_dir: Path, environment: dict[str, str]
    ) -> None:
        self.config = config
        self.task_root = task_root
        self.log_dir = log_dir
        self.environment = environment
        self.environments_started = 0
        self._current: ExecutionEnvironment | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.config.name}"

    def invoke(self, payload: Any, request_id: str) -> Attempt:
        """One attempt, as Lambda makes it: in the warm environment, or a new one."""
        environment = self._current or self._start()
        environment.api.offer(
            Invocation(request_id, json.dumps(payload).encode(), self.arn, self.config.timeout_s)
        )
        offered = time.monotonic()
        while True:
            answer = _next_answer(environment.api, request_id, wait_s=0.02)
            if answer is not None:
                if answer.kind == "init_error":
                    self._discard(environment)
                return Attempt(
                    request_id, answer.kind == "response", answer.payload, environment.number
                )
            if environment.process.poll() is not None:
                answer = _next_answer(environment.api, request_id, wait_s=0)  # posted, then died
                self._discard(environment)
                if answer is not None:
                    return Attempt(request_id, False, answer.payload, environment.number)
                return Attempt(
                    request_id,
                    False,
                    exit_error(request_id, environment.process.returncode),
                    environment.number,
                )
            handed_out = environment.api.handed_out_at(request_id)
            now = time.monotonic()
            if handed_out is None and now - offered > INIT_TIMEOUT_S:
                self._discard(environment)
                return Attempt(request_id, False, init_timeout(request_id), environment.number)
            if handed_out is not None and now - handed_out > self.config.timeout_s:
                self._discard(environment)
                return Attempt(
                    request_id,
                    False,
                    timed_out(request_id, self.config.timeout_s),
                    environment.number,
                )

    def kill(self) -> None:
        """SIGKILL the running environment's process, as an out-of-memory kill would."""
        if self._current is not None:
            self._current.process.send_signal(signal.SIGKILL)

    def logs(self) -> str:
        """Everything the function's environments wrote (Lambda sends it to CloudWatch)."""
        return "".join(
            path.read_text(encoding="utf-8", errors="replace")
            for path in sorted(self.log_dir.glob(f"{self.config.name}-*.log"))
        )

    def json_lines(self) -> list[dict[str, Any]]:
        """The function's JSON lines: its log lines and EMF documents (the runtime client's own
        lines are not JSON)."""
        return [json.loads(line) for line in self.logs().splitlines() if line.startswith("{")]

    def close(self) -> None:
        if self._current is not None:
            self._discard(self._current)

    def process_environment(self, runtime_api: str) -> dict[str, str]:
        """Lambda's reserved variables, the function's own, then the test's endpoints."""
        name = self.config.name
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{self.config.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.config.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{self.environments_started}",
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "LAMBDA_TASK_ROOT": str(self.task_root),
            "LAMBDA_RUNTIME_DIR": SITE_PACKAGES,
            "_HANDLER": self.config.handler,
            "PYTHONPATH": f"{self.task_root}:{SITE_PACKAGES}",
            **{k: v for k, v in OFFLINE_CREDENTIALS.items() if k != "AWS_DEFAULT_REGION"},
            **self.config.variables,
            **self.environment,
        }

    def _start(self) -> ExecutionEnvironment:
        self.environments_started += 1
        api = RuntimeAPI()
        log = (self.log_dir / f"{self.config.name}-{self.environments_started:02d}.log").open("wb")
        # -S: no site-packages but those on PYTHONPATH (no .pth file of the test venv, such as
        # its editable install, reaches the function); the task root comes first.
        process = subprocess.Popen(
            [sys.executable, "-S", "-m", "awslambdaric", self.config.handler],
            cwd=self.task_root,
            env=self.process_environment(api.address),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()  # the process holds its own descriptor
        self._current = ExecutionEnvironment(self.environments_started, process, api)
        return self._current

    def _discard(self, environment: ExecutionEnvironment) -> None:
        environment.discard()
        if self._current is environment:
            self._current = None


def _next_answer(api: RuntimeAPI, request_id: str, wait_s: float) -> Answer | None:
    try:
        answer = api.answers.get(timeout=wait_s) if wait_s else api.answers.get_nowait()
    except queue.Empty:
        return None
    if answer.kind != "init_error" and answer.request_id != request_id:
        raise AssertionError(f"an answer for {answer.request_id}, expected {request_id}")
    return answer


def exit_error(request_id: str, returncode: int) -> dict[str, str]:
    # Lambda words it as Go does: "signal: killed", "exit status 1".
    how = (
        f"signal: {(signal.strsignal(-returncode) or str(-returncode)).lower()}"
        if returncode < 0
        else f"exit status {returncode}"
    )
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {how}",
    }


def timed_out(request_id: str, timeout_s: float) -> dict[str, str]:
    return {
        "errorType": "Sandbox.Timedout",
        "errorMessage": (
            f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"
        ),
    }


def init_timeout(request_id: str) -> dict[str, str]:
    return {
        "errorType": "Runtime.Unknown",
        "errorMessage": (
            f"RequestId: {request_id} Error: INIT phase timed out after {INIT_TIMEOUT_S:.0f} s"
        ),
    }
