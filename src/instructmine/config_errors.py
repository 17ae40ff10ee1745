"""Settings errors as one line: which file, which key, what is wrong, and the closest valid key.

Every config (YAML file, ``--set``, command-line options) is a pydantic model with
``extra="forbid"``; its ``ValidationError`` lists each bad key with pydantic's message. This
module renders that list as one line and, for a key that is not a setting or a value that is not
one of the allowed ones, names the closest valid one ("did you mean ..."), whichever config
raised it: the model is found from the error's title and the valid keys from its fields.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

_QUOTED = re.compile(r"'([^']*)'")
_DUMP = re.compile(r"\s*\d+ validation errors? for ")


class SettingError(ValueError):
    """An option value or a config setting is wrong (the CLI's exit status 2)."""


def find_validation_error(err: BaseException | None) -> Any | None:
    """The pydantic ``ValidationError`` that ``err`` is or was raised from (``__cause__`` or
    ``__context__``, also under ``raise ... from None``), or None."""
    from pydantic import ValidationError

    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, ValidationError):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def describe_validation(err: Any, source: object = None, options: bool = False) -> str:
    """One line for a pydantic ``ValidationError``: ``SOURCE: key: message (did you mean
    X?); key2: ...``. ``source`` names the file (or option) the settings came from; with
    ``options`` the keys are shown as the command-line options they came from (``--max-x``)."""
    models = _models_named(err.title)
    parts = []
    for e in err.errors(include_url=False):
        loc = tuple(e.get("loc", ()))
        where = ".".join(str(p) for p in loc) or "(top level)"
        if options and loc:
            where = "--" + str(loc[0]).replace("_", "-")
        # two config classes may share a name (rule's and select's CompareConfig): the first
        # whose fields give a hint
        hint = next((h for m in models if (h := _hint(m, loc, e))), "")
        parts.append(f"{where}: {e.get('msg', '')}{hint}")
    text = "; ".join(parts)
    return f"{source}: {text}" if source else text


def describe_wrapped(err: BaseException) -> str | None:
    """One line for an error raised from a ``ValidationError`` by a config loader (``PATH:
    invalid ... config: <pydantic dump>``): the loader's own words, then the keys. None when
    ``err`` did not come from a ``ValidationError``."""
    ve = find_validation_error(err)
    if ve is None:
        return None
    if ve is err:
        return describe_validation(ve)
    message = str(err)
    dump = _DUMP.search(message)
    if dump:
        head = message[: dump.start()].rstrip()
    else:
        head = message.split(": ", 1)[0] + ":" if ": " in message else message
    return f"{head} {describe_validation(ve)}".strip()


def closest(word: object, choices: typing.Iterable[object]) -> str:
    """`` (did you mean X?)`` for the closest of ``choices`` to ``word``, or an empty string."""
    names = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word), names, n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def _hint(model: Any, loc: tuple, error: dict) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden" and loc:
        fields = _fields_at(model, loc[:-1])
        return closest(loc[-1], fields) if fields else ""
    if kind in ("literal_error", "enum") and isinstance(error.get("input"), str):
        expected = _QUOTED.findall(str((error.get("ctx") or {}).get("expected", "")))
        return closest(error["input"], expected) if expected else ""
    return ""


def _models_named(title: str) -> list[Any]:
    """Every loaded pydantic model class called ``title`` (a ``ValidationError`` names its
    model by class name only)."""
    from pydantic import BaseModel

    found, stack = [], list(BaseModel.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls.__name__ == title and cls not in found:
            found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def _fields_at(model: Any, loc: tuple) -> list[str] | None:
    """The setting names valid at ``loc`` inside ``model`` (None when it cannot be told)."""
    node: Any = model
    for part in loc:
        node = _unwrap(node, part)
        if node is None:
            return None
    node = _model_of(node)
    if node is None:
        return None
    names = []
    for name, field in node.model_fields.items():
        names.append(field.alias or name)
    return names


def _model_of(tp: Any) -> Any | None:
    from pydantic import BaseModel

    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    for arg in _alternatives(tp):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _alternatives(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _alternatives(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out = []
        for a in typing.get_args(tp):
            out.extend(_alternatives(a))
        return out
    return [tp]


def _unwrap(tp: Any, part: object) -> Any | None:
    """The type one ``loc`` step below ``tp`` (a field, a list item, a dict value)."""
    model = _model_of(tp)
    if model is not None and isinstance(part, str) and part in model.model_fields:
        return model.model_fields[part].annotation
    for alt in _alternatives(tp):
        origin = typing.get_origin(alt)
        args = typing.get_args(alt)
        if origin in (list, tuple, set, frozenset) and isinstance(part, int) and args:
            return args[0]
        if origin is dict and len(args) == 2:
            return args[1]
    return None


def validate_options(model: Any, **options: Any) -> Any:
    """``model(**options)`` for settings given as command-line options; a wrong value is a
    :class:`SettingError` naming the option (``--n-boot``) and the closest valid value."""
    from pydantic import ValidationError

    try:
        return model(**options)
    except ValidationError as e:
        raise SettingError(describe_validation(e, options=True)) from e
