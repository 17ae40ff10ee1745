"""Command-line interface: one module per verb; commands only parse and call library code.

Verb modules import only typer at module level, so ``instructmine --help`` stays instant.
"""

import importlib
import os
import sys

try:  # a Ctrl-C while the verbs load: one line, not a traceback
    from instructmine.cli.app import app
except KeyboardInterrupt:
    sys.stderr.write("interrupted: nothing was done\n")
    raise SystemExit(130) from None

# With default OpenMP spinning, torch slows 4-7x when another process shares the cores
# (measured here: docs/evaluation.md); a user setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Each module registers its command(s) on ``app`` when imported.
VERBS = (
    "demo",
    "ingest",
    "inspect",
    "export",
    "dedup",
    "decontaminate",
    "score",
    "indicators",
    "eval",
    "train",
    "select",
    "select_compare",
    "search_size",
    "mix",
    "experiments",
    "rule",
    "compare",
    "scorer",
)

try:
    for _verb in VERBS:
        importlib.import_module(f"instructmine.cli.{_verb}")
except KeyboardInterrupt:
    sys.stderr.write("interrupted: nothing was done\n")
    raise SystemExit(130) from None


def main() -> None:
    """Entry point of the ``instructmine`` console script."""
    from instructmine.cli.output import unwrap_when_piped

    unwrap_when_piped()
    try:
        app()
    except SystemExit as e:
        from instructmine.cli.interrupt import UNREPORTED, unreported_interrupt

        if unreported_interrupt(e.code):  # never a silent 130
            from instructmine.cli.output import fail

            fail(UNREPORTED, 130, label="interrupted")
        # the exit status is decided: a Ctrl-C while the interpreter shuts down (joining
        # threads, freeing models) must not turn a finished command into a silent failure
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise
    except KeyboardInterrupt:  # before typer took over (parsing the command line)
        sys.stderr.write("interrupted: nothing was done\n")
        raise SystemExit(130) from None
    except Exception as e:  # a file-system fault no verb caught: one line, never a traceback
        from instructmine.cli.output import fail
        from instructmine.io.oserrors import as_os_error, describe

        fault = as_os_error(e)
        if fault is None:
            raise
        raise SystemExit(fail(describe(fault)).exit_code) from None
