"""Deliver synthesized S3 events: to the project's handler in local worker processes, or to the
deployed function by asynchronous Lambda invocations (InvocationType=Event)."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol

from s3once.aws.session import OperatorError
from s3once.s3_events import Upload, created_event

SENT = "sent"  # the outcome of an asynchronous invocation: Lambda accepted the event


@dataclass(frozen=True)
class Delivered:
    records: list[Mapping[str, Any]] = field(default_factory=list)
    error: str | None = None


class Deliverer(Protocol):
    def deliver(self, uploads: list[Upload]) -> Delivered: ...


class LocalHandler:
    """The handler in `workers` processes (`s3once.local.handler_worker`), each taking one event
    at a time; `environment` is theirs alone (the stage's variables and the AWS settings)."""

    def __init__(
        self,
        project_dir: Path,
        environment: Mapping[str, str],
        workers: int = 1,
        log: IO[str] | None = None,
    ) -> None:
        self._project_dir = project_dir
        self._environment = dict(environment)
        self._count = workers
        self._log = log
        self._idle: queue.Queue[subprocess.Popen[str]] = queue.Queue()
        self._all: list[subprocess.Popen[str]] = []
        self._lock = threading.Lock()

    def __enter__(self) -> LocalHandler:
        return self

    def _start(self) -> subprocess.Popen[str]:
        worker = subprocess.Popen(
            [sys.executable, "-m", "s3once.local.handler_worker"],
            cwd=self._project_dir,
            env=self._environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._all.append(worker)
        return worker

    def _take(self) -> subprocess.Popen[str]:
        """An idle worker; a new one (started on demand, as Lambda does) while fewer than
        `workers` run."""
        with self._lock:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                if len(self._all) < self._count:
                    return self._start()
        return self._idle.get()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for worker in self._all:
            if worker.stdin:
                worker.stdin.close()
        for worker in self._all:
            try:
                worker.wait(timeout=120)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    def deliver(self, uploads: list[Upload]) -> Delivered:
        worker = self._take()
        try:
            assert worker.stdin is not None and worker.stdout is not None
            worker.stdin.write(json.dumps(created_event(*uploads)) + "\n")
            worker.stdin.flush()
            line = worker.stdout.readline()
        finally:
            self._idle.put(worker)
        if not line:
            raise OperatorError("the local handler stopped (see its log lines above)")
        answer = json.loads(line)
        if "fatal" in answer:
            raise OperatorError(f"the local handler cannot start: {answer['fatal']}")
        return Delivered(answer["records"], answer["error"])


class LambdaInvoker:
    """The deployed function, invoked asynchronously: Lambda queues the event and answers 202;
    its retries and on-failure destination apply as to S3's own notifications."""

    def __init__(self, client: Any, function_name: str) -> None:
        self._client = client
        self._function = function_name

    def __enter__(self) -> LambdaInvoker:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def deliver(self, uploads: list[Upload]) -> Delivered:
        response = self._client.invoke(
            FunctionName=self._function,
            InvocationType="Event",
            Payload=json.dumps(created_event(*uploads)).encode(),
        )
        status = int(response.get("StatusCode", 0))
        records: list[Mapping[str, Any]] = [
            {"bucket": u.bucket, "key": u.key, "outcome": SENT} for u in uploads
        ]
        if status != 202:
            return Delivered(records, f"Lambda answered {status} instead of 202")
        return Delivered(records)
