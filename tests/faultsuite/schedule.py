"""Seeded schedules: objects, their deliveries over (virtual) time, each invocation's faults.

Everything is drawn from the seed: `generate(seed)` makes the objects and deliveries,
`invocation_plan(schedule, invocation, attempt)` the faults of one attempt of one invocation
(drawn from the seed and the attempt's name, so a replay draws the same whatever the order in
which threads happened to finish).
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import random
from dataclasses import dataclass, field

from tests.access_log_data import Request, log_bytes, requests
from tests.faultsuite.faults import FaultPlan

CONTENT_TYPE, ACCESS_LOG = "content-type", "access-log"
DELETED, NOT_TEXT = "deleted", "not-text"  # objects that can only fail permanently
THREAD, PROCESS_KILL, PROCESS_STOP = "thread", "process-kill", "process-stop"
LEASE_MS = 30_000
SKEW_MS = 300
# Lambda retries a failed asynchronous invocation about 1 and then 2 minutes later.
RETRY_DELAYS_MS = (60_000, 120_000)
# The eventTime of every record `s3once.s3_events` writes.
UPLOADED_AT = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
CONTENT_TYPES = ("application/json", "text/csv", "image/png", "text/plain; charset=utf-8")
# When S3 (re)delivers the first events: together (concurrent), within a lease, after one.
DELIVERY_TIMES_MS = (0, 0, 0, 500, 2_000, 10_000, 31_000, 45_000, 95_000)


@dataclass(frozen=True)
class ObjectSpec:
    key: str
    body: bytes
    content_type: str
    hopeless: str | None = None  # DELETED or NOT_TEXT: must end failed permanently
    requests: tuple[Request, ...] = ()  # access logs: the requests the body holds


@dataclass(frozen=True)
class Delivery:
    """One asynchronous invocation S3 makes: the event's records name these objects, in order."""

    name: str
    at_ms: int
    objects: tuple[int, ...]


@dataclass(frozen=True)
class Intensity:
    """How hostile the schedule is; probabilities per request, object or invocation."""

    lost_answer: float = 0.15
    throttle: float = 0.02
    processor_failure: float = 0.12
    crash: float = 0.12
    stop: float = 0.08
    processes: float = 0.06  # share of invocations run as real processes (kill or stop)


@dataclass(frozen=True)
class Schedule:
    seed: int
    processor: str
    objects: tuple[ObjectSpec, ...]
    deliveries: tuple[Delivery, ...]
    intensity: Intensity = field(default_factory=Intensity)

    def describe(self) -> str:
        hopeless = sum(1 for obj in self.objects if obj.hopeless)
        return (
            f"seed {self.seed}: {self.processor}, {len(self.objects)} objects"
            f" ({hopeless} hopeless), {len(self.deliveries)} deliveries"
        )


@dataclass(frozen=True)
class InvocationPlan:
    request_id: str
    skew_ms: int
    faults: FaultPlan
    mode: str = THREAD
    fail_objects: frozenset[int] = frozenset()  # the processor raises a transient error
    crash_in_processor: int | None = None  # the worker dies while processing this object
    signal_delay_ms: int = 0  # processes: how long after it starts to kill or stop it


def generate(seed: int, intensity: Intensity | None = None) -> Schedule:
    rng = random.Random(seed)
    processor = rng.choice((CONTENT_TYPE, ACCESS_LOG))
    count = rng.randint(1, 4 if processor == CONTENT_TYPE else 3)
    objects = tuple(_object(rng, processor, index, seed) for index in range(count))
    deliveries: list[Delivery] = []
    copies = [rng.choice((1, 1, 2, 2, 3)) for _ in objects]  # duplicates of each record
    pending = [index for index, n in enumerate(copies) for _ in range(n)]
    rng.shuffle(pending)  # reordered
    while pending:
        size = min(len(pending), rng.choice((1, 1, 2, 3)))
        records, pending = pending[:size], pending[size:]
        deliveries.append(
            Delivery(f"d{len(deliveries)}", rng.choice(DELIVERY_TIMES_MS), tuple(records))
        )
    return Schedule(seed, processor, objects, tuple(deliveries), intensity or Intensity())


def invocation_plan(
    schedule: Schedule, invocation: str, attempt: int, objects: tuple[int, ...]
) -> InvocationPlan:
    """The faults of one attempt; a re-drive (attempt < 0) has none."""
    request_id = f"s{schedule.seed}-{invocation}"
    rng = random.Random(_derive(schedule.seed, invocation, attempt))
    if attempt < 0:
        return InvocationPlan(request_id, 0, FaultPlan(seed=rng.getrandbits(32)))
    level = schedule.intensity
    requests_expected = 3 * len(objects) + 1
    crash_at = stop_at = None
    crash_in_processor = None
    draw = rng.random()
    if draw < level.crash:
        if rng.random() < 0.3:
            crash_in_processor = rng.choice(objects)
        else:
            crash_at = rng.randrange(requests_expected)
    elif draw < level.crash + level.stop:
        stop_at = rng.randrange(requests_expected)
    faults = FaultPlan(
        seed=rng.getrandbits(32),
        lost_answer=level.lost_answer,
        throttle=level.throttle,
        crash_at=crash_at,
        crash_after_send=rng.random() < 0.5,
        stop_at=stop_at,
    )
    mode = THREAD
    if rng.random() < level.processes:
        mode = rng.choice((PROCESS_KILL, PROCESS_STOP))
        faults = FaultPlan(seed=faults.seed, lost_answer=level.lost_answer)
        crash_in_processor = None
    return InvocationPlan(
        request_id=request_id,
        skew_ms=rng.randint(-SKEW_MS, SKEW_MS),
        faults=faults,
        mode=mode,
        fail_objects=frozenset(i for i in objects if rng.random() < level.processor_failure),
        crash_in_processor=crash_in_processor,
        signal_delay_ms=rng.randint(0, 40),
    )


def _object(rng: random.Random, processor: str, index: int, seed: int) -> ObjectSpec:
    key = rng.choice((f"in/{index}.json", f"logs/{index} %23 #x.log", f"ü/{index}+a b"))
    hopeless = DELETED if rng.random() < 0.08 else None
    if processor == CONTENT_TYPE:
        body = rng.randbytes(rng.randint(0, 64))
        return ObjectSpec(key, body, rng.choice(CONTENT_TYPES), hopeless)
    if hopeless is None and rng.random() < 0.06:
        hopeless = NOT_TEXT
    if hopeless == NOT_TEXT:
        return ObjectSpec(key, b"\x1f\x8b\x08\x00" + rng.randbytes(40), "text/plain", hopeless)
    # Hours before the upload (the event's time), as real logs are: within the window the
    # processor finds plausible.
    start = UPLOADED_AT - datetime.timedelta(hours=rng.randrange(12, 24 * 30))
    items = requests(rng.randint(3, 40), rng.randint(1, 10), rng.getrandbits(32), start)
    body = log_bytes(items, rng.choice(("s3", "combined")), garbage_every=rng.choice((0, 9)))
    if rng.random() < 0.3:
        body = gzip.compress(body, mtime=0)
    return ObjectSpec(key, body, "text/plain", hopeless, tuple(items))


def _derive(seed: int, invocation: str, attempt: int) -> int:
    digest = hashlib.sha256(f"{seed}/{invocation}/{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
