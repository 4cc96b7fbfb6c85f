"""Deterministic generator of the landing dataset described in ``landing-dataset.md``.

``generate(out_dir, scale, seed)`` writes the seven CSV sources and the JSONL usage-event
stream with the shape, quirks and (at scale 1) every published count of the real
``cloud_provider_challenge_dataset_v1.zip``. Standard library only, besides the progress
bar (``lib.progress``: tqdm on stderr, on a terminal only; the files never depend on it).

Layout (one module per landing source)
--------------------------------------
* ``common``: shared domains, date ranges, per-block counts, exact-count helpers.
* ``orgs``, ``users``, ``resources``, ``billing``, ``support`` (tickets), ``marketing``
  (touches and NPS surveys): one ``*_rows`` function per CSV file.
* ``events``: the usage-event stream (its module docstring explains the event figures).
* ``ids``: unique random-looking ids; ``writing``: file layout and atomic writes.

How the exact figures are reached
---------------------------------
* Nothing the profile counts is left to chance. A quirk is an *exact index set*:
  ``pick(rng, candidates, k)`` draws exactly ``k`` rows among the rows able to carry the
  quirk (only a user of an org that signed up after 2025-05-04 can be created before its
  org; only a user created after 2025-05-14 can have logged in before being created).
  A column with published label counts is a shuffled *deck* holding each label exactly as
  often as published (``deck``).
* Published minima and maxima are pinned on one row each, chosen among rows where the
  pinned value keeps every other rule true; other rows are drawn inside the range.
  Means marked "about" are nudged after drawing (integer steps or one scale factor).

Scale and ids
-------------
Scale ``N`` is ``N`` independent *blocks*, each built exactly like scale 1 from its own
random stream (``Random(f"cloud-analytics/{seed}/{block}")``): every entity count and
quirk count is multiplied by ``N`` while ranges and rates stay. Ids come from a keyed Feistel permutation
of a per-prefix counter, so they look random yet are unique across blocks without keeping
every id in memory. Memory holds one block; CSV rows are appended block by block.

Every file is written to ``.<name>.tmp`` in its own folder, then renamed with ``os.replace``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from cloud_analytics.landing.generator.billing import billing_rows
from cloud_analytics.landing.generator.common import EVENT_DAYS, EVENT_FILES, EVENTS_PER_DAY, ORGS
from cloud_analytics.landing.generator.events import event_files
from cloud_analytics.landing.generator.ids import Ids
from cloud_analytics.landing.generator.marketing import survey_rows, touch_rows
from cloud_analytics.landing.generator.orgs import org_rows
from cloud_analytics.landing.generator.resources import resource_rows
from cloud_analytics.landing.generator.support import ticket_rows
from cloud_analytics.landing.generator.users import user_rows
from cloud_analytics.landing.generator.writing import (
    COLUMNS,
    EVENTS_DIR,
    EXPECTED_FILES,
    CsvSinks,
    write_atomic,
)
from cloud_analytics.lib.progress import progress

__all__ = ["COLUMNS", "EVENTS_DIR", "EXPECTED_FILES", "generate"]


def generate(out_dir: str | os.PathLike, scale: int = 1, seed: int = 42) -> dict[str, int]:
    """Write the landing dataset into ``out_dir``; return row counts per file stem."""
    if not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    out = Path(out_dir)
    (out / EVENTS_DIR).mkdir(parents=True, exist_ok=True)
    ids = Ids(seed)  # one for the whole run: its counters keep ids unique across blocks
    counts = {stem: 0 for stem in COLUMNS}
    counts["usage_events"] = 0
    # Progress in events written (a terminal only): the event files are most of the work.
    with CsvSinks(out) as sinks, progress(total=scale * EVENT_DAYS * EVENTS_PER_DAY, desc="landing generate",
                                          unit=" events", unit_scale=True) as bar:
        for block in range(scale):
            rng = random.Random(f"cloud-analytics/{seed}/{block}")
            tables = _block_tables(rng, ids, block)
            for stem, rows in tables.items():
                sinks.write(stem, rows)
                counts[stem] += len(rows)
            # The events draw from the same ``rng``, after all seven tables.
            files = event_files(rng, ids, tables["resources"])
            for number, lines in enumerate(files, start=block * EVENT_FILES):
                write_atomic(out / EVENTS_DIR / f"events_part_{number:04d}.jsonl", "".join(lines))
                counts["usage_events"] += len(lines)
                bar.update(len(lines))
    return counts


def _block_tables(rng: random.Random, ids: Ids, block: int) -> dict[str, list[list]]:
    """The seven CSV tables of one block, keyed by file stem.

    All sources share the block's ``rng`` and the run's ``ids``, so the order of the calls
    below is part of the output: reordering them changes every byte after the first moved
    call. Python evaluates the dict display in order (and the keys follow ``COLUMNS``)."""
    orgs = org_rows(rng, ids, first_row=block * ORGS)
    return {
        "customers_orgs": orgs,
        "users": user_rows(rng, ids, orgs),
        "resources": resource_rows(rng, ids, orgs),
        "billing_monthly": billing_rows(rng, ids, orgs),
        "support_tickets": ticket_rows(rng, ids, orgs),
        "marketing_touches": touch_rows(rng, ids, orgs),
        "nps_surveys": survey_rows(rng, orgs),
    }
