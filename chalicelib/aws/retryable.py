"""Which errors of AWS services are worth retrying: the one place that reads botocore's errors.

The routes that answer per message or per task (SQS, S3 Batch Operations) must tell a passing
fault (throttling, a timeout, a 5xx) from one that a retry cannot cure (access denied, a missing
table). The lock and object adapters let such errors propagate untranslated; this module names
them for the routes, so no route imports botocore.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

# What an AWS call raises after botocore's own retries: an error answer, or no answer at all.
SERVICE_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)

_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "TransactionConflictException",
        "TransactionInProgressException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)


def is_transient(error: BaseException) -> bool:
    """True when the same call may well succeed later: throttling, timeouts, server errors and
    failures to get any answer (connection, read timeout); False for everything else."""
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return code in _TRANSIENT_CODES or status >= 500
    return isinstance(error, BotoCoreError)


def describe(error: BaseException) -> str:
    """A short, stable text for a report: the error code where AWS gave one."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        return f"{code}: {message}".strip(": ")
    return f"{type(error).__name__}: {error}"
