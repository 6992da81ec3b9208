"""Keep the embedded run's tables between runs, so a second run sees what the first one did.

moto keeps everything in memory; this saves the items of the app's tables to a JSON file on
exit and puts them back on the next start. Only the embedded default uses it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STATE_DIR = Path(".s3once")


def state_file(project_dir: Path, stage: str) -> Path:
    return project_dir / STATE_DIR / f"{stage}-tables.json"


def save_tables(dynamodb: Any, table_names: list[str], path: Path) -> None:
    snapshot: dict[str, list[dict[str, Any]]] = {}
    for name in table_names:
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            items.extend(page["Items"])
        snapshot[name] = items
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snapshot, indent=1), encoding="utf-8")


def restore_tables(dynamodb: Any, path: Path) -> int:
    """Put back the saved items; returns how many. A missing file restores nothing."""
    if not path.exists():
        return 0
    snapshot: dict[str, list[dict[str, Any]]] = json.loads(path.read_text(encoding="utf-8"))
    restored = 0
    for name, items in snapshot.items():
        for item in items:
            dynamodb.put_item(TableName=name, Item=item)
            restored += 1
    return restored
