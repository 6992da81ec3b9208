"""Short leases, renewed while their holder works.

An acquisition holds its object for one lease (30 s by default, `LEASE_SECONDS`). While the
processor runs, a background thread renews it every third of a lease with a write conditional
on the fence, never beyond the end of the invocation. Work that ends within the first third
costs no renewal at all. A worker killed at any moment therefore holds its object at most one
lease longer; a worker frozen past its lease finds, at its next renewal, the fence moved: its
context reads `lost` and `check()` raises LeaseLostError, and nothing of it is committed.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from types import TracebackType

from chalicelib.errors import LeaseLostError
from chalicelib.logs import log
from chalicelib.ports import Clock, LockRepository


@dataclass(frozen=True)
class LeasePolicy:
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
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{fence}", daemon=True)
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
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._policy.renew_every_s):
            try:
                if not self.renew():
                    return
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
