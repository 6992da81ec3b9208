"""How far the reconciliation of one report went: the manifest, the data file and its rows.

Every row before the position is settled (looked up, and what was missing re-driven), so a run
resumes there; going back is always safe (the lock table skips what is COMPLETED).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from chalicelib.core.model import JsonValue
from chalicelib.reconcile.errors import CorruptInventoryError


@dataclass(frozen=True)
class Checkpoint:
    manifest: str  # s3://bucket/key of the report's manifest.json
    file_index: int = 0  # files[file_index] of the manifest
    row: int = 0  # rows of that file already settled
    done: bool = False  # every file settled

    def at(self, file_index: int, row: int) -> Checkpoint:
        return replace(self, file_index=file_index, row=row)

    def finished(self) -> Checkpoint:
        return replace(self, file_index=0, row=0, done=True)

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "manifest": self.manifest,
            "file_index": self.file_index,
            "row": self.row,
            "done": self.done,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, object], where: str) -> Checkpoint:
        manifest, index, row = value.get("manifest"), value.get("file_index"), value.get("row")
        if not isinstance(manifest, str) or not isinstance(index, int) or not isinstance(row, int):
            raise CorruptInventoryError(f"{where} is not a reconciliation checkpoint")
        return cls(manifest, index, row, value.get("done") is True)


def resume_from(saved: Checkpoint | None, manifest: str) -> Checkpoint:
    """Where to start on `manifest`: the saved position if it is this report's."""
    if saved is not None and saved.manifest == manifest:
        return saved
    return Checkpoint(manifest)
