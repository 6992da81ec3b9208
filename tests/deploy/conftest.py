"""Deployment fixtures: the end-to-end app (replayed under the call recorder) and packages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.deploy.project import copy_project, run_chalice
from tests.deploy.stages import PROJECT_DIR
from tests.e2e.conftest import make_app  # noqa: F401  (re-exported fixture)

TERRAFORM_TEMPLATES = PROJECT_DIR / "infra" / "terraform"


@pytest.fixture(scope="session")
def terraform_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dev stage as docs/deploy.md builds it: `chalice package --pkg-format terraform`,
    then the project's Terraform files copied next to Chalice's, with those of the SQS route
    (dev sets SQS_QUEUE_NAME)."""
    project = copy_project(tmp_path_factory.mktemp("project"))
    out = project / "build" / "terraform" / "dev"
    result = run_chalice(
        project, "package", "--pkg-format", "terraform", "--stage", "dev", str(out)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for template in TERRAFORM_TEMPLATES.glob("*.tf.json"):
        shutil.copy2(template, out / template.name)
    for template in (TERRAFORM_TEMPLATES / "sqs").glob("*.tf.json"):  # dev has the SQS route
        shutil.copy2(template, out / template.name)
    return out
