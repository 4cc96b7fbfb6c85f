"""Progress bars: drawn on a terminal, silent elsewhere (CI, logs, pipes, pytest's capture),
forced on or off with CLOUD_ANALYTICS_PROGRESS; the work is iterated in full either way."""

import io
import os
import select

import pytest

from cloud_analytics.lib.progress import ENV, paused, progress, write

pytestmark = pytest.mark.fast


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_without_a_terminal_nothing_is_drawn_and_everything_is_iterated(capsys, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert list(progress(range(1000), desc="silent", unit=" rows")) == list(range(1000))
    with progress(total=3, desc="silent too") as bar:
        bar.update(3)
    out, err = capsys.readouterr()
    assert (out, err) == ("", "")


def test_on_a_terminal_the_bar_is_drawn(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    terminal = FakeTerminal()
    assert sum(progress(range(5), desc="drawn", unit=" files", file=terminal)) == 10
    # The first draw (0/5) is certain; later ones depend on tqdm's refresh interval.
    assert "drawn:" in terminal.getvalue() and "0/5" in terminal.getvalue()


def test_a_terminal_without_a_size_still_shows_the_bar(monkeypatch):
    # A fresh pseudo-terminal reports 0 x 0 (as under `script`), which alone would hide every bar.
    monkeypatch.delenv(ENV, raising=False)
    master, slave = os.openpty()
    try:
        with open(slave, "w", closefd=False) as terminal:
            assert terminal.isatty()
            assert list(progress(range(3), desc="sizeless", file=terminal)) == [0, 1, 2]
        drawn = b""
        while select.select([master], [], [], 0.2)[0]:
            chunk = os.read(master, 65536)
            if not chunk:
                break
            drawn += chunk
        assert b"sizeless:" in drawn
    finally:
        os.close(slave)
        os.close(master)


@pytest.mark.parametrize("value", ["on", "ON", "1"])
def test_on_draws_the_bar_even_without_a_terminal(capsys, monkeypatch, value):
    monkeypatch.setenv(ENV, value)
    assert list(progress(["a", "b", "c"], desc="forced", unit=" files")) == ["a", "b", "c"]
    out, err = capsys.readouterr()
    assert out == ""  # stdout stays clean for figures
    assert "forced:" in err and "0/3" in err


@pytest.mark.parametrize("value", ["off", "OFF", "0"])
def test_off_silences_the_bar_even_on_a_terminal(monkeypatch, value):
    monkeypatch.setenv(ENV, value)
    terminal = FakeTerminal()
    assert list(progress(range(50), desc="quiet", file=terminal)) == list(range(50))
    with progress(total=2, desc="quiet too", file=terminal) as bar:
        bar.update(2)
    assert terminal.getvalue() == ""


def test_messages_go_to_stdout_around_a_live_bar(capsys, monkeypatch):
    monkeypatch.setenv(ENV, "on")
    with progress(total=2, desc="live") as bar:
        bar.update()
        write("figure 1")
        with paused():
            print("figure 2")
        bar.update()
    out, err = capsys.readouterr()
    assert out == "figure 1\nfigure 2\n"
    assert "live" in err
