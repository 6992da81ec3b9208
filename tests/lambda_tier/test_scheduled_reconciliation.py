"""The scheduled reconciliation from S3 Inventory, in the package of a stage that names an
inventory location, invoked by its schedule's event under the runtime client."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.reconcile.settings import LOCATION_VARIABLE, SCHEDULE_MINUTES
from s3once.s3_events import Upload, created_event, put_upload
from scripts.clean_copy import clean_copy
from tests.conftest import PROJECT_DIR, unique_name
from tests.inventory_data import Row, write_report
from tests.lambda_tier.conftest import STAGE, Deploy, Package, Stage, built
from tests.lambda_tier.deployment import schedules
from tests.lambda_tier.function import ACCOUNT_ID, REGION

FUNCTION = "reconcile_from_inventory"
# The stage's own location; each test replaces it by its own report bucket, as it does the
# stage's bucket and table.
LOCATION = "s3://s3-once-inventory-dev/inventory/s3-once-uploads-dev/all-objects/"


@pytest.fixture(scope="session")
def inventory_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Package]:
    """The dev stage of a copy of the project whose config adds INVENTORY_LOCATION (the real
    config keeps its stages: the deploy tests check the policy of each)."""
    project = clean_copy(PROJECT_DIR, tmp_path_factory.mktemp("inventory-project"), bytecode=False)
    config_file = project / ".chalice" / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config["stages"][STAGE]["environment_variables"][LOCATION_VARIABLE] = LOCATION
    config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")
    with built(tmp_path_factory, project) as package:
        yield package


def scheduled_event(rule: str) -> dict[str, Any]:
    """What an EventBridge schedule sends its target, as AWS documents it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": "2026-12-06T12:15:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule}"],
        "detail": {},
    }


def row(upload: Upload) -> Row:
    return Row(upload.bucket, upload.key, upload.etag, upload.size, upload.version_id or "")


def test_the_schedule_redrives_exactly_the_uploads_never_delivered_and_then_nothing(
    stage: Stage, deploy: Deploy, package: Package, inventory_package: Package
) -> None:
    # Only a stage with an inventory location has the function and its schedule.
    assert FUNCTION not in package.functions and schedules(package.terraform_dir) == []
    [schedule] = schedules(inventory_package.terraform_dir)
    assert (schedule.function, schedule.expression) == (
        FUNCTION,
        f"rate({SCHEDULE_MINUTES} minutes)",
    )
    config = inventory_package.functions[FUNCTION]
    assert (config.handler, config.variables[LOCATION_VARIABLE]) == (f"app.{FUNCTION}", LOCATION)

    uploads = [
        put_upload(stage.s3, stage.bucket, f"inbox/{n} é+#.txt", f"note {n}".encode(), "text/plain")
        for n in range(6)
    ]
    delivered, never_delivered = uploads[:3], uploads[3:]
    # S3 delivered the notifications of three (one event of three records); the others were lost.
    trigger = deploy(built=inventory_package)
    records = [record for upload in delivered for record in created_event(upload)["Records"]]
    delivery = trigger.invoke({"Records": records}, str(uuid.uuid4()))
    assert delivery.succeeded
    reports = unique_name("inventory")
    stage.s3.create_bucket(Bucket=reports)
    report = write_report(stage.s3, reports, stage.bucket, [row(upload) for upload in uploads])
    reconcile = deploy(
        FUNCTION,
        built=inventory_package,
        **{LOCATION_VARIABLE: f"s3://{reports}/{report.location}"},
    )

    first = reconcile.invoke(scheduled_event(f"{FUNCTION}-event"), str(uuid.uuid4()))
    second = reconcile.invoke(scheduled_event(f"{FUNCTION}-event"), str(uuid.uuid4()))

    assert (first.succeeded, second.succeeded) == (True, True), (first.payload, second.payload)
    items = stage.lock_items()
    locks = {item["key"]["S"]: item for item in items if "status" in item}
    assert {key: lock["status"]["S"] for key, lock in locks.items()} == {
        upload.key: "COMPLETED" for upload in uploads
    }
    # The reconciliation acquired and completed exactly the never-delivered uploads, once each.
    owners = {key: (lock["owner"]["S"], lock["attempts"]["N"]) for key, lock in locks.items()}
    assert owners == {
        **{upload.key: (delivery.request_id, "1") for upload in delivered},
        **{upload.key: (first.request_id, "1") for upload in never_delivered},
    }
    processed = [line["key"] for line in reconcile.json_lines() if line.get("content_type")]
    assert sorted(processed) == sorted(upload.key for upload in never_delivered)
    # The checkpoint item: the report settled, so the second run read nothing.
    [checkpoint] = [item for item in items if "checkpoint" in item]
    assert checkpoint["pk"]["S"].startswith("%checkpoint=reconcile ")
    assert "open_shard" not in checkpoint  # not in the open-work index
    assert json.loads(checkpoint["checkpoint"]["S"]) == {
        "manifest": report.url,
        "file_index": 0,
        "row": 0,
        "done": True,
    }
    lines = reconcile.json_lines()
    summaries = [line for line in lines if str(line.get("message", "")).startswith("inventory")]
    assert [(s["message"], s.get("missing")) for s in summaries] == [
        ("inventory reconciled", len(never_delivered)),
        ("inventory report already reconciled", 0),
    ]
    assert [s["request_id"] for s in summaries] == [first.request_id, second.request_id]
    assert summaries[0]["outcomes"] == {"processed": len(never_delivered)}
    assert (summaries[0]["rows_read"], summaries[1]["rows_read"]) == (len(uploads), 0)
    metrics = [line for line in lines if "_aws" in line and "reconciled_missing" in line]
    assert [m["reconciled_missing"] for m in metrics] == [len(never_delivered), 0]
    assert {"Name": "reconciled_missing", "Unit": "Count"} in (
        metrics[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    )
    assert first.payload == {k: v for k, v in summaries[0].items() if k in first.payload}
    assert reconcile.environments_started == 1
