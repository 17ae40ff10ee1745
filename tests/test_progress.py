"""The one progress-bar maker: stderr only, and off when stderr is not a terminal."""

from instructmine.progress import progress_bars


def test_bars_are_off_when_stderr_is_not_a_terminal(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    assert progress_bars().disable  # pytest captures stderr: not a terminal


def test_bars_are_on_for_a_terminal_and_write_to_stderr(monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    bars = progress_bars()
    assert not bars.disable and bars.console.stderr
    assert progress_bars(enabled=False).disable
