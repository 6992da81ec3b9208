"""One unit of a route (an SQS message, a Batch Operations task) through the pipeline, judged.

The pipeline fails a whole event when any record is busy or failed, or when the event names
invalid records. A route that answers per unit delivers each unit as an event of its own, so
that the fate of one unit is its own: done, to be delivered again, or hopeless as it is.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from chalicelib.core.errors import IncompleteBatchError, S3OnceError
from chalicelib.core.model import ParsedEvent
from chalicelib.core.service import BatchSummary, Invocation

Handle = Callable[[ParsedEvent, Invocation], BatchSummary]


class Fate(enum.Enum):
    DONE = "done"  # every record reached an end: processed, skipped, failed for good, ...
    RETRY = "retry"  # busy elsewhere, failed, or a passing fault: deliver it again later
    REJECTED = "rejected"  # can never succeed as it is: invalid, or refused by AWS for good


@dataclass(frozen=True)
class ServiceErrors:
    """What AWS calls raise, and how to tell a passing fault (see chalicelib.aws.retryable)."""

    types: tuple[type[Exception], ...]
    is_transient: Callable[[BaseException], bool]
    describe: Callable[[BaseException], str]


@dataclass(frozen=True)
class Delivery:
    fate: Fate
    detail: str = ""
    records: Sequence[Mapping[str, object]] = field(default_factory=list)


def deliver(
    handle: Handle, event: ParsedEvent, invocation: Invocation, errors: ServiceErrors
) -> Delivery:
    """Run `event` through the pipeline and say what became of it; never raises for the
    conditions a route must answer (the application's own errors and AWS service errors)."""
    try:
        summary = handle(event, invocation)
    except IncompleteBatchError as exc:
        cause = f" ({_text(exc.__cause__)})" if exc.__cause__ is not None else ""
        return Delivery(Fate.RETRY, f"{exc}{cause}", exc.records)
    except S3OnceError as exc:
        return Delivery(Fate.REJECTED, _text(exc))
    except errors.types as exc:
        fate = Fate.RETRY if errors.is_transient(exc) else Fate.REJECTED
        return Delivery(fate, errors.describe(exc))
    return Delivery(Fate.DONE, "", [record.to_dict() for record in summary.records])


def _text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
