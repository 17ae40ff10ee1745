"""What ``instructmine score`` does between parsing and printing: indicator parameters from
``--set``, the Ray options, the Ctrl-C line, and the run."""

from __future__ import annotations

from typing import Any


def indicator_params(assignments: list[str]) -> dict[str, dict[str, Any]]:
    """``--set INDICATOR.PARAM=VALUE`` (repeatable) as ``{indicator: {param: value}}``."""
    from instructmine.overrides import parse_overrides

    return parse_overrides(assignments, option="--set", min_depth=2)


def ray_options(
    runner: str,
    address: str,
    actors: int,
    cpus: float,
    gpus: float,
    resources: list[str] | None,
) -> Any:
    """The :class:`RayScoreOptions` of ``--runner ray`` (None for the local runner);
    ``resources`` are ``NAME=AMOUNT`` custom Ray resources per actor."""
    if runner != "ray":
        return None
    from instructmine.config_errors import SettingError
    from instructmine.runners.ray_runner import RayScoreOptions

    custom = {}
    for item in resources or []:
        name, sep, amount = item.partition("=")
        try:
            custom[name] = float(amount)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise SettingError(f"--ray-resource {item!r}: write NAME=AMOUNT, e.g. scorer=1")
    return RayScoreOptions(
        address=address, actors=actors, num_cpus=cpus, num_gpus=gpus, resources=custom
    )


def kept_after_interrupt(out: str) -> str:
    """What an interrupted ``score`` kept, and how to resume."""
    from instructmine.runners.local import cached_chunks
    from instructmine.storage import open_output

    return (
        f"{cached_chunks(out)} finished chunk(s) are kept in {open_output(out) / 'cache'}; "
        "re-run the same command to resume (finished chunks are not scored again)"
    )
