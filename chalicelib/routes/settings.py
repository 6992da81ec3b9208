"""The routes' settings, read at import because Chalice reads the decorators that use them.

`SQS_QUEUE_NAME` enables the SQS route for a stage: `chalice deploy` then creates the event
source mapping from that queue (which must exist) to the `on_sqs_message` function. A stage
without it has no such function. `SQS_BATCH_SIZE` is the mapping's batch size (1 to 10; more
needs a batching window, which this project does not set).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from chalicelib.core.errors import ConfigurationError

DEFAULT_SQS_BATCH_SIZE = 10
MAX_SQS_BATCH_SIZE = 10
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


class RouteSettings(NamedTuple):
    sqs_queue_name: str | None = None
    sqs_batch_size: int = DEFAULT_SQS_BATCH_SIZE

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RouteSettings:
        queue = environ.get("SQS_QUEUE_NAME", "").strip() or None
        if queue is not None and not _QUEUE_NAME.fullmatch(queue):
            raise ConfigurationError(
                f"SQS_QUEUE_NAME={queue!r} is not a standard queue name "
                "(letters, digits, '-' and '_', at most 80)"
            )
        raw = environ.get("SQS_BATCH_SIZE", "").strip()
        if not raw:
            return cls(queue)
        try:
            size = int(raw)
        except ValueError:
            raise ConfigurationError(f"SQS_BATCH_SIZE={raw!r} is not a whole number") from None
        if not 1 <= size <= MAX_SQS_BATCH_SIZE:
            raise ConfigurationError(
                f"SQS_BATCH_SIZE={size} is out of range (1 to {MAX_SQS_BATCH_SIZE})"
            )
        return cls(queue, size)


def eventbridge_pattern(bucket: str) -> dict[str, object]:
    """The EventBridge rule: S3's "Object Created" events of the stage's bucket, nothing else."""
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}},
    }
