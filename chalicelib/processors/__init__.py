"""Processors: what is done, exactly once in effect, with each uploaded object."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.access_log.processor import AccessLogProcessor
from chalicelib.access_log.settings import AccessLogSettings
from chalicelib.errors import ConfigurationError
from chalicelib.ports import ObjectStore, Processor
from chalicelib.processors.content_type import ContentTypeProcessor


def build_processor(name: str, objects: ObjectStore, environ: Mapping[str, str]) -> Processor:
    """The processor `name`; it reads its own settings from `environ`."""
    if name == ContentTypeProcessor.name:
        return ContentTypeProcessor(objects)
    if name == AccessLogProcessor.name:
        return AccessLogProcessor(objects, AccessLogSettings.from_environ(environ))
    raise ConfigurationError(f"unknown processor {name!r}")
