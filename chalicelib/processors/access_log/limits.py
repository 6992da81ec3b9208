"""Budgets that refuse a hostile log early and for good, before it costs time, memory or items.

Each refusal is a `RefusedLogError` (a permanent failure): the object's bytes are pinned by its
eTag, so a retry would be refused the same way.
"""

from __future__ import annotations

from chalicelib.processors.access_log.errors import (
    HourOutOfWindowError,
    InflationLimitError,
    TooManyHoursError,
)
from chalicelib.processors.access_log.formats import UtcHour
from chalicelib.processors.access_log.settings import RATIO_FREE_BYTES, AccessLogSettings

MS_PER_HOUR = 3_600_000


class HourWindow:
    """Admits the distinct hours of one file: within the window around the upload, and few."""

    def __init__(self, settings: AccessLogSettings, upload_ms: int) -> None:
        upload_hour = upload_ms // MS_PER_HOUR
        self._earliest = upload_hour - settings.max_hours_before_upload
        self._latest = upload_hour + settings.max_hours_after_upload
        self._before = settings.max_hours_before_upload
        self._after = settings.max_hours_after_upload
        self._max_hours = settings.max_hours_per_file
        self._admitted = 0

    def admit(self, hour: UtcHour) -> None:
        """Called once per distinct hour; raises if the file must be refused."""
        if hour.epoch_hour < self._earliest:
            raise HourOutOfWindowError(
                f"a line is from {hour.label}, more than {self._before} hours before the"
                " upload (ACCESS_LOG_MAX_HOURS_BEFORE_UPLOAD)"
            )
        if hour.epoch_hour > self._latest:
            raise HourOutOfWindowError(
                f"a line is from {hour.label}, more than {self._after} hours after the"
                " upload (ACCESS_LOG_MAX_HOURS_AFTER_UPLOAD)"
            )
        self._admitted += 1
        if self._admitted > self._max_hours:
            raise TooManyHoursError(
                f"the log spans more than {self._max_hours} distinct hours"
                " (ACCESS_LOG_MAX_HOURS_PER_FILE)"
            )


class InflationBudget:
    """Caps the inflated size of a log and, past RATIO_FREE_BYTES, its inflation ratio."""

    def __init__(self, settings: AccessLogSettings) -> None:
        self._max_bytes = settings.max_inflated_bytes
        self._max_ratio = settings.max_inflation_ratio

    def check(self, inflated: int, consumed: int) -> None:
        """`inflated` bytes of text came out of `consumed` bytes of the object so far."""
        if inflated > self._max_bytes:
            raise InflationLimitError(
                f"the log inflates to more than {self._max_bytes} bytes"
                " (ACCESS_LOG_MAX_INFLATED_MIB)"
            )
        if inflated > RATIO_FREE_BYTES and inflated > self._max_ratio * consumed:
            raise InflationLimitError(
                f"{consumed} bytes inflated to {inflated}, more than {self._max_ratio}:1"
                " (ACCESS_LOG_MAX_INFLATION_RATIO)"
            )
