from __future__ import annotations

from s3once.s3_events import created_event, put_upload
from tests.e2e.conftest import AppUnderTest


def test_a_fresh_upload_is_processed_and_its_duplicate_skipped(make_app) -> None:  # type: ignore[no-untyped-def]
    app: AppUnderTest = make_app()
    upload = put_upload(app.s3, app.bucket, "a b+c.txt", b"hello", "text/plain")

    first = app.invoke(created_event(upload))
    second = app.invoke(created_event(upload))

    assert first == {
        "records": [
            {"bucket": app.bucket, "key": "a b+c.txt", "outcome": "processed", "attempts": 1}
        ]
    }
    assert second["records"][0]["outcome"] == "skipped"
