"""Every error the application raises on purpose; all derive from `S3OnceError`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class S3OnceError(Exception):
    """Base class of the application's own errors."""


class ConfigurationError(S3OnceError):
    """The environment does not describe a usable configuration."""


class InvalidEventError(S3OnceError):
    """The Lambda event is not an S3 notification the handler can read."""


class LockStoreError(S3OnceError):
    """The lock store answered in a way its contract rules out."""


class LeaseLostError(S3OnceError):
    """Another worker took the object over while this one worked: stop, nothing will be stored."""


class PermanentProcessingError(S3OnceError):
    """A processor says this object can never be processed: retrying would not help.

    The record is marked FAILED and the invocation does not fail, so Lambda does not retry.
    A re-upload of the object (or a later delivery) may still try again.
    """


class CommitTooLargeError(PermanentProcessingError):
    """An object's effects can never be committed: a number beyond DynamoDB's 38 digits, too
    many counter items, or a plan too large to store. Found before anything is committed, so
    the record fails permanently with this reason and no takeover replays a part of it."""


class ObjectNotFoundError(PermanentProcessingError):
    """The object the event names no longer exists."""


class ObjectChangedError(PermanentProcessingError):
    """The object was overwritten after the event was sent; the newer upload has its own event."""


class IncompleteBatchError(S3OnceError):
    """Some records were busy elsewhere or failed: the invocation fails so that Lambda retries it.

    Records that finished are skipped on the retry, so only the unfinished ones are redone.
    """

    def __init__(
        self,
        busy: tuple[str, ...],
        failed: tuple[str, ...],
        records: Sequence[Mapping[str, object]] = (),
        invalid: tuple[str, ...] = (),
    ) -> None:
        self.busy = busy
        self.failed = failed
        self.invalid = invalid  # records of the event that could not be read, by path
        self.records = list(records)  # the summary the handler would have returned
        parts = []
        if failed:
            parts.append(f"{len(failed)} failed ({', '.join(failed)})")
        if busy:
            parts.append(f"{len(busy)} held by another invocation ({', '.join(busy)})")
        if invalid:
            parts.append(f"{len(invalid)} invalid ({'; '.join(invalid)})")
        super().__init__("retry needed: " + "; ".join(parts))
