"""Processors: what is done, exactly once in effect, with each uploaded object."""

from __future__ import annotations

from chalicelib.errors import ConfigurationError
from chalicelib.ports import ObjectStore, Processor


def build_processor(name: str, objects: ObjectStore, access_log_format: str = "auto") -> Processor:
    """Imports only the processor asked for: a cold start pays for no other one's modules."""
    if name == "content-type":
        from chalicelib.processors.content_type import ContentTypeProcessor

        return ContentTypeProcessor(objects)
    if name == "access-log":
        from chalicelib.access_log.processor import AccessLogProcessor

        return AccessLogProcessor(objects, access_log_format)
    raise ConfigurationError(f"unknown processor {name!r}")
