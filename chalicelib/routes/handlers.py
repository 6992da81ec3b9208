"""What each route answers: the only code the new handlers in app.py call.

Built once per container by the composition root, with the pipeline, the HeadObject adapter
and the classification of AWS errors; nothing here creates a client.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.core.logs import log
from chalicelib.core.model import ParsedEvent
from chalicelib.core.service import Invocation
from chalicelib.routes import batch_operations, sqs
from chalicelib.routes.delivery import Delivery, Handle, ServiceErrors, deliver
from chalicelib.routes.eventbridge import parse_eventbridge


class RouteHandlers:
    def __init__(
        self,
        handle: Handle,
        locator: batch_operations.ObjectLocator,
        errors: ServiceErrors,
        logger: logging.Logger,
    ) -> None:
        self._handle = handle
        self._locator = locator
        self._errors = errors
        self._logger = logger

    def sqs(self, event: object, invocation: Invocation) -> dict[str, Any]:
        """Lambda's partial batch response: the messages to deliver again."""
        return sqs.answer_messages(
            sqs.read_messages(event),
            lambda parsed: self._deliver(parsed, invocation),
            self._logger,
            invocation.request_id,
        )

    def eventbridge(self, event: object, invocation: Invocation) -> dict[str, object]:
        """Like a direct notification: the summary, or IncompleteBatchError so Lambda retries."""
        return self._handle(parse_eventbridge(event), invocation).to_dict()

    def batch_operations(self, event: object, invocation: Invocation) -> dict[str, Any]:
        """One result per task, in the response shape S3 Batch Operations reads."""
        job = batch_operations.read_invocation(event)
        results = []
        for task in job.tasks:
            result = batch_operations.answer_task(
                task, self._locator, lambda parsed: self._deliver(parsed, invocation), self._errors
            )
            log(
                self._logger,
                logging.INFO
                if result.result_code == batch_operations.SUCCEEDED
                else logging.WARNING,
                "task " + result.result_code,
                route="batch-operations",
                job_id=job.job_id,
                task_id=task.task_id,
                bucket=task.bucket,
                key=task.key,
                result_code=result.result_code,
                result=result.result_string,
                request_id=invocation.request_id,
            )
            results.append(result)
        return batch_operations.response(job, results)

    def _deliver(self, parsed: ParsedEvent, invocation: Invocation) -> Delivery:
        return deliver(self._handle, parsed, invocation, self._errors)
