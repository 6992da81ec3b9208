"""Processors: what is done, exactly once in effect, with each uploaded object."""

from __future__ import annotations

from chalicelib.errors import ConfigurationError
from chalicelib.ports import ObjectStore, Processor
from chalicelib.processors.content_type import ContentTypeProcessor


def build_processor(name: str, objects: ObjectStore) -> Processor:
    if name == ContentTypeProcessor.name:
        return ContentTypeProcessor(objects)
    raise ConfigurationError(f"unknown processor {name!r}")
