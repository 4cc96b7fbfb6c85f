"""A live feed for demos and the freshness benchmark: stage event files, then replay them.

``stage_feed`` turns the landed event files into a *future* feed: every event moved forward
by ``shift_days`` (default 60, the length of the dataset's range) with a new event id
(``<id>_r<shift>``), so replaying it adds data instead of re-delivering what bronze already
holds. ``order="time"`` re-slices the events by event time (file k holds the k-th slice of
the range), as a producer emitting files as time passes would; ``order="original"`` keeps
the landed files' mix, where every file spans the whole range. Lines that are not JSON are
staged unchanged (a replay must deliver faults too).

``replay`` moves staged files into the landing folder at a fixed rate, each atomically
(copy to a hidden temp name in the landing folder, then rename), and removes them from
staging only once they have landed.

Both show a progress bar on a terminal (``lib.progress``: stderr only, nothing in CI or logs).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from cloud_analytics.lib.progress import paused, progress

STAGE_PREFIX = "events_live"


class ReplayError(RuntimeError):
    """Nothing to stage or replay; the message says where it looked."""


@dataclass(frozen=True)
class StageResult:
    files: int
    events: int
    passthrough_lines: int
    first_event: str
    last_event: str


def _shift(event: dict, days: int) -> tuple[datetime, dict]:
    ts = datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00")) + timedelta(days=days)
    ts = ts.astimezone(timezone.utc)
    shifted = dict(event, timestamp=ts.strftime("%Y-%m-%dT%H:%M:%SZ"), event_id=f"{event['event_id']}_r{days}")
    return ts, shifted


def stage_feed(source: Path, staging: Path, shift_days: int = 60, files: int = 120, order: str = "time") -> StageResult:
    """Write ``files`` staged event files built from every ``*.jsonl`` in ``source``."""
    inputs = sorted(p for p in Path(source).glob("*.jsonl") if not p.name.startswith((".", "_")))
    if not inputs:
        raise ReplayError(f"no event files to stage in {source}: generate landing data first "
                          "(cloud-analytics landing generate)")
    if order not in ("time", "original"):
        raise ReplayError(f"unknown order {order!r}: use 'time' or 'original'")
    events: list[tuple[datetime, int, str]] = []  # (event time, input file index, line)
    passthrough: list[str] = []
    for index, path in enumerate(progress(inputs, desc="landing stage: read", unit=" files")):
        for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if not raw.strip():
                continue
            try:
                ts, shifted = _shift(json.loads(raw), shift_days)
            except (ValueError, KeyError, TypeError, AttributeError):
                passthrough.append(raw)  # corrupt or without a usable timestamp: staged as is
                continue
            events.append((ts, index, json.dumps(shifted)))
    if order == "time":
        events.sort(key=lambda e: (e[0], e[2]))
        slices = [events[i * len(events) // files:(i + 1) * len(events) // files] for i in range(files)]
    else:
        slices = [[e for e in events if e[1] % files == i] for i in range(files)]
    staging.mkdir(parents=True, exist_ok=True)
    written = 0
    for i, chunk in enumerate(progress(slices, desc="landing stage: write", unit=" files")):
        lines = [line for _ts, _f, line in chunk] + (passthrough if i == 0 else [])
        if not lines:
            continue
        _write_atomic(staging / f"{STAGE_PREFIX}_{shift_days:03d}_{i:04d}.jsonl", "".join(f"{l}\n" for l in lines))
        written += 1
    first, last = (events[0][0], events[-1][0]) if order == "time" else (min(events)[0], max(events)[0])
    return StageResult(written, len(events), len(passthrough), first.isoformat(), last.isoformat())


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def staged_files(staging: Path) -> list[Path]:
    return sorted(p for p in Path(staging).glob("*.jsonl") if not p.name.startswith((".", "_")))


def land_file(staged: Path, landing_events: Path) -> Path:
    """Move one staged file into landing atomically: the sensor never sees half a file."""
    landing_events.mkdir(parents=True, exist_ok=True)
    target = landing_events / staged.name
    if target.exists():
        raise ReplayError(f"{target} already landed: refusing to overwrite a landed file (landing is immutable)")
    tmp = landing_events / f".{staged.name}.tmp"
    shutil.copyfile(staged, tmp)
    os.replace(tmp, target)
    staged.unlink()
    return target


def replay(staging: Path, landing_events: Path, rate_per_min: float, limit: int | None = None,
           on_landed: Callable[[Path, float], None] | None = None, log=print) -> int:
    """Land staged files one at a time, ``rate_per_min`` files per minute; returns files landed."""
    if rate_per_min <= 0:
        raise ReplayError("--rate must be positive (files per minute)")
    todo = staged_files(staging)[:limit] if limit else staged_files(staging)
    if not todo:
        raise ReplayError(f"no staged event files in {staging}: run `cloud-analytics landing stage` first")
    interval = 60.0 / rate_per_min
    started = time.monotonic()
    with progress(total=len(todo), desc="landing replay", unit=" files") as bar:
        for n, path in enumerate(todo):
            delay = started + n * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            target = land_file(path, landing_events)
            landed_at = time.time()
            bar.update()
            with paused():  # ``log`` prints: the bar is cleared, then drawn again below the line
                log(f"[{n + 1}/{len(todo)}] landed {target.name}")
            if on_landed:
                on_landed(target, landed_at)
    return len(todo)
