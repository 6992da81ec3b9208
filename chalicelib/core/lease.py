"""Short leases, renewed while their holder works.

An acquisition holds its object for one lease (30 s by default, `LEASE_SECONDS`). While the
processor runs, a background thread renews it every third of a lease with a write conditional
on the fence, never beyond the end of the invocation. One thread serves every lease of the
process, started with the first: a thread started and joined per object would cost more CPU
than the rest of the object's handling. Work that ends within the first third
costs no renewal at all. A worker killed at any moment therefore holds its object at most one
lease longer; a worker frozen past its lease finds, at its next renewal, the fence moved: its
context reads `lost` and `check()` raises LeaseLostError, and nothing of it is committed.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from types import TracebackType
from typing import NamedTuple

from chalicelib.core.errors import LeaseLostError
from chalicelib.core.logs import log
from chalicelib.core.ports import Clock, LockRepository


class LeasePolicy(NamedTuple):
    """How long an acquisition holds its object unrenewed; renewed every third of that."""

    seconds: int

    @property
    def lease_ms(self) -> int:
        return self.seconds * 1000

    @property
    def renew_every_s(self) -> float:
        return self.seconds / 3

    def expiry(self, now_ms: int, deadline_ms: int | None) -> int:
        """The end of a lease taken or renewed at `now_ms`: never after the invocation's end."""
        end = now_ms + self.lease_ms
        return end if deadline_ms is None else min(end, deadline_ms)


class LeaseKeeper:
    """The WorkContext of one held object: renews its lease in the background until stopped.

    Use as a context manager around everything done under the lease, completion included
    (a renewal that finds the record completed or failed under its own fence is not a loss).
    """

    def __init__(
        self,
        locks: LockRepository,
        pk: str,
        fence: int,
        request_id: str,
        clock: Clock,
        policy: LeasePolicy,
        deadline_ms: int | None,
        logger: logging.Logger,
    ) -> None:
        self._locks = locks
        self._pk = pk
        self._fence = fence
        self._request_id = request_id
        self._clock = clock
        self._policy = policy
        self._deadline_ms = deadline_ms
        self._logger = logger
        self._lost = threading.Event()
        self._renewing = threading.Lock()  # held while a renewal runs; __exit__ waits for it
        self._stopped = False
        self.renewals = 0

    @property
    def request_id(self) -> str:
        return self._request_id

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def check(self) -> None:
        if self._lost.is_set():
            raise LeaseLostError(f"{self._pk!r}: fence {self._fence} was taken over")

    def renew(self) -> bool:
        """One renewal; False when there is nothing more to renew (lost, or the invocation ends)."""
        now_ms = self._clock.now_ms()
        if self._deadline_ms is not None and now_ms >= self._deadline_ms:
            return False
        held = self._locks.renew(
            self._pk, self._fence, self._policy.expiry(now_ms, self._deadline_ms)
        )
        if not held:
            self._lost.set()
            log(
                self._logger,
                logging.WARNING,
                "lease lost",
                pk=self._pk,
                fence=self._fence,
                request_id=self._request_id,
            )
            return False
        self.renewals += 1
        return True

    def __enter__(self) -> LeaseKeeper:
        _RENEWALS.schedule(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._renewing:  # a renewal under way ends first; none starts after this
            self._stopped = True

    def renew_when_due(self) -> bool:
        """The renewal thread's call: renew unless stopped; False when no more are due."""
        with self._renewing:
            if self._stopped:
                return False
            try:
                return self.renew()
            # A renewal that fails (throttled past botocore's retries, the store unreachable)
            # is tried again a third of a lease later; should the lease run out meanwhile, the
            # fence still keeps a taken-over worker from committing anything.
            except Exception as exc:  # logged; the work is not this thread's
                log(
                    self._logger,
                    logging.WARNING,
                    "lease renewal failed",
                    pk=self._pk,
                    fence=self._fence,
                    request_id=self._request_id,
                    error=f"{type(exc).__name__}: {exc}"[:1000],
                )
                return True

    @property
    def renew_every_s(self) -> float:
        return self._policy.renew_every_s


class _Renewals:
    """The one daemon thread that renews every held lease of the process when it comes due."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, LeaseKeeper]] = []
        self._changed = threading.Condition()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, keeper: LeaseKeeper) -> None:
        due = time.monotonic() + keeper.renew_every_s
        with self._changed:
            heapq.heappush(self._due, (due, next(self._order), keeper))
            if self._thread is None or not self._thread.is_alive():  # first, or after a fork
                self._thread = threading.Thread(
                    target=self._run, name="lease-renewals", daemon=True
                )
                self._thread.start()
            elif self._due[0][2] is keeper:
                self._changed.notify()  # due before what the thread waits for

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._changed.wait(self._due[0][0] - time.monotonic() if self._due else None)
                _, _, keeper = heapq.heappop(self._due)
            if keeper.renew_when_due():
                self.schedule(keeper)


_RENEWALS = _Renewals()
