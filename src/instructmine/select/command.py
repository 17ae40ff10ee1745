"""What ``instructmine select`` does between parsing and printing: the validated selection
settings from the options, and the one-paragraph report."""

from __future__ import annotations

from typing import Any

from instructmine.select.config import SelectConfig


def select_settings(method: str, model: str, descending: bool, quota: list[str] | None,
                    **options: Any) -> SelectConfig:  # fmt: skip
    """The :class:`SelectConfig` of ``select``'s options; a wrong value is a
    :class:`SettingError` naming the option and the closest valid value."""
    from pydantic import ValidationError

    from instructmine.config_errors import SettingError, describe_validation
    from instructmine.select.config import Quota, RdsSettings

    try:
        return SelectConfig(
            method=method,
            rds=RdsSettings(model=model) if method == "rds" else None,
            order="descending" if descending else "ascending",
            quotas=[Quota.parse(q) for q in quota or []],
            **options,
        )
    except ValidationError as e:
        raise SettingError(describe_validation(e, options=True)) from e
    except ValueError as e:  # a quota that does not parse
        raise SettingError(f"--quota: {e}") from e


def render_select(s: Any) -> None:
    """What was selected, by which score, what was skipped, and where it went."""
    from rich.console import Console

    from instructmine.select.run import manifest_path

    skipped = ", ".join(f"{k} {v}" for k, v in s.passed_over.items() if v) or "none"
    Console().print(
        f"selected {s.selected} of {s.ranked} ranked records (method {s.method}) by {s.rule['by']} "
        f"({s.rule['order']}); score reached {s.threshold_reached}; skipped: {skipped}"
        f"{'; unchanged, not re-run' if s.skipped else ''}\n"
        f"pool: {s.out}\nmanifest: {manifest_path(s.out)}",
        highlight=False,
    )


def select_json(s: Any) -> dict[str, Any]:
    """The ``--json`` document: the manifest's summary and whether the stage was skipped."""
    return {**s.to_dict(), "skipped": s.skipped}
