"""AWS access for the tool, as the AWS CLI does it: one boto3 Session built from the command line
(`--profile`, `--region`, `--endpoint-url`) and passed down; the process environment is read by
boto3 as usual but never changed.

Errors a user can fix (no region, no credentials, access denied, a missing table or endpoint)
become one line naming the cause (`OperatorError`), never a traceback.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import click
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
}
NOT_FOUND = {"ResourceNotFoundException", "NoSuchBucket", "NoSuchKey", "NotFound", "404"}


class OperatorError(click.ClickException):
    """A condition the operator can fix, printed as one line (`Error: ...`), exit status 1."""


@dataclass
class RequestCounter:
    """Requests sent per `service.Operation`, retries included (botocore's `before-send` hook)."""

    counts: collections.Counter[str] = field(default_factory=collections.Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Any, event_name: str, **_: Any) -> None:
        # event_name is "before-send.<service>.<Operation>"
        _hook, service_name, operation = event_name.split(".", 2)
        with self._lock:
            self.counts[f"{service_name}.{operation}"] += 1

    def get(self, name: str) -> int:
        return self.counts.get(name, 0)


@dataclass(frozen=True)
class AwsOptions:
    """What the command line says about AWS; unset values fall back to boto3's own chain
    (AWS_PROFILE, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL[_<SERVICE>], ~/.aws/config)."""

    endpoint_url: str | None = None
    profile: str | None = None
    region: str | None = None

    def merged(self, other: AwsOptions) -> AwsOptions:
        """`other`'s values where it has them (options after the command win over the ones
        before it), ours elsewhere."""
        return AwsOptions(
            endpoint_url=other.endpoint_url or self.endpoint_url,
            profile=other.profile or self.profile,
            region=other.region or self.region,
        )


class Aws:
    """One session and its clients for the life of a command; every request is counted."""

    def __init__(self, options: AwsOptions, credentials: dict[str, str] | None = None) -> None:
        """`credentials`: AWS_ACCESS_KEY_ID and its kin to use instead of boto3's chain (the
        embedded local server's)."""
        self.options = options
        self.credentials = credentials or {}
        self.requests = RequestCounter()
        try:
            self.session = boto3.session.Session(
                profile_name=options.profile,
                region_name=options.region or self.credentials.get("AWS_DEFAULT_REGION"),
                aws_access_key_id=self.credentials.get("AWS_ACCESS_KEY_ID"),
                aws_secret_access_key=self.credentials.get("AWS_SECRET_ACCESS_KEY"),
                aws_session_token=self.credentials.get("AWS_SESSION_TOKEN"),
            )
        except ProfileNotFound:
            raise OperatorError(
                f"AWS profile {options.profile!r} is not in the AWS config files"
            ) from None
        self.session.events.register("before-send", self.requests)
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            with aws_errors(self):
                self._clients[service] = self.session.client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=self.options.endpoint_url,
                    config=Config(retries={"mode": "standard"}),
                )
        return self._clients[service]

    @property
    def region(self) -> str | None:
        return self.session.region_name

    def endpoint(self, service: str) -> str:
        return str(self.client(service).meta.endpoint_url)

    def target(self, service: str) -> str:
        """Where `service` requests go, for messages: the endpoint and, on AWS, the account."""
        endpoint = self.endpoint(service)
        if endpoint.endswith(".amazonaws.com") or ".amazonaws.com/" in endpoint:
            account = self.client("sts").get_caller_identity()["Account"]
            return f"AWS account {account}, region {self.region} ({endpoint})"
        return f"endpoint {endpoint} (region {self.region})"

    def child_environment(self) -> dict[str, str]:
        """The variables a child process needs to reach the same AWS as this session."""
        environment: dict[str, str] = dict(self.credentials)
        if self.options.endpoint_url:
            environment["AWS_ENDPOINT_URL"] = self.options.endpoint_url
        if self.options.profile:
            environment["AWS_PROFILE"] = self.options.profile
        if self.region:
            environment["AWS_DEFAULT_REGION"] = self.region
        return environment


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def aws_errors(aws: Aws | None = None, table: str | None = None) -> Iterator[None]:
    """Turn the AWS errors an operator can fix into one-line `OperatorError`s; `table` names
    the DynamoDB table the block uses, for the message when it does not exist."""
    profile = f" (profile {aws.options.profile})" if aws and aws.options.profile else ""
    try:
        yield
    except NoRegionError:
        raise OperatorError(
            "no AWS region: pass --region, set AWS_DEFAULT_REGION or set a region in the profile"
        ) from None
    except (NoCredentialsError, PartialCredentialsError):
        raise OperatorError(
            f"no AWS credentials found{profile}: pass --profile, set AWS_ACCESS_KEY_ID and"
            " AWS_SECRET_ACCESS_KEY, or run `aws configure`"
        ) from None
    except EndpointConnectionError as exc:
        raise OperatorError(
            f"cannot reach {exc.kwargs.get('endpoint_url', 'the endpoint')}"
        ) from None
    except ClientError as exc:
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "") or code
        operation = exc.operation_name
        if code in ACCESS_DENIED:
            raise OperatorError(f"access denied{profile} on {operation}: {message}") from None
        if code == "ResourceNotFoundException" and table:
            where = f" at {aws.endpoint('dynamodb')}" if aws else ""
            raise OperatorError(
                f"table {table} does not exist{where}: create it with `s3once create-tables`"
            ) from None
        if code in NOT_FOUND:
            raise OperatorError(f"not found on {operation}: {message}") from None
        raise
