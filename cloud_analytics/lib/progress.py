"""Progress bars for long work (generation at large scales, replay, the audit, benchmarks),
drawn on a terminal only.

A bar is a tqdm bar on **stderr**, and only when stderr is a terminal: in CI, in a log file, in
a pipe or under pytest's capture its carriage-return redraws would only add noise, so there it
draws nothing (tqdm's ``disable=None``) while the iterable is still iterated in full. A bar
never writes to stdout, so figures and reports printed there stay clean. The environment variable
``CLOUD_ANALYTICS_PROGRESS`` overrides the terminal test: ``off`` turns every bar off, even on
a terminal; ``on`` draws them even when stderr is not a terminal (a demo through a pipe);
unset, empty or ``auto``: on a terminal only.

While a bar is live, print messages with ``write`` (or inside ``paused()`` for a callable
that prints): the bar is cleared first and drawn again below the message, instead of the
message landing at the end of the bar's line.

Standard library and tqdm only: no Dagster, no Spark (``lib`` is the bottom layer).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from tqdm import tqdm

ENV = "CLOUD_ANALYTICS_PROGRESS"
_OFF = {"off", "0", "false", "no"}
_ON = {"on", "1", "true", "yes"}


def _disable() -> bool | None:
    """tqdm's ``disable``: True (off), False (on) or None (on only if the stream is a terminal)."""
    mode = os.environ.get(ENV, "").strip().lower()
    if mode in _OFF:
        return True
    if mode in _ON:
        return False
    return None


def _shape(stream: IO[str]) -> dict[str, Any]:
    """tqdm follows the terminal's size as it changes. A pseudo-terminal that was never given a
    size (``script -qc ... /dev/null``, a bare ``os.openpty()``) reports 0 x 0, which tqdm takes
    as no row left for any bar: give it a fixed 80 x 24 instead."""
    try:
        columns, lines = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):  # not a real terminal (a pipe, a StringIO)
        return {"dynamic_ncols": True}
    return {"dynamic_ncols": True} if columns and lines else {"ncols": columns or 80, "nrows": lines or 24}


def progress(iterable: Iterable | None = None, *, total: float | None = None, desc: str, unit: str = "it",
             leave: bool = False, file: IO[str] | None = None, **options: Any) -> tqdm:
    """A tqdm bar on ``file`` (default: stderr at call time), drawn only on a terminal (see the
    module doc). Iterate it like ``iterable``, or call ``update(n)`` on it (``total`` then says
    how many to expect); use it as a context manager to close it. ``leave=False``: the bar is
    erased when done, leaving the terminal to the command's own output. ``options`` go to tqdm
    (e.g. ``unit_scale=True``)."""
    stream = sys.stderr if file is None else file
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, file=stream, disable=_disable(),
                **{**_shape(stream), **options})


def write(message: str, file: IO[str] | None = None) -> None:
    """Print ``message`` (default: to stdout) without breaking a live bar."""
    tqdm.write(message, file=file)


@contextmanager
def paused(file: IO[str] | None = None) -> Iterator[None]:
    """Live bars are cleared for the block (which prints to ``file``, default stdout), then drawn again."""
    with tqdm.external_write_mode(file=file):
        yield
