"""``KEY=VALUE`` overrides: the one parser every command uses (``--set``, ``--param``, ``-p``).

Keys are dotted paths into a nested mapping (``lora.r=8``, ``perplexity.batch_size=4``);
values are read as YAML scalars or flow collections (``1e-4``, ``true``, ``null``,
``[q_proj, v_proj]``, ``{a: 1}``), with two fixes for what users mean on a command line:
``1e-4`` is a number (YAML 1.1 reads it as text) and ``yes``/``no``/``on``/``off`` stay text
(only ``true``/``false`` are booleans).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_TEXT_WORDS = {"yes", "no", "on", "off", "y", "n"}


class OverrideError(ValueError):
    """An override is not ``dotted.key=value``, or clashes with another one."""


def parse_value(text: str) -> Any:
    """Parse one override value (see the module docstring)."""
    import yaml

    if text == "" or text.strip().lower() in _TEXT_WORDS:
        return text
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:
            return float(value) if any(c in value for c in ".eE") else value
        except ValueError:
            return value
    return value


def apply_override(
    data: dict[str, Any], assignment: str, option: str = "--set", min_depth: int = 1
) -> None:
    """Apply one ``dotted.key=value`` to the nested dict ``data`` in place.

    ``min_depth`` is the number of key parts the option needs (2 for ``INDICATOR.PARAM``).
    """
    key, sep, raw = assignment.partition("=")
    parts = [p.strip() for p in key.split(".")]
    if not sep or not key.strip() or any(not p for p in parts) or len(parts) < min_depth:
        example = "lora.r=8" if min_depth < 2 else "perplexity.batch_size=4"
        shape = "key=value" if min_depth < 2 else "name.key=value"
        raise OverrideError(f"{option} {assignment!r}: write {shape}, e.g. {option} {example}")
    node = data
    for i, p in enumerate(parts[:-1]):
        child = node.setdefault(p, {})
        if not isinstance(child, dict):
            raise OverrideError(
                f"{option} {assignment!r}: {'.'.join(parts[: i + 1])} is a value, not a section"
            )
        node = child
    node[parts[-1]] = parse_value(raw)


def parse_overrides(
    assignments: Iterable[str],
    option: str = "--set",
    min_depth: int = 1,
    base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Apply every assignment in order to a copy of ``base`` (later ones win)."""
    import copy

    data: dict[str, Any] = copy.deepcopy(dict(base or {}))
    for assignment in assignments:
        apply_override(data, assignment, option, min_depth)
    return data


def with_overrides(config: Any, assignments: Iterable[str] | None, option: str = "--set") -> Any:
    """A copy of the pydantic ``config`` with ``assignments`` applied and validated again (the
    same model class); ``config`` itself when there are none."""
    from pydantic import ValidationError

    from instructmine.config_errors import SettingError, describe_validation

    if not assignments:
        return config
    data = parse_overrides(assignments, option, base=config.model_dump(mode="json"))
    try:
        return type(config).model_validate(data)
    except ValidationError as e:
        raise SettingError(describe_validation(e, option)) from e
