"""What the benchmarks ran on: machine, load and the versions of everything measured."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from s3once.local.servers import dynamodb_local_dir

PACKAGES = ("boto3", "botocore", "chalice", "aws-lambda-powertools")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _java() -> str:
    try:
        result = subprocess.run(
            [os.environ.get("JAVA", "java"), "-version"], capture_output=True, text=True, timeout=30
        )
    except OSError:
        return "not found"
    return (result.stderr or result.stdout).splitlines()[0] if result.returncode == 0 else "?"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _dynamodb_local() -> str:
    try:
        return dynamodb_local_dir().name
    except FileNotFoundError:
        return "not installed"


def describe() -> dict[str, str]:
    load = os.getloadavg()
    return {
        "time (UTC)": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {_cpu_model()}",
        "system": platform.platform(),
        "load average (1, 5, 15 min)": ", ".join(f"{value:.1f}" for value in load),
        "Python": platform.python_version(),
        **{package: _version(package) for package in PACKAGES},
        "DynamoDB Local": f"{_dynamodb_local()} on {_java()}",
    }
