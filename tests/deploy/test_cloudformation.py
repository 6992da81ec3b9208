"""CloudFormation for the `chalice deploy` path: the lock table and the failed-event queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import lint

from tests.deploy.stages import PROJECT_DIR

TEMPLATE = PROJECT_DIR / "infra" / "cloudformation" / "resources.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads short-form intrinsic functions (`!Sub`, `!GetAtt`, ...) as plain values."""


_CfnLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: loader.construct_scalar(node),  # type: ignore[arg-type]
)


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(TEMPLATE.read_text(encoding="utf-8"), _CfnLoader)
    return template["Resources"]


def test_the_template_passes_cfn_lint_errors_and_warnings() -> None:
    matches = lint(TEMPLATE.read_text(encoding="utf-8"))

    assert [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches] == []


def test_cfn_lint_catches_a_broken_template(tmp_path: Path) -> None:
    broken = TEMPLATE.read_text(encoding="utf-8").replace("KeyType: HASH", "KeyType: PRIMARY")

    assert lint(broken)


def test_the_lock_table_has_the_key_ttl_recovery_and_encryption_the_app_relies_on(
    resources: dict[str, Any],
) -> None:
    table = resources["LockTable"]["Properties"]

    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_deleting_the_stack_keeps_the_lock_records_and_failed_events(
    resources: dict[str, Any],
) -> None:
    for name in ("LockTable", "FailedEventsQueue"):
        assert resources[name]["DeletionPolicy"] == "Retain"
        assert resources[name]["UpdateReplacePolicy"] == "Retain"
