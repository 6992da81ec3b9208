"""INVENTORY_LOCATION: read and checked, and the schedule exists only on a stage that sets it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from chalicelib.core.errors import ConfigurationError
from chalicelib.reconcile.settings import DEFAULT_MAX_ROWS, ReconcileSettings
from tests.conftest import PROJECT_DIR

LIST_SOURCES = "import app; print(sorted(s.name for s in app.app.event_sources))"


def event_sources(**environ: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    env.update(APP_BUCKET_NAME="uploads", **environ)
    return subprocess.run(
        [sys.executable, "-c", LIST_SOURCES],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_schedule_is_registered_only_where_the_stage_names_an_inventory() -> None:
    without = event_sources()
    with_location = event_sources(INVENTORY_LOCATION="s3://dest/inventory/uploads/all/")

    assert "reconcile_from_inventory" not in without.stdout, without.stderr
    assert "'reconcile_from_inventory'" in with_location.stdout, with_location.stderr


def test_a_location_that_is_no_s3_address_fails_the_import_naming_the_setting() -> None:
    result = event_sources(INVENTORY_LOCATION="dest/inventory/")

    assert result.returncode != 0
    assert "INVENTORY_LOCATION='dest/inventory/' is not an s3://bucket/prefix/ address" in (
        result.stderr
    )


def test_the_location_is_a_bucket_and_a_folder_prefix_and_the_bound_has_a_default() -> None:
    read = ReconcileSettings.from_environ({"INVENTORY_LOCATION": "s3://dest/inv/uploads/all"})

    assert (read.bucket, read.prefix, read.max_rows_per_run) == (
        "dest",
        "inv/uploads/all/",
        DEFAULT_MAX_ROWS,
    )
    with pytest.raises(ConfigurationError, match="INVENTORY_MAX_OBJECTS_PER_RUN=5 is out of"):
        ReconcileSettings.from_environ(
            {"INVENTORY_LOCATION": "s3://dest/", "INVENTORY_MAX_OBJECTS_PER_RUN": "5"}
        )
