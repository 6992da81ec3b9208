"""Keep the embedded server's tables and buckets between runs, so a second run (or an
`s3once --local` command) sees what the first one did.

moto keeps everything in memory; this saves the items of the app's tables to a JSON file and
the stage's objects to files on exit, and puts them back on the next start. Only the embedded
default uses it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

STATE_DIR = Path(".s3once")
INDEX = "index.json"


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


def bucket_folder(project_dir: Path, stage: str) -> Path:
    return project_dir / STATE_DIR / f"{stage}-buckets"


def save_buckets(s3: Any, buckets: list[str], folder: Path) -> None:
    """Every object of `buckets`: its body in a file named by a hash of bucket and key (keys are
    any UTF-8, not file names), and an index of keys, eTags, content types and metadata. An
    object whose eTag the index already holds, with its file, is not downloaded again."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = {(e["bucket"], e["key"]): e for e in _read_index(folder)}
    index: list[dict[str, Any]] = []
    for bucket in buckets:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for listed in page.get("Contents", []):
                key, etag = listed["Key"], listed.get("ETag", "")
                name = hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()
                entry = saved.get((bucket, key))
                if entry is None or entry.get("etag") != etag or not (folder / name).exists():
                    got = s3.get_object(Bucket=bucket, Key=key)
                    (folder / name).write_bytes(got["Body"].read())
                    entry = {
                        "bucket": bucket,
                        "key": key,
                        "file": name,
                        "etag": etag,
                        "content_type": got.get("ContentType", "binary/octet-stream"),
                        "metadata": got.get("Metadata", {}),
                    }
                index.append(entry)
    kept = {entry["file"] for entry in index}
    for stale in folder.iterdir():
        if stale.name not in kept and stale.name != INDEX:
            stale.unlink()
    (folder / INDEX).write_text(json.dumps(index, indent=1), encoding="utf-8")


def _read_index(folder: Path) -> list[dict[str, Any]]:
    index_file = folder / INDEX
    if not index_file.exists():
        return []
    index: list[dict[str, Any]] = json.loads(index_file.read_text(encoding="utf-8"))
    return index


def restore_buckets(s3: Any, folder: Path) -> int:
    """Put back the saved objects (same bodies, so the same eTags); returns how many."""
    index = _read_index(folder)
    for entry in index:
        s3.put_object(
            Bucket=entry["bucket"],
            Key=entry["key"],
            Body=(folder / entry["file"]).read_bytes(),
            ContentType=entry["content_type"],
            Metadata=entry["metadata"],
        )
    return len(index)
