"""Cold start: `import app` over `import boto3`, from the deployment package as Lambda sees it.

The package is built by `scripts/package.py` (as `make package` does), with and without
bytecode, and extracted as Lambda extracts it: every file dated as in the zip (so a timestamp
`.pyc` built elsewhere never matches its source) and nothing written back (`python -B`:
`/var/task` is read-only, so a module without usable bytecode is compiled on every cold start).
Each fresh interpreter imports boto3, then the app, timing each; figures are medians over
interpreters run in rotating order, in CPU time (the machine is shared: wall time adds whatever
waiting for a core there was, and is shown beside it). "Over import boto3" is the app's import
with boto3 already loaded: what the app adds to the runtime's own SDK. boto3, botocore and
Powertools come from the virtualenv with the bytecode pip compiled for them, as the Lambda
runtime's boto3 and the Powertools layer come with theirs: the peer gets its best case. Neither
app creates an AWS client at import (s3-once creates its clients on the first event).
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from scripts.package import build

ROUNDS = 25
STAGE = "dev"
TIMER = (
    "import sys, time\n"
    "cpu, wall = time.process_time_ns(), time.perf_counter_ns()\n"
    "import boto3\n"
    "boto3_cpu, boto3_wall = time.process_time_ns() - cpu, time.perf_counter_ns() - wall\n"
    "cpu, wall = time.process_time_ns(), time.perf_counter_ns()\n"
    "__import__(sys.argv[1])\n"
    "print(boto3_cpu, boto3_wall, time.process_time_ns() - cpu, time.perf_counter_ns() - wall)\n"
)
POWERTOOLS_APP = '''"""A handler module with Powertools' idempotency, as its documentation shows."""
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

config = IdempotencyConfig(event_key_jmespath="[bucket, key, etag]")
'''
APP_ENVIRONMENT = {
    "APP_BUCKET_NAME": "s3-once-uploads-dev",
    "LOCK_TABLE_NAME": "s3-once-locks-dev",
    "AGGREGATES_TABLE_NAME": "s3-once-aggregates-dev",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "s3-once-dev-on_object_created",
}


def extract_as_lambda(archive: Path, task: Path) -> Path:
    """Unzip with each file's time set to its zip entry's (zipfile leaves them at 'now')."""
    with zipfile.ZipFile(archive) as package:
        for info in package.infolist():
            path = Path(package.extract(info, task))
            stamp = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(path, (stamp, stamp))
    return task


def powertools_size() -> int:
    """Bytes a zip of the Powertools package's sources takes (what vendoring it adds)."""
    import aws_lambda_powertools

    root = Path(aws_lambda_powertools.__file__).parent
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(root.parent).as_posix())
    return len(buffer.getvalue())


def import_ns(task: Path, module: str) -> list[int]:
    """In a fresh interpreter: CPU and wall ns of `import boto3`, then of `import <module>`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTHON", "AWS_ENDPOINT"))
    }
    env.update(APP_ENVIRONMENT)
    output = subprocess.run(
        [sys.executable, "-B", "-c", TIMER, module],
        cwd=task,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return [int(value) for value in output.strip().splitlines()[-1].split()]


def ms(nanoseconds: float) -> float:
    return round(nanoseconds / 1e6, 1)


def median_ms(values: Sequence[int]) -> float:
    return ms(statistics.median(values))


def main() -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        packages = {
            "s3-once, sources only": build(root / "plain", STAGE, bytecode=False),
            "s3-once, with bytecode": build(root / "bytecode", STAGE, bytecode=True),
        }
        subjects = {
            f"import app ({name})": (extract_as_lambda(archive, root / f"task-{index}"), "app")
            for index, (name, archive) in enumerate(packages.items())
        }
        powertools_task = root / "task-powertools"
        powertools_task.mkdir()
        (powertools_task / "powertools_app.py").write_text(POWERTOOLS_APP)
        subjects["import Powertools idempotency"] = (powertools_task, "powertools_app")
        samples: dict[str, list[list[int]]] = {name: [] for name in subjects}
        names = list(subjects)
        for round_index in range(-1, ROUNDS):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                measured = import_ns(*subjects[name])
                if round_index >= 0:  # round -1 warms the file cache
                    samples[name].append(measured)
        sizes = {name: archive.stat().st_size for name, archive in packages.items()}
    every = [sample for runs in samples.values() for sample in runs]
    peer = statistics.median([s[2] for s in samples["import Powertools idempotency"]])
    rows: list[dict[str, object]] = [
        {
            "import": "boto3 (every interpreter, first)",
            "CPU ms over import boto3": "",
            "vs Powertools": "",
            "CPU ms": median_ms([s[0] for s in every]),
            "wall ms": median_ms([s[1] for s in every]),
            "package bytes": "",
        }
    ]
    for name in names:
        runs = samples[name]
        rows.append(
            {
                "import": name.removeprefix("import "),
                "CPU ms over import boto3": median_ms([s[2] for s in runs]),
                "vs Powertools": f"{statistics.median([s[2] for s in runs]) / peer:.2f}x",
                "CPU ms": median_ms([s[0] + s[2] for s in runs]),
                "wall ms": median_ms([s[1] + s[3] for s in runs]),
                "package bytes": next(
                    (size for package, size in sizes.items() if package in name),
                    f"{powertools_size()} (its sources, zipped)",
                ),
            }
        )
    return rows


def summary(rows: Sequence[Mapping[str, object]]) -> list[str]:
    over = {str(r["import"]): str(r["CPU ms over import boto3"]) for r in rows[1:]}
    plain = float(over["app (s3-once, sources only)"])
    shipped = float(over["app (s3-once, with bytecode)"])
    peer = float(over["Powertools idempotency"])
    best = min(plain, shipped)
    return [
        f"`import boto3` took {rows[0]['CPU ms']} ms of CPU; then `import app` took {shipped} ms"
        f" with bytecode in the package, {plain} ms without ({shipped - plain:+.1f} ms);"
        f" Powertools' idempotency import took {peer} ms ({shipped / peer:.2f}x with bytecode).",
        "Cold start vs Powertools (`import app` from the package with bytecode ≤ Powertools'"
        f" idempotency import, same run): {shipped / peer:.2f}x ({shipped} ms vs {peer} ms): "
        + ("met" if shipped <= peer else f"missed by {shipped - peer:.1f} ms"),
        "Cold start target (`import app` ≤ `import boto3` + 12 ms): "
        + ("met" if best <= 12 else f"missed by {best - 12:.1f} ms")
        + f" ({best} ms over boto3).",
    ]
