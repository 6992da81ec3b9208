"""The original recipe's job: log the content type of each upload, without downloading it."""

from __future__ import annotations

import logging

from chalicelib.core.logs import get_logger, log
from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import ObjectStore, ProcessingResult, WorkContext
from chalicelib.processors.plugin import ProcessorPlugin, Resources, no_settings


class ContentTypeProcessor:
    name = "content-type"

    def __init__(self, objects: ObjectStore, logger: logging.Logger | None = None) -> None:
        self._objects = objects
        self._logger = logger or get_logger()

    def process(self, obj: ObjectRef, work: WorkContext) -> ProcessingResult:
        metadata = self._objects.head(obj)
        log(
            self._logger,
            logging.INFO,
            f"CONTENT TYPE: {metadata.content_type}",
            content_type=metadata.content_type,
            bucket=obj.bucket,
            key=obj.key,
            size=metadata.size,
        )
        return ProcessingResult({"content_type": metadata.content_type, "size": metadata.size})


def _build(settings: None, resources: Resources) -> ContentTypeProcessor:
    return ContentTypeProcessor(resources.objects)


PLUGIN = ProcessorPlugin(
    name=ContentTypeProcessor.name,
    settings=no_settings,
    build=_build,
    samples="samples/uploads",
)
