"""The typer application object that every verb module registers its command on."""

import typer

app = typer.Typer(
    name="instructmine",
    help="Score, select and mix instruction-tuning data; fine-tune, evaluate and report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
