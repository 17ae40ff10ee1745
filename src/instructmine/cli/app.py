"""The typer application object that every verb module registers its command on."""

import typer

from instructmine.cli.errors import OneLineErrors

app = typer.Typer(
    name="instructmine",
    cls=OneLineErrors,
    help="Score, select and mix instruction-tuning data; fine-tune, evaluate and report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def root(
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        help="Show third-party progress bars, warnings and log messages (hidden by default).",
    ),
) -> None:
    """Score, select and mix instruction-tuning data; fine-tune, evaluate and report."""
    if not verbose:
        from instructmine.cli.quiet import quiet_third_parties

        quiet_third_parties()
