"""Processors: what is done, exactly once in effect, with each uploaded object."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.errors import ConfigurationError
from chalicelib.ports import ObjectStore, Processor


def build_processor(name: str, objects: ObjectStore, environ: Mapping[str, str]) -> Processor:
    """The processor `name`; it reads its own settings from `environ`. Only its modules are
    imported: a cold start pays for no other processor's."""
    if name == "content-type":
        from chalicelib.processors.content_type import ContentTypeProcessor

        return ContentTypeProcessor(objects)
    if name == "access-log":
        from chalicelib.access_log.processor import AccessLogProcessor
        from chalicelib.access_log.settings import AccessLogSettings

        return AccessLogProcessor(objects, AccessLogSettings.from_environ(environ))
    raise ConfigurationError(f"unknown processor {name!r}")
