"""Importing the challenge zip: layout validation, atomic extraction, immutability."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from cloud_analytics.landing.generator import generate
from cloud_analytics.landing.zip_import import LandingImportError, import_zip

CSVS = ["customers_orgs.csv", "users.csv", "resources.csv", "billing_monthly.csv",
        "support_tickets.csv", "marketing_touches.csv", "nps_surveys.csv"]
EVENTS = ["usage_events_stream/events_part_0000.jsonl", "usage_events_stream/events_part_0001.jsonl"]


def _contents(version: str = "v1") -> dict[str, bytes]:
    files = {name: f"id,{version}\n1,{name}\n".encode() for name in CSVS}
    files.update({name: f'{{"event_id": "evt_{i:012d}", "v": "{version}"}}\n'.encode()
                  for i, name in enumerate(EVENTS)})
    return files


def _zip(path: Path, files: dict[str, bytes], prefix: str = "datalake/landing/") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("README.txt", "Synthetic cloud provider dataset.\n")
        if prefix:
            zf.writestr(prefix, "")  # directory entry, as zip tools write them
        for name, data in files.items():
            zf.writestr(prefix + name, data)
    return path


def test_good_layout_imports(tmp_path):
    files = _contents()
    zip_path = _zip(tmp_path / "cloud_provider_challenge_dataset_v1.zip", files)
    landing = tmp_path / "landing"
    written = import_zip(zip_path, landing)
    assert sorted(written) == sorted(files)
    for name, data in files.items():
        assert (landing / name).read_bytes() == data
    assert not (landing / "README.txt").exists()
    assert not list(landing.rglob("*.tmp"))


def test_files_are_renamed_from_temp_names(tmp_path, monkeypatch):
    zip_path = _zip(tmp_path / "d.zip", _contents())
    renames = []
    real_replace = os.replace

    def recording_replace(src, dst):
        renames.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    written = import_zip(zip_path, tmp_path / "landing")
    assert len(renames) == len(written) == 9
    for src, dst in renames:
        assert src.parent == dst.parent and src.name == f".{dst.name}.tmp"


def test_missing_zip_names_the_path(tmp_path):
    missing = tmp_path / "nope.zip"
    with pytest.raises(LandingImportError, match="nope.zip"):
        import_zip(missing, tmp_path / "landing")


def test_not_a_zip_is_refused(tmp_path):
    bogus = tmp_path / "bogus.zip"
    bogus.write_text("not a zip")
    with pytest.raises(LandingImportError, match="bogus.zip"):
        import_zip(bogus, tmp_path / "landing")


def test_missing_files_are_listed(tmp_path):
    files = _contents()
    del files["users.csv"], files["nps_surveys.csv"]
    zip_path = _zip(tmp_path / "partial.zip", files)
    with pytest.raises(LandingImportError) as err:
        import_zip(zip_path, tmp_path / "landing")
    message = str(err.value)
    assert "partial.zip" in message
    assert "users.csv" in message and "nps_surveys.csv" in message
    assert "resources.csv" not in message
    assert not (tmp_path / "landing").exists()


def test_missing_events_are_listed(tmp_path):
    files = {name: data for name, data in _contents().items() if name in CSVS}
    with pytest.raises(LandingImportError, match=r"usage_events_stream/\*\.jsonl"):
        import_zip(_zip(tmp_path / "no_events.zip", files), tmp_path / "landing")


def test_files_outside_the_prefix_do_not_count(tmp_path):
    zip_path = _zip(tmp_path / "flat.zip", _contents(), prefix="")
    with pytest.raises(LandingImportError, match="customers_orgs.csv"):
        import_zip(zip_path, tmp_path / "landing")


def test_reimport_is_idempotent(tmp_path):
    zip_path = _zip(tmp_path / "d.zip", _contents())
    landing = tmp_path / "landing"
    assert len(import_zip(zip_path, landing)) == 9
    before = {p: p.stat().st_mtime_ns for p in landing.rglob("*") if p.is_file()}
    assert import_zip(zip_path, landing) == []
    assert {p: p.stat().st_mtime_ns for p in landing.rglob("*") if p.is_file()} == before


def test_partial_landing_is_completed(tmp_path):
    files = _contents()
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "users.csv").write_bytes(files["users.csv"])
    written = import_zip(_zip(tmp_path / "d.zip", files), landing)
    assert "users.csv" not in written and len(written) == 8


def test_conflicting_content_is_refused(tmp_path):
    landing = tmp_path / "landing"
    import_zip(_zip(tmp_path / "v1.zip", _contents("v1")), landing)
    first = {p: p.read_bytes() for p in landing.rglob("*") if p.is_file()}
    with pytest.raises(LandingImportError, match="immutable"):
        import_zip(_zip(tmp_path / "v2.zip", _contents("v2")), landing)
    assert {p: p.read_bytes() for p in landing.rglob("*") if p.is_file()} == first


def test_conflict_is_refused_before_writing_anything(tmp_path):
    files = _contents()
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "users.csv").write_bytes(b"something else\n")
    with pytest.raises(LandingImportError, match="users.csv"):
        import_zip(_zip(tmp_path / "d.zip", files), landing)
    assert sorted(p.name for p in landing.rglob("*")) == ["users.csv"]


def test_generated_dataset_round_trips_through_a_zip(tmp_path):
    generated = tmp_path / "generated"
    generate(generated, scale=1, seed=42)
    files = {p.relative_to(generated).as_posix(): p.read_bytes()
             for p in sorted(generated.rglob("*")) if p.is_file()}
    landing = tmp_path / "landing"
    written = import_zip(_zip(tmp_path / "cloud_provider_challenge_dataset_v1.zip", files), landing)
    assert len(written) == 127
    assert {rel: (landing / rel).read_bytes() for rel in written} == files
