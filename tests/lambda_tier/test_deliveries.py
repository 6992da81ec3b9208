"""A fresh upload and its duplicate delivery, through the package under the runtime client."""

from __future__ import annotations

from s3once.s3_events import created_event, put_upload
from tests.lambda_tier.conftest import Deploy, MakeInvoker, Stage

KEY = "reports/2026 Q1 résumé+final.pdf"  # URL-encoded in the event, as S3 sends it


def test_an_upload_is_processed_once_and_its_duplicate_delivery_is_skipped(
    stage: Stage, deploy: Deploy, async_invoker: MakeInvoker
) -> None:
    function = deploy()
    invoker = async_invoker(function)
    upload = put_upload(stage.s3, stage.bucket, KEY, b"%PDF-1.7 ...", "application/pdf")
    assert upload.version_id  # the bucket is versioned: the event names the version

    first = invoker.invoke(created_event(upload))
    duplicate = invoker.invoke(created_event(upload))

    assert [a.succeeded for a in first.attempts + duplicate.attempts] == [True, True]
    assert [r["outcome"] for r in first.attempts[0].payload["records"]] == ["processed"]
    assert [r["outcome"] for r in duplicate.attempts[0].payload["records"]] == ["skipped"]
    [record] = stage.lock_items()
    assert (record["status"]["S"], record["attempts"]["N"]) == ("COMPLETED", "1")
    # Completed, the record is out of the sparse open-work index: it has neither of its keys.
    assert {"open_shard", "open_since"}.isdisjoint(record)
    # The processor ran once: one content-type line, from the first invocation's request id.
    processed = [line for line in function.json_lines() if line.get("content_type")]
    assert [(line["key"], line["request_id"]) for line in processed] == [(KEY, first.request_id)]
    # Both deliveries ran in one warm execution environment.
    assert function.environments_started == 1
    assert stage.failed_events() == []
