"""Lock records outlive every event that may still be re-driven from the on-failure queue.

A failed event reaches the queue at most Lambda's maximum event age after it was sent, and
waits there for the queue's retention period. Re-driving it is safe only while the records of
its objects still exist: a record that expired (DynamoDB TTL, `RECORD_TTL_DAYS`) makes a
finished object look new, and it is processed again.
"""

from __future__ import annotations

import json
from typing import Any

from cfnlint.decode import decode_str

from chalicelib.core.settings import DEFAULT_RECORD_TTL_DAYS
from tests.deploy.stages import PROJECT_DIR, Stage, load_stages

SECONDS_PER_DAY = 86_400
# The upper bound of Lambda's MaximumEventAgeInSeconds (60 to 21600): an event can be retried
# for up to six hours before it goes to the on-failure destination.
LAMBDA_MAX_EVENT_AGE_SECONDS = 21_600
CLOUDFORMATION = PROJECT_DIR / "infra" / "cloudformation" / "resources.yaml"
TERRAFORM = PROJECT_DIR / "infra" / "terraform" / "s3-once.tf.json"


def record_ttl_seconds(stage: Stage) -> int:
    """What the function reads at start: the stage's value, else the application's default."""
    days = stage.environment.get("RECORD_TTL_DAYS", "").strip()
    return (int(days) if days else DEFAULT_RECORD_TTL_DAYS) * SECONDS_PER_DAY


def queue_retention_seconds() -> dict[str, int]:
    """The failed-event queue's retention in each infrastructure template."""
    template, errors = decode_str(CLOUDFORMATION.read_text(encoding="utf-8"))
    assert not errors and template is not None
    queue = template["Resources"]["FailedEventsQueue"]["Properties"]
    terraform: dict[str, Any] = json.loads(TERRAFORM.read_text(encoding="utf-8"))
    return {
        "cloudformation": int(queue["MessageRetentionPeriod"]),
        "terraform": int(
            terraform["resource"]["aws_sqs_queue"]["failed_events"]["message_retention_seconds"]
        ),
    }


def retention_shortfalls(stages: list[Stage], queues: dict[str, int]) -> list[str]:
    """Each (stage, template) whose records expire before a queued event can be re-driven."""
    problems = []
    for stage in stages:
        kept = record_ttl_seconds(stage)
        for template, retention in queues.items():
            needed = retention + LAMBDA_MAX_EVENT_AGE_SECONDS
            if kept < needed:
                problems.append(
                    f"stage {stage.name}: records kept {kept / SECONDS_PER_DAY:g} days, but an"
                    f" event may wait {needed / SECONDS_PER_DAY:g} days ({template} queue"
                    f" retention + Lambda's maximum event age)"
                )
    return problems


def test_every_stage_keeps_records_longer_than_a_failed_event_can_wait_for_redrive() -> None:
    assert retention_shortfalls(load_stages(), queue_retention_seconds()) == []


def test_the_check_refuses_a_stage_that_keeps_records_for_the_queue_retention_only() -> None:
    stage = load_stages()[0]
    queues = queue_retention_seconds()
    days = max(queues.values()) // SECONDS_PER_DAY
    short = Stage(stage.name, stage.app_name, {"RECORD_TTL_DAYS": str(days)}, stage.policy_file)

    assert retention_shortfalls([short], queues)


def test_a_stage_without_its_own_value_is_judged_by_the_application_default() -> None:
    stage = load_stages()[0]
    bare = Stage(stage.name, stage.app_name, {}, stage.policy_file)

    assert record_ttl_seconds(bare) == DEFAULT_RECORD_TTL_DAYS * SECONDS_PER_DAY
