"""Processors: what is done, exactly once in effect, with each uploaded object."""

from __future__ import annotations

from chalicelib.access_log.processor import AccessLogProcessor
from chalicelib.errors import ConfigurationError
from chalicelib.ports import ObjectStore, Processor
from chalicelib.processors.content_type import ContentTypeProcessor


def build_processor(name: str, objects: ObjectStore, access_log_format: str = "auto") -> Processor:
    if name == ContentTypeProcessor.name:
        return ContentTypeProcessor(objects)
    if name == AccessLogProcessor.name:
        return AccessLogProcessor(objects, access_log_format)
    raise ConfigurationError(f"unknown processor {name!r}")
