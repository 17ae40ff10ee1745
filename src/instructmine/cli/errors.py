"""The one error path: every error a verb meets becomes one line and an exit status.

The statuses are the table in docs/robustness.md (the bad-invocation tests read it from there):
0 done, 1 bad input or a failed command, 2 a wrong option or setting, 3 partial input (ingest),
130 interrupted. Typer's own argument errors (an unknown option, a missing argument, a bad
value) become the same one line instead of a boxed panel. Verbs raise; :class:`OneLineErrors`,
the application's command class, prints.
"""

from __future__ import annotations

import sys
from typing import Any

from typer.core import TyperGroup

EXIT_FAILED = 1
EXIT_SETTINGS = 2
EXIT_PARTIAL = 3
EXIT_INTERRUPTED = 130


def describe(err: BaseException) -> str:
    """One line for ``err``: a settings error names the file, key and the closest valid key; a
    file-system error its file; anything else its message."""
    from instructmine.config_errors import describe_wrapped

    wrapped = describe_wrapped(err)
    if wrapped is not None:
        return wrapped
    if _yaml_error(err):
        return _yaml_line(err)
    if isinstance(err, KeyError) and err.args:  # str(KeyError) quotes the message
        return str(err.args[0])
    from instructmine.io.oserrors import as_os_error
    from instructmine.io.oserrors import describe as describe_fault

    fault = as_os_error(err)  # a full disk, a read-only folder, ... : the file and the fix
    if fault is not None:
        return describe_fault(fault)
    return str(err) or type(err).__name__


def exit_code(err: BaseException) -> int:
    """The status of ``err`` in the docs/robustness.md table: 2 for a wrong option or setting
    (a value pydantic rejected, a ``--set`` that does not parse, an unknown indicator, a
    config file that is not valid YAML), else 1."""
    from instructmine.config_errors import SettingError, find_validation_error
    from instructmine.overrides import OverrideError

    if isinstance(err, SettingError | OverrideError) or find_validation_error(err) is not None:
        return EXIT_SETTINGS
    if type(err).__name__ == "UnknownIndicatorError" or _yaml_error(err):
        return EXIT_SETTINGS
    return EXIT_FAILED


def _yaml_error(err: BaseException) -> bool:
    yaml = sys.modules.get("yaml")
    cause = err.__cause__ or err.__context__
    return yaml is not None and isinstance(cause, yaml.YAMLError)


def _yaml_line(err: BaseException) -> str:
    """``FILE: not valid YAML (line L, column C): problem`` for a loader's error from YAML."""
    cause = err.__cause__ or err.__context__
    mark = getattr(cause, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    problem = getattr(cause, "problem", None) or "syntax error"
    head = str(err).split(": ", 1)[0]
    return f"{head}: not valid YAML{where}: {problem}"


def usage_line(err: Any) -> str:
    """A click usage error (unknown option, missing argument, invalid value) as one line,
    with the help command to read."""
    ctx = getattr(err, "ctx", None)
    where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    return f"{err.format_message()}{where}"


class OneLineErrors(TyperGroup):
    """The root command: runs a verb and turns every error it raises into one line on stderr
    (:func:`instructmine.cli.output.fail`) and the status the robustness table gives."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        import typer
        from typer._click import echo, exceptions  # typer's own copy of click

        from instructmine.cli.output import fail

        try:
            code = super().main(
                args=args,
                prog_name=prog_name or "instructmine",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except exceptions.NoArgsIsHelpError as e:
            echo(e.ctx.get_help())  # a bare group: its help, and the usage status
            code = e.exit_code
        except exceptions.ClickException as e:
            fail(usage_line(e), e.exit_code)
            code = e.exit_code
        except typer.Abort:  # EOF on a prompt: typer turns Ctrl-C into Exit(130)
            code = EXIT_INTERRUPTED
        except (ValueError, OSError, RuntimeError, KeyError) as e:
            code = fail(e, exit_code(e)).exit_code
        code = code if isinstance(code, int) else 0
        if not standalone_mode:
            return code
        sys.exit(code)
