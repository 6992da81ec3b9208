"""Outcome counts as CloudWatch Embedded Metric Format: one JSON line per invocation.

CloudWatch Logs turns the line into metrics (namespace `s3-once`, dimension `processor`)
with no API call from the function. The line is printed whatever the log level: metrics are
not diagnostics.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from typing import IO, Any

from chalicelib.core.logs import current_request_id, timestamp
from chalicelib.core.model import Outcome, RecordOutcome

NAMESPACE = "s3-once"
DIMENSION = "processor"
UNIT = "Count"


def outcome_counts(outcomes: Iterable[RecordOutcome], invalid: int = 0) -> dict[str, int]:
    """Every outcome, zero included, so that graphs and alarms see a value each invocation.
    `invalid`: records the parser could not read (they have no RecordOutcome)."""
    counts = {outcome.value: 0 for outcome in Outcome}
    for record in outcomes:
        counts[record.outcome.value] += 1
    counts[Outcome.INVALID.value] += invalid
    return counts


def emf_document(processor: str, counts: dict[str, int], epoch_ms: int) -> dict[str, Any]:
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": epoch_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [[DIMENSION]],
                    "Metrics": [{"Name": name, "Unit": UNIT} for name in counts],
                }
            ],
        },
        DIMENSION: processor,
        "timestamp": timestamp(epoch_ms / 1000),
    }
    request_id = current_request_id()
    if request_id is not None:
        document["request_id"] = request_id
    document.update(counts)
    return document


def emit_outcome_metrics(
    processor: str,
    outcomes: Iterable[RecordOutcome],
    invalid: int = 0,
    stream: IO[str] | None = None,
) -> None:
    emit_metrics(processor, outcome_counts(outcomes, invalid), stream=stream)


def emit_metrics(
    processor: str,
    counts: dict[str, int],
    epoch_ms: int | None = None,
    stream: IO[str] | None = None,
) -> None:
    """One EMF line of `counts` on stdout, where Lambda's log agent picks it up."""
    when = time.time_ns() // 1_000_000 if epoch_ms is None else epoch_ms
    print(json.dumps(emf_document(processor, counts, when)), file=stream or sys.stdout, flush=True)
