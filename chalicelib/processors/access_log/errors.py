"""The access-log processor's own errors: logs it refuses for good (retrying cannot help)."""

from __future__ import annotations

from chalicelib.core.errors import PermanentProcessingError


class NotTextError(PermanentProcessingError):
    """The object is not a text log at all (binary, or a corrupt or truncated gzip stream)."""


class RefusedLogError(PermanentProcessingError):
    """An access log refused on a budget before it could cost more (time, memory, items).

    The same pinned bytes would be refused again, so retrying cannot help.
    """


class InflationLimitError(RefusedLogError):
    """The log inflates to more bytes, or at a higher ratio, than the configured caps allow."""


class HourOutOfWindowError(RefusedLogError):
    """A line's hour is outside the plausibility window around the object's upload time."""


class TooManyHoursError(RefusedLogError):
    """The log spans more distinct hours than one file is allowed to touch."""
