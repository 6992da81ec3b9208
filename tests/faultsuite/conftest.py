"""Fixtures of the fault schedules: one lock table for all (each schedule has its own bucket)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from s3once.aws.tables import create_lock_table
from tests.conftest import unique_name
from tests.faultsuite.world import Stack, quiet_crashes_in_threads


@pytest.fixture(scope="session")
def suite_lock_table(dynamodb_local_url: str) -> str:
    name = unique_name("faultsuite-locks")
    create_lock_table(Stack(dynamodb_local_url, "", name, "", "").client(), name)
    return name


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    quiet_crashes_in_threads()
    yield tmp_path
