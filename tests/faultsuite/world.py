"""What a schedule runs against: DynamoDB Local tables, the uploads, virtual time, and workers.

Workers are the real `IdempotentPipeline` with the real `DynamoDBLockRepository` (and
`FencedCounterCommit` for access logs) on DynamoDB Local, each with a DynamoDB client of its
own on which a `FaultInjector` is attached. Objects live in the in-memory object store: the
faults under test are the lock store's. Time is virtual: every worker's clock reads a shared
time (plus its skew) that the runner moves forward between rounds, so a lease of 30 s expires
without waiting 30 s. Worker processes read the same time from a file.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.retries.standard import ExponentialBackoff

from chalicelib.aws.dynamodb_counters import FencedCounterCommit
from chalicelib.aws.dynamodb_lock import DynamoDBLockRepository
from chalicelib.core.model import IdempotencyScope, ObjectRef
from chalicelib.core.ports import ObjectStore, ProcessingResult, Processor, WorkContext
from chalicelib.core.service import IdempotentPipeline, LeasePolicy
from chalicelib.processors.access_log.processor import AccessLogProcessor
from chalicelib.processors.content_type import ContentTypeProcessor
from s3once.aws.tables import create_aggregates_table, create_lock_table
from s3once.s3_events import Upload, created_event
from tests.fakes import FakeObjectStore
from tests.faultsuite.faults import FaultInjector
from tests.faultsuite.schedule import (
    ACCESS_LOG,
    DELETED,
    LEASE_MS,
    UPLOADED_AT,
    InvocationPlan,
    Schedule,
)

MAX_ATTEMPTS = 3  # botocore's standard mode default: the request and two resends
# Small transactions, so that files of a few hours already commit in several steps.
MAX_TRANSACTION_ACTIONS = 4
RECORD_TTL_DAYS = 30
_FIELDS = "s3once_fields"


class EagerRenewal(LeasePolicy):
    """The lease the application takes (30 s of virtual time), renewed every 20 ms of real
    time: a schedule's work lasts milliseconds, and its renewals must happen (and meet faults)
    all the same."""

    @property
    def renew_every_s(self) -> float:
        return 0.02


class InjectedProcessorError(RuntimeError):
    """A transient processor failure the schedule asked for."""


@dataclass(frozen=True)
class Stack:
    dynamodb_url: str
    bucket: str
    lock_table: str
    aggregates_table: str
    clock_file: str

    def client(self) -> Any:
        config = Config(retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS})
        return _session().client("dynamodb", endpoint_url=self.dynamodb_url, config=config)


@functools.cache
def _session() -> boto3.session.Session:
    """One session, whose loaded service models every client shares (clients are made by the
    runner's own thread: a session is not thread-safe)."""
    return boto3.session.Session()


class VirtualTime:
    """The schedule's time in epoch ms, moved only by the runner; mirrored in a file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        # From the real time: the lock table's TTL (DynamoDB Local enforces it) compares the
        # records' expiry with the real clock.
        self.set(time.time_ns() // 1_000_000)

    def set(self, now_ms: int) -> None:
        with self._lock:
            self.now_ms = now_ms
            temporary = self._path.with_suffix(".tmp")
            temporary.write_text(str(now_ms))
            temporary.replace(self._path)


class SkewedClock:
    """A worker's clock: the shared virtual time plus this worker's skew."""

    def __init__(self, source: VirtualTime | Path, skew_ms: int) -> None:
        self._time = source
        self._skew = skew_ms

    def now_ms(self) -> int:
        if isinstance(self._time, Path):
            return int(self._time.read_text()) + self._skew
        return self._time.now_ms + self._skew


class OutcomeLog(logging.Handler):
    """Keeps the fields of each per-record log line the pipeline writes."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, _FIELDS, {})
        if "outcome" in fields:
            self.lines.append(dict(fields))

    def logger(self) -> logging.Logger:
        logger = logging.Logger(f"faultsuite.{uuid.uuid4().hex[:8]}", logging.INFO)
        logger.addHandler(self)
        return logger


class FlakyProcessor:
    """The real processor, failing or crashing where the invocation's plan says."""

    def __init__(
        self, inner: Processor, plan: InvocationPlan, index: dict[str, int], faults: FaultInjector
    ) -> None:
        self.name = inner.name
        self._inner = inner
        self._plan = plan
        self._index = index
        self._faults = faults

    def process(self, obj: ObjectRef, work: WorkContext) -> ProcessingResult:
        position = self._index[obj.key]
        if self._plan.crash_in_processor == position:
            self._faults.crash()
        if position in self._plan.fail_objects:
            raise InjectedProcessorError(f"injected failure processing {obj.key}")
        return self._inner.process(obj, work)


def object_refs(schedule: Schedule, bucket: str) -> list[ObjectRef]:
    """Each object as its event announces it (the eTag S3 gives a single-part upload)."""
    return [
        ObjectRef(
            bucket,
            spec.key,
            etag=hashlib.md5(spec.body, usedforsecurity=False).hexdigest(),
            size=len(spec.body),
        )
        for spec in schedule.objects
    ]


def schedule_event(schedule: Schedule, stack: Stack, objects: tuple[int, ...]) -> dict[str, Any]:
    """The S3 notification of one delivery: one record per object, in the delivery's order."""
    refs = object_refs(schedule, stack.bucket)
    return created_event(
        *(
            Upload(refs[i].bucket, refs[i].key, refs[i].etag or "", refs[i].size or 0)
            for i in objects
        )
    )


def object_store(schedule: Schedule, bucket: str) -> FakeObjectStore:
    store = FakeObjectStore()
    for spec in schedule.objects:
        if spec.hopeless != DELETED:
            store.put(bucket, spec.key, spec.body, spec.content_type)
    return store


def real_processor(name: str, objects: ObjectStore, logger: logging.Logger) -> Processor:
    if name == ACCESS_LOG:
        return AccessLogProcessor(objects, logger=logger)
    return ContentTypeProcessor(objects, logger)


def build_worker(
    stack: Stack,
    schedule: Schedule,
    plan: InvocationPlan,
    clock: VirtualTime | Path,
    faults: FaultInjector,
    outcomes: OutcomeLog,
) -> IdempotentPipeline:
    client = stack.client()
    faults.attach(client)
    counters = FencedCounterCommit(
        client, stack.lock_table, stack.aggregates_table, max_actions=MAX_TRANSACTION_ACTIONS
    )
    logger = outcomes.logger()
    index = {spec.key: position for position, spec in enumerate(schedule.objects)}
    processor = real_processor(schedule.processor, object_store(schedule, stack.bucket), logger)
    return IdempotentPipeline(
        locks=DynamoDBLockRepository(client, stack.lock_table, counters),
        processor=FlakyProcessor(processor, plan, index, faults),
        clock=SkewedClock(clock, plan.skew_ms),
        scope=IdempotencyScope.CONTENT,
        lease=EagerRenewal(seconds=LEASE_MS // 1000),
        record_ttl_days=RECORD_TTL_DAYS,
        logger=logger,
    )


def new_stack(dynamodb_url: str, workdir: Path, lock_table: str | None = None) -> Stack:
    """Tables for one schedule (the lock table may be shared: every schedule has its bucket)."""
    name = uuid.uuid4().hex[:10]
    stack = Stack(
        dynamodb_url=dynamodb_url,
        bucket=f"fs-{name}",
        lock_table=lock_table or f"fs-locks-{name}",
        aggregates_table=f"fs-aggregates-{name}",
        clock_file=str(workdir / f"clock-{name}"),
    )
    client = stack.client()
    if lock_table is None:
        create_lock_table(client, stack.lock_table)
    create_aggregates_table(client, stack.aggregates_table)
    return stack


def expected_result(schedule: Schedule, bucket: str, index: int) -> dict[str, Any]:
    """What the processor returns for object `index` when nothing goes wrong."""
    from chalicelib.core.ports import UnguardedWork

    spec = schedule.objects[index]
    ref = object_refs(schedule, bucket)[index]._replace(
        event_time_ms=int(UPLOADED_AT.timestamp() * 1000),
    )
    store = FakeObjectStore()
    store.put(bucket, spec.key, spec.body, spec.content_type)
    quiet = logging.Logger("faultsuite.expected")
    quiet.addHandler(logging.NullHandler())
    processor = real_processor(schedule.processor, store, quiet)
    return dict(processor.process(ref, UnguardedWork()).summary)


@contextlib.contextmanager
def fast_throttle_backoff() -> Iterator[None]:
    """botocore waits up to 1 s, then 2 s, before resending a throttled request; the suite
    injects many throttles, so it shortens that wait 50 times (the retry logic is unchanged)."""
    backoff: Any = ExponentialBackoff  # a private setting, hence untyped
    saved = backoff._DEFAULT_BACKOFF_CONFIG
    backoff._DEFAULT_BACKOFF_CONFIG = dict(saved, throttling_base_scale=0.02)
    try:
        yield
    finally:
        backoff._DEFAULT_BACKOFF_CONFIG = saved


def quiet_crashes_in_threads() -> None:
    """A crashed worker's helper threads die with SimulatedCrash: expected, not worth a trace."""
    from tests.faultsuite.faults import SimulatedCrash

    default = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not None and issubclass(args.exc_type, SimulatedCrash):
            return
        default(args)

    threading.excepthook = hook
