"""Read a settings file (YAML or JSON) as a mapping, with one-line errors naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read_settings(path: Path | str, what: str) -> dict[str, Any]:
    """The mapping in the YAML/JSON file ``path`` (empty for an empty file). A file that is not
    valid YAML or not a mapping is a :class:`~instructmine.config_errors.SettingError` naming
    the file, line and column; a missing file is ``FileNotFoundError`` naming it."""
    import yaml

    from instructmine.config_errors import SettingError

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is not a setting
    except FileNotFoundError:
        raise FileNotFoundError(2, f"no such {what} config file", str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or "syntax error"
        raise SettingError(f"{path}: not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingError(f"{path}: a {what} config is a mapping of settings (key: value)")
    return data
