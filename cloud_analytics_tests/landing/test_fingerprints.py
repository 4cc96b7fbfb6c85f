"""Content fingerprints of landed files: what decides that a re-run has nothing new to do."""

from __future__ import annotations

import os

import pytest

from cloud_analytics.landing.fingerprints import (
    INVALID,
    MISSING,
    file_fingerprint,
    files_fingerprint,
    listing_fingerprint,
    month_fingerprints,
)

pytestmark = pytest.mark.fast
HEADER = "invoice_id,org_id,month,subtotal\n"
JUNE = "inv_1,org_a,2025-06-01,10.0\n"
JULY = "inv_2,org_a,2025-07-01,20.0\n"


def test_a_file_is_fingerprinted_by_content_not_name(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(HEADER + JUNE)
    b.write_text(HEADER + JUNE)
    assert file_fingerprint(a) == file_fingerprint(b) != file_fingerprint(tmp_path / "none.csv") == MISSING
    b.write_text(HEADER + JUNE.replace("10.0", "10.5"))
    assert file_fingerprint(a) != file_fingerprint(b)
    assert len(file_fingerprint(a)) == 16
    # Several files: a change in any one of them changes the whole.
    before = files_fingerprint([a, b])
    a.write_text(HEADER + JULY)
    assert files_fingerprint([a, b]) != before


def test_month_fingerprints_change_only_for_the_month_that_changed(tmp_path):
    path = tmp_path / "billing_monthly.csv"
    path.write_text(HEADER + JUNE + JULY)
    before = month_fingerprints(path, "month")
    assert set(before) == {"2025-06-01", "2025-07-01"}
    path.write_text(HEADER + JUNE + JULY.replace("20.0", "21.0"))
    after = month_fingerprints(path, "month")
    assert after["2025-06-01"] == before["2025-06-01"] and after["2025-07-01"] != before["2025-07-01"]
    # A new header (a renamed column) changes every month; an unreadable month has its own bucket.
    path.write_text(HEADER.replace("subtotal", "sub_total") + JUNE + JULY + "inv_3,org_b,June 2025,5\n")
    renamed = month_fingerprints(path, "month")
    assert set(renamed) == {"2025-06-01", "2025-07-01", INVALID}
    assert renamed["2025-06-01"] != before["2025-06-01"]
    assert month_fingerprints(tmp_path / "none.csv", "month") == {}


def test_the_event_listing_sees_new_and_rewritten_files_but_not_files_being_written(tmp_path):
    (tmp_path / "events_0.jsonl").write_text('{"event_id": "e1"}\n')
    before = listing_fingerprint(tmp_path)
    (tmp_path / ".events_1.jsonl.tmp").write_text("partial")  # a producer still writing
    (tmp_path / "_events_2.jsonl").write_text("partial")
    assert listing_fingerprint(tmp_path) == before
    (tmp_path / "events_1.jsonl").write_text('{"event_id": "e2"}\n')
    assert listing_fingerprint(tmp_path) != before
    landed = listing_fingerprint(tmp_path)
    os.utime(tmp_path / "events_1.jsonl", ns=(1, 1))
    assert listing_fingerprint(tmp_path) != landed
