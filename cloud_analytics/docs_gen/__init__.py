"""Documentation generated from the code, so it cannot drift: ``cloud-analytics docs``
writes it, ``cloud-analytics docs --check`` (run by the test suite) fails when it is stale.

``dictionary.py`` renders the data dictionary from the table specs, ``quality.py`` the
data-quality rules, and ``empty_frames.py`` derives the schemas the builders really produce
(for the test that proves the declared types)."""

from __future__ import annotations

from cloud_analytics.config import REPO_ROOT
from cloud_analytics.docs_gen.dictionary import render_data_dictionary
from cloud_analytics.docs_gen.empty_frames import empty_frame_schemas
from cloud_analytics.docs_gen.quality import render_data_quality

DOCS = REPO_ROOT / "docs"
GENERATED = {"data-quality.md": render_data_quality, "data-dictionary.md": render_data_dictionary}


def write_docs(check: bool = False) -> list[str]:
    """Write every generated doc; with ``check``, write nothing and return the stale ones."""
    stale = []
    for name, render in GENERATED.items():
        path = DOCS / name
        text = render()
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(name)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return stale


__all__ = ["DOCS", "GENERATED", "empty_frame_schemas", "render_data_dictionary", "render_data_quality", "write_docs"]
