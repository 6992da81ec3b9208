"""The capacity model: object lifecycles through the real lock adapter and the access-log
commit, on a simulated clock, against an in-memory DynamoDB that prices every write.

DynamoDB serves about 1,000 write units a second per partition-key value (of the table and of
each global secondary index). Each write is priced as DynamoDB bills it: a table write costs
one unit per started KB of the larger of the item before and after (twice in a transaction;
a refused conditional write still costs its units); an index write happens when the index's
key attributes appear (put), disappear (delete), change (delete + put) or a projected
attribute changes (update), each one unit per started KB of the projected item. The peaks are
the largest number of units one partition-key value takes in one simulated second.
`tests/unit/aws/test_capacity_model.py` holds them under 1,000 at 10,000 uploads a second;
`benchmarks/bench_capacity.py` prints the table docs/capacity.md shows.
"""

from __future__ import annotations

import collections
import functools
import heapq
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from benchmarks.dynamodb_memory import Item, MemoryDynamoDB, item_size
from chalicelib.aws import lock_table as layout
from chalicelib.aws.dynamodb_counters import FencedCounterCommit
from chalicelib.aws.dynamodb_lock import DynamoDBLockRepository
from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import Acquired, LeaseRequest, Release
from chalicelib.processors.access_log.aggregate import HourTotals, increments
from chalicelib.processors.access_log.processor import shard_of
from chalicelib.processors.access_log.settings import DEFAULT_SHARDS

LOCKS, AGGREGATES = "locks", "aggregates"
LIMIT_WCU = 1000
KB = 1024
START_MS = 1_767_225_600_000  # 2026-01-01T00:00Z: every file of the run is in one hour
HOUR = "2026-01-01T00"
PREVIOUS_HOUR = "2025-12-31T23"
WORK_MS = 100  # the processor's time between acquisition and release
RETRY_MS = 1_000  # a failed object's next delivery
LEASE_MS = 2_000  # a crashed holder's lease, then the next delivery takes it over
# Of every 20 uploads: 14 fresh, 3 duplicates of a finished one, 2 failing once then
# retried, 1 taken over after its first holder crashed.
MIX = ("fresh",) * 14 + ("duplicate",) * 3 + ("failure",) * 2 + ("takeover",)


def units(item_bytes: int) -> int:
    return max(1, math.ceil(item_bytes / KB))


@dataclass(frozen=True)
class IndexModel:
    """One global secondary index: what it keys on and what an entry holds."""

    name: str
    keys: tuple[str, ...]
    projected: tuple[str, ...]

    @classmethod
    def of(cls, definition: dict[str, Any]) -> IndexModel:
        keys = tuple(key["AttributeName"] for key in definition["KeySchema"])
        extra = tuple(definition["Projection"].get("NonKeyAttributes", []))
        return cls(f"index {definition['IndexName']}", keys, (layout.PK, *keys, *extra))

    def entry(self, item: Item) -> Item | None:
        if not all(key in item for key in self.keys):
            return None  # a sparse index holds no entry for this item
        return {name: item[name] for name in self.projected if name in item}

    def write(self, ledger: Ledger, old: Item, new: Item) -> None:
        """Put, delete, delete + put or update, each priced per started KB of the entry."""
        before, after = self.entry(old), self.entry(new)
        if before == after:
            return
        if (
            before is not None
            and after is not None
            and all(before[key] == after[key] for key in self.keys)
        ):
            ledger.index_writes += 1
            amount = units(max(item_size(before), item_size(after)))
            ledger.charge(self.name, after[self.keys[0]]["S"], amount)
            return
        if before is not None:
            ledger.index_writes += 1
            ledger.charge(self.name, before[self.keys[0]]["S"], units(item_size(before)))
        if after is not None:
            ledger.index_writes += 1
            ledger.charge(self.name, after[self.keys[0]]["S"], units(item_size(after)))


@dataclass
class Ledger:
    """Write units per (what, partition-key value, simulated second), and totals."""

    now_ms: Callable[[], int]
    peaks: collections.Counter[tuple[str, str, int]] = field(default_factory=collections.Counter)
    wcu: collections.Counter[str] = field(default_factory=collections.Counter)
    rcu: float = 0.0
    index_writes: int = 0

    def charge(self, what: str, value: str, amount: int) -> None:
        self.peaks[(what, value, self.now_ms() // 1000)] += amount
        self.wcu[what] += amount

    def on_write(
        self,
        table: str,
        pk: str,
        old: Item | None,
        new: Item | None,
        kind: str,
        old_size: int,
        new_size: int,
    ) -> None:
        if kind == "read":  # consistent: one unit per started 4 KB
            self.rcu += max(1, math.ceil(old_size / (4 * KB)))
            return
        double = 2 if kind in ("transaction", "refused-transaction") else 1
        self.charge(f"table {table}", pk, double * units(max(old_size, new_size)))
        if table == LOCKS and kind in ("write", "transaction"):
            for index in self.indexes:
                index.write(self, old or {}, new or {})

    @functools.cached_property
    def indexes(self) -> list[IndexModel]:
        return [IndexModel.of(index) for index in layout.index_definitions().values()]

    def peak(self, what: str) -> tuple[int, str]:
        """The most units one partition-key value of `what` took in one second, and the value."""
        best = max(
            ((amount, value) for (kind, value, _), amount in self.peaks.items() if kind == what),
            default=(0, ""),
        )
        return best


class World:
    """One stage: the lock adapter (with the access-log commit when `access_log`) on the
    stand-in, a simulated clock, and the ledger."""

    def __init__(self, access_log: bool, open_shards: int = layout.DEFAULT_OPEN_SHARDS) -> None:
        self.clock_ms = START_MS
        self.ledger = Ledger(lambda: self.clock_ms)
        self.client = MemoryDynamoDB(self.ledger.on_write)
        counters = FencedCounterCommit(self.client, LOCKS, AGGREGATES) if access_log else None  # type: ignore[arg-type]
        self.locks = DynamoDBLockRepository(self.client, LOCKS, counters, open_shards)  # type: ignore[arg-type]
        self.access_log = access_log
        self.log_shards = DEFAULT_SHARDS

    def obj(self, number: int) -> ObjectRef:
        return ObjectRef("logs", f"2026/01/01/{number:08d}.log", etag=f"{number:032x}", size=50_000)

    def pk(self, number: int) -> str:
        return f"access-log#content#logs#2026/01/01/{number:08d}.log#e={number:032x}"

    def acquire(self, number: int, owner: str) -> Acquired | None:
        now = self.clock_ms
        request = LeaseRequest(
            self.pk(number), self.obj(number), owner, now, now + LEASE_MS, now // 1000 + 2_592_000
        )
        answer = self.locks.acquire(request)
        return answer if isinstance(answer, Acquired) else None

    def complete(self, number: int, fence: int) -> None:
        result: dict[str, Any] = {"content_type": "text/plain", "size": 50_000}
        found: tuple[Any, ...] = ()
        if self.access_log:
            hours = {HOUR: HourTotals(400, 20_000_000, 12, 1, {200: 380, 404: 12, 503: 1})}
            if number % 10 == 0:  # a file that spans the hour before
                hours[PREVIOUS_HOUR] = HourTotals(20, 1_000_000, 0, 0, {200: 20})
            found = increments(hours, shard_of(self.obj(number), self.log_shards))
            result = {"lines": 420, "hours": len(hours)}
        now = self.clock_ms
        self.locks.complete(
            Release(self.pk(number), fence, now, now // 1000 + 2_592_000, result, increments=found)
        )

    def fail(self, number: int, fence: int) -> None:
        now = self.clock_ms
        error = "ObjectChangedError: s3://logs/2026/01/01/x.log was overwritten"
        self.locks.fail(Release(self.pk(number), fence, now, now // 1000 + 2_592_000, error=error))


def lifecycle(world: World, kind: str, number: int) -> Iterator[int]:
    """One object's deliveries: yields the milliseconds until its next step."""
    if kind == "duplicate":
        # Processed, then delivered again (S3 delivers at least once): the second is refused.
        held = world.acquire(number, "first")
        assert held is not None
        yield WORK_MS
        world.complete(number, held.fence)
        yield RETRY_MS
        assert world.acquire(number, "again") is None
        return
    held = world.acquire(number, "w1")
    assert held is not None
    if kind == "takeover":
        yield LEASE_MS + 500  # the holder crashed; its lease ends
        held = world.acquire(number, "w2")
        assert held is not None and held.taken_over
    elif kind == "failure":
        yield WORK_MS
        world.fail(number, held.fence)
        yield RETRY_MS
        held = world.acquire(number, "w2")
        assert held is not None
    yield WORK_MS
    world.complete(number, held.fence)


@dataclass(frozen=True)
class Run:
    lifecycles: int
    rate: int
    seconds: float
    wcu: dict[str, int]
    peaks: dict[str, tuple[int, str]]
    requests: dict[str, int]


def simulate(
    lifecycles: int = 100_000,
    rate: int = 10_000,
    access_log: bool = True,
    open_shards: int = layout.DEFAULT_OPEN_SHARDS,
) -> Run:
    """`lifecycles` objects arriving at `rate` a second, in MIX's proportions, each run through
    its steps in simulated time; returns the write units and the peaks per key value."""
    world = World(access_log, open_shards)
    steps: list[tuple[int, int, Iterator[int]]] = []
    for number in range(lifecycles):
        start = START_MS + number * 1000 // rate
        heapq.heappush(steps, (start, number, lifecycle(world, MIX[number % len(MIX)], number)))
    while steps:
        at, number, running = heapq.heappop(steps)
        world.clock_ms = at
        wait = next(running, None)
        if wait is not None:
            heapq.heappush(steps, (at + wait, number, running))
    span = (world.clock_ms - START_MS) / 1000
    tables = ["table locks", "index open-work", "index by-object", "table aggregates"]
    return Run(
        lifecycles,
        rate,
        span,
        dict(world.ledger.wcu),
        {what: world.ledger.peak(what) for what in tables},
        dict(world.client.requests),
    )


@dataclass(frozen=True)
class Cost:
    kind: str
    requests: int
    table_wcu: int
    index_wcu: int
    index_writes: int
    rcu: float


def cost_of(kind: str, access_log: bool) -> Cost:
    """What one object of `kind` costs on its own (a duplicate: its second delivery only)."""
    world = World(access_log)
    if kind == "duplicate":
        held = world.acquire(1, "first")
        assert held is not None
        world.complete(1, held.fence)
        world.client.requests.clear()
        world.ledger.wcu.clear()
        world.ledger.index_writes = 0
        assert world.acquire(1, "again") is None
    else:
        for wait in lifecycle(world, kind, 1):
            world.clock_ms += wait
    wcu = world.ledger.wcu
    return Cost(
        kind,
        sum(world.client.requests.values()),
        sum(amount for what, amount in wcu.items() if what.startswith("table")),
        sum(amount for what, amount in wcu.items() if what.startswith("index")),
        world.ledger.index_writes,
        world.ledger.rcu,
    )


KINDS = ("fresh", "duplicate", "failure", "takeover")
KIND_NAMES = {
    "fresh": "fresh object",
    "duplicate": "duplicate delivery",
    "failure": "failure, then retry",
    "takeover": "takeover of an expired lease",
}


def cost_rows() -> list[dict[str, object]]:
    """Requests, write units (table, then index) and read units per object of each kind, for a
    plain stage (content-type) and an access-log stage (one hour's counters a file)."""
    rows: list[dict[str, object]] = []
    for kind in KINDS:
        plain, logs = cost_of(kind, access_log=False), cost_of(kind, access_log=True)
        rows.append(
            {
                "object": KIND_NAMES[kind],
                "requests": plain.requests,
                "table WCU": plain.table_wcu,
                "index WCU": plain.index_wcu,
                "RCU": f"{plain.rcu:g}",
                "access-log table WCU": logs.table_wcu,
            }
        )
    return rows


def markdown(rows: list[dict[str, object]]) -> list[str]:
    """`rows` as the lines of a Markdown table (the docs quote these lines exactly)."""
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(str(row[h]) for h in headers) + " |" for row in rows]


def peak_rows(run: Run) -> list[dict[str, object]]:
    return [
        {
            "partition key": what,
            "WCU/s peak": amount,
            "busiest value": value if len(value) < 40 else value[:37] + "...",
            "limit": LIMIT_WCU,
        }
        for what, (amount, value) in run.peaks.items()
    ]
