"""The inventory reports reconciliation refuses, each named in one line."""

from __future__ import annotations

from chalicelib.core.errors import S3OnceError


class InventoryError(S3OnceError):
    """An inventory report that cannot be reconciled as it is."""


class CorruptInventoryError(InventoryError):
    """The manifest is not JSON, misses a documented field, or a data file's row is unreadable."""


class ChecksumMismatchError(InventoryError):
    """A file's MD5 differs from the one the report states for it."""


class UnsupportedInventoryFormatError(InventoryError):
    """An ORC or Parquet report: only CSV (gzip) is read."""


class ForeignInventoryError(InventoryError):
    """The report lists another bucket than the stage's."""
