"""Per-object cost of exactly-once: s3-once, Powertools, the blog recipe and no idempotency.

Every design handles the same objects, first delivered (fresh), then delivered again
(duplicate), in rounds whose order of designs rotates, so load on the machine falls on all of
them alike. Two backends:

- instant: each request is answered at once with the response DynamoDB Local gave that design at
  the same step (see `benchmarks/wire.py`); the time is the process's CPU time per object, the
  client's own work, which load on the shared machine does not inflate as it does wall time;
- DynamoDB Local: in memory, over loopback: wall-clock time, CPU plus a round trip per request.

Requests (and request bytes) are counted on the wire, retries included.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import boto3

from benchmarks.designs import DESIGNS, Design
from benchmarks.wire import InstantDynamoDB, RecordedResponse, Recorder, RequestCounter
from chalicelib.core.model import ObjectRef
from s3once.local.servers import OFFLINE_CREDENTIALS, dynamodb_local

PHASES = ("fresh", "duplicate")
PEER = "Powertools idempotent_function"
# (rounds, objects per round) per backend: enough for a stable p99, a few seconds each.
INSTANT_ROUNDS = (30, 100)
LOCAL_ROUNDS = (12, 40)
RECORDED_OBJECTS = 3


@dataclass
class Subject:
    design: Design
    counter: RequestCounter = field(default_factory=RequestCounter)
    stub: InstantDynamoDB | None = None
    cpu_clock: bool = False  # the instant backend: time the process's CPU (all its threads)
    scripts: dict[str, list[RecordedResponse]] = field(default_factory=dict)
    micros: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PHASES})
    requests: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PHASES, 0))
    request_bytes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PHASES, 0))
    objects: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PHASES, 0))


def batch(label: str, size: int) -> list[ObjectRef]:
    run = uuid.uuid4().hex[:8]
    return [
        ObjectRef(
            "bench-uploads",
            f"incoming/{label}/{run}/report {index:05d}.csv",
            etag=hashlib.md5(f"{run}/{index}".encode()).hexdigest(),
            sequencer=f"{index:016X}",
            size=1024 + index,
            event_time_ms=1_790_000_000_000,
        )
        for index in range(size)
    ]


def record_scripts(subject: Subject) -> None:
    """Run a few objects against DynamoDB Local and keep one object's responses per phase."""
    recorder = Recorder()
    objects = batch("recording", RECORDED_OBJECTS)
    for client in subject.design.clients:
        recorder.attach(client)
    for phase in PHASES:
        recorder.responses.clear()
        for obj in objects:
            subject.design.deliver(obj)
        per_object = len(recorder.responses) // RECORDED_OBJECTS
        subject.scripts[phase] = recorder.responses[len(recorder.responses) - per_object :]
    for client in subject.design.clients:
        recorder.detach(client)


def run_phase(
    subjects: Sequence[Subject], phase: str, objects: Sequence[ObjectRef], keep: bool
) -> None:
    """Each object through every design in turn, so that all of them see the same load."""
    for subject in subjects:
        if subject.stub is not None:
            subject.stub.play(subject.scripts[phase])
    before = [(s.counter.requests, s.counter.request_bytes) for s in subjects]
    clocks = [time.process_time_ns if s.cpu_clock else time.perf_counter_ns for s in subjects]
    timings: list[list[float]] = [[] for _ in subjects]
    delivers = [s.design.deliver for s in subjects]
    for index in range(len(objects) // len(subjects)):
        for position, deliver in enumerate(delivers):
            # Answered instantly, an object costs only CPU: the process's CPU time (all its
            # threads) is measured, which load on the shared machine inflates far less than the
            # wall. Against a server, the wall-clock time.
            clock = clocks[position]
            obj = objects[index * len(subjects) + position]
            started = clock()
            deliver(obj)
            timings[position].append((clock() - started) / 1000)
    if not keep:
        return
    for subject, (requests, sent), measured in zip(subjects, before, timings, strict=True):
        subject.micros[phase] += measured
        subject.requests[phase] += subject.counter.requests - requests
        subject.request_bytes[phase] += subject.counter.request_bytes - sent
        subject.objects[phase] += len(measured)


def run_rounds(subjects: Sequence[Subject], rounds: int, size: int) -> None:
    for index in range(-1, rounds):  # round -1 warms every design up and is not kept
        shift = index % len(subjects)
        order = [*subjects[shift:], *subjects[:shift]]
        objects = batch(f"round-{index}", size * len(order))
        for phase in PHASES:
            run_phase(order, phase, objects, keep=index >= 0)


def p99(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def ratio(value: float, peer: float) -> str:
    return f"{value / peer:.2f}x" if peer else ""


def rows_for(backend: str, subjects: Sequence[Subject]) -> list[dict[str, object]]:
    peer = next(s for s in subjects if s.design.name == PEER)
    rows: list[dict[str, object]] = []
    for phase in PHASES:
        peer_median = statistics.median(peer.micros[phase])
        peer_p99 = p99(peer.micros[phase])
        for subject in subjects:
            timings, count = subject.micros[phase], subject.objects[phase]
            median, tail = statistics.median(timings), p99(timings)
            rows.append(
                {
                    "backend": backend,
                    "delivery": phase,
                    "clock": "CPU" if subject.cpu_clock else "wall",
                    "design": subject.design.name,
                    "requests/object": round(subject.requests[phase] / count, 2),
                    "request bytes/object": round(subject.request_bytes[phase] / count),
                    "median vs Powertools": ratio(median, peer_median),
                    "median µs": round(median),
                    "p99 vs Powertools": ratio(tail, peer_p99),
                    "p99 µs": round(tail),
                }
            )
    return rows


def build(kind: str, recorded: bool) -> list[Subject]:
    subjects = []
    for index, factory in enumerate(DESIGNS):
        design = factory(boto3.session.Session(), f"bench-{kind}-{index}")
        subject = Subject(design, cpu_clock=recorded)
        for client in design.clients:
            subject.counter.attach(client)
        if recorded and design.clients:
            record_scripts(subject)
            subject.stub = InstantDynamoDB()
            for client in design.clients:
                subject.stub.attach(client)
        subjects.append(subject)
    return subjects


def main() -> list[dict[str, object]]:
    for name, value in OFFLINE_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    with dynamodb_local() as url:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = url
        instant = build("instant", recorded=True)
        local = build("local", recorded=False)
        run_rounds(instant, *INSTANT_ROUNDS)
        run_rounds(local, *LOCAL_ROUNDS)
    return rows_for("instant", instant) + rows_for("DynamoDB Local", local)


def summary(rows: Sequence[Mapping[str, object]]) -> list[str]:
    """The target: client CPU (instant backend) at or below Powertools, same request counts."""
    lines = []
    by: Callable[[str, str], Mapping[str, object]] = lambda phase, design: next(  # noqa: E731
        r
        for r in rows
        if r["backend"] == "instant" and r["delivery"] == phase and r["design"] == design
    )
    for phase in PHASES:
        ours, peer = by(phase, "s3-once"), by(phase, PEER)
        mine, theirs = float(str(ours["median µs"])), float(str(peer["median µs"]))
        same = ours["requests/object"] == peer["requests/object"]
        met = mine <= theirs and same
        lines.append(
            f"Client CPU per {phase} object, s3-once vs Powertools: {mine / theirs:.2f}x"
            f" ({mine:.0f} µs vs {theirs:.0f} µs), requests {ours['requests/object']} vs"
            f" {peer['requests/object']}: target (≤ 1.00x, same requests) "
            + ("met" if met else f"missed by {mine / theirs - 1:.0%}" if same else "missed")
        )
    return lines
