"""Format adapters: one raw record -> canonical conversations (lists of {role, content}).

=================  ==========================================================================
format             record shape
=================  ==========================================================================
alpaca             ``instruction``, ``output``, optional ``input``, ``system`` and ``history``
                   (``[[user, assistant], ...]`` earlier turns, as in LLaMA-Factory)
dolly              ``instruction``, ``response``, optional ``context`` (or ``input``)
sharegpt           ``conversations``: ``[{from, value}]`` with from human/gpt/system (also
                   user/assistant, and ``role``/``content`` keys); optional ``system``
messages           ``messages``: ``[{role, content}]`` (OpenAI / TRL); content may be a list of
                   ``{"type": "text", "text": ...}`` parts
prompt_completion  ``inputs``/``targets`` (P3/T0) or ``prompt``/``completion``; a trailing
                   ``<|endoftext|>`` on the completion (GPT-3 fine-tune files) is removed
self_instruct      ``instruction`` + ``instances`` ``[{input, output}]``: one example per instance
mt_bench           ``question_id``, ``turns`` (user turns) and the answers from ``reference``
                   or from a FastChat reference-answer file; a question without answers is
                   rejected (there is no assistant turn to learn from)
=================  ==========================================================================

Single-turn records become ``[user: instruction (+ "\\n\\n" + input), assistant: output]``.
Fields ``category`` and ``source`` are read by the ingest loop for every format, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from instructmine.io.errors import IngestError, RecordError
from instructmine.schema import Message

Conversation = list[Message]
Adapter = Callable[[dict[str, Any]], list[Conversation]]

FORMATS = (
    "alpaca",
    "dolly",
    "sharegpt",
    "messages",
    "prompt_completion",
    "self_instruct",
    "mt_bench",
)
ALIASES = {"openai": "messages", "p3": "prompt_completion", "t0": "prompt_completion"}
# Fields each format consumes; everything else goes to ``meta`` when extra fields are kept.
FIELDS = {
    "alpaca": ("instruction", "input", "output", "system", "history"),
    "dolly": ("instruction", "context", "input", "response"),
    "sharegpt": ("conversations", "system"),
    "messages": ("messages",),
    "prompt_completion": ("inputs", "targets", "prompt", "completion"),
    "self_instruct": ("instruction", "instances"),
    "mt_bench": ("turns", "reference"),
}
SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "system": "system",
}
MESSAGE_ROLES = {"system": "system", "user": "user", "assistant": "assistant"}
EOT = "<|endoftext|>"


def canonical_format(name: str) -> str:
    """Resolve a format name or alias; raise ``ValueError`` listing the valid ones."""
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        raise ValueError(f"unknown format {name!r}; choose one of {', '.join(FORMATS)}")
    return key


def detect(record: Any) -> str | None:
    """Guess the format from one record's keys; ``None`` when nothing matches."""
    if not isinstance(record, dict):
        return None
    keys = record.keys()
    if "messages" in keys:
        return "messages"
    if "conversations" in keys:
        return "sharegpt"
    if "instruction" in keys and "instances" in keys:
        return "self_instruct"
    if "turns" in keys and "question_id" in keys:
        return "mt_bench"
    if "instruction" in keys and "output" in keys:
        return "alpaca"
    if "instruction" in keys and "response" in keys:
        return "dolly"
    if ("inputs" in keys and "targets" in keys) or ("prompt" in keys and "completion" in keys):
        return "prompt_completion"
    return None


def _text(rec: dict, key: str, optional: bool = False) -> str:
    value = rec.get(key)
    if value is None:
        if optional:
            return ""
        raise RecordError(f"missing field '{key}'" + (" (null)" if key in rec else ""))
    if not isinstance(value, str):
        raise RecordError(f"field '{key}' must be a string, got {type(value).__name__}")
    return value


def _single(instruction: str, inp: str, output: str) -> Conversation:
    user = f"{instruction}\n\n{inp}" if inp.strip() and instruction.strip() else instruction or inp
    return [{"role": "user", "content": user}, {"role": "assistant", "content": output}]


def _alpaca(rec: dict) -> list[Conversation]:
    instruction, output = _text(rec, "instruction"), _text(rec, "output")
    inp, system = _text(rec, "input", True), _text(rec, "system", True)
    head: Conversation = [{"role": "system", "content": system}] if system.strip() else []
    history = rec.get("history") or []
    if not isinstance(history, list):
        raise RecordError(
            "field 'history' must be a list of [user, assistant] pairs, "
            f"got {type(history).__name__}"
        )
    for i, pair in enumerate(history):
        if not (
            isinstance(pair, list | tuple)
            and len(pair) == 2
            and all(isinstance(t, str) for t in pair)
        ):
            raise RecordError(f"history[{i}] must be a [user, assistant] pair of strings")
        head += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
    return [head + _single(instruction, inp, output)]


def _dolly(rec: dict) -> list[Conversation]:
    context = _text(rec, "context", True) or _text(rec, "input", True)
    return [_single(_text(rec, "instruction"), context, _text(rec, "response"))]


def _turn_list(rec: dict, key: str) -> list:
    turns = rec.get(key)
    if turns is None:
        raise RecordError(f"missing field '{key}'")
    if not isinstance(turns, list):
        raise RecordError(f"field '{key}' must be a list of turns, got {type(turns).__name__}")
    return turns


def _sharegpt(rec: dict) -> list[Conversation]:
    conv: Conversation = []
    system = _text(rec, "system", True)
    if system.strip():
        conv.append({"role": "system", "content": system})
    for i, turn in enumerate(_turn_list(rec, "conversations")):
        if not isinstance(turn, dict):
            raise RecordError(f"conversations[{i}] must be an object, got {type(turn).__name__}")
        who = turn.get("from", turn.get("role"))
        value = turn.get("value", turn.get("content"))
        role = SHAREGPT_ROLES.get(who) if isinstance(who, str) else None
        if role is None:
            raise RecordError(
                f"unknown role {who!r} in conversations[{i}] (expected one of "
                f"{', '.join(sorted(SHAREGPT_ROLES))})"
            )
        if not isinstance(value, str):
            raise RecordError(
                f"conversations[{i}].value must be a string, got {type(value).__name__}"
            )
        conv.append({"role": role, "content": value})
    return [conv]


def _content(value: Any, i: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # OpenAI content parts
        parts = []
        for part in value:
            if not (
                isinstance(part, dict)
                and part.get("type") == "text"
                and isinstance(part.get("text"), str)
            ):
                raise RecordError(
                    f"messages[{i}].content has a non-text part; only text is supported"
                )
            parts.append(part["text"])
        return "".join(parts)
    raise RecordError(f"messages[{i}].content must be a string, got {type(value).__name__}")


def _messages(rec: dict) -> list[Conversation]:
    conv: Conversation = []
    for i, turn in enumerate(_turn_list(rec, "messages")):
        if not isinstance(turn, dict):
            raise RecordError(f"messages[{i}] must be an object, got {type(turn).__name__}")
        who = turn.get("role")
        role = MESSAGE_ROLES.get(who) if isinstance(who, str) else None
        if role is None:
            raise RecordError(
                f"unknown role {who!r} in messages[{i}] (expected system, user or assistant)"
            )
        conv.append({"role": role, "content": _content(turn.get("content"), i)})
    return [conv]


def _prompt_completion(rec: dict) -> list[Conversation]:
    if "inputs" in rec or "targets" in rec:
        prompt, completion = _text(rec, "inputs"), _text(rec, "targets")
    else:
        prompt, completion = _text(rec, "prompt"), _text(rec, "completion")
    completion = completion.removesuffix(EOT)
    return [[{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]]


def _self_instruct(rec: dict) -> list[Conversation]:
    instruction = _text(rec, "instruction")
    instances = _turn_list(rec, "instances")
    if not instances:
        raise RecordError("field 'instances' is empty: no output to learn from")
    convs = []
    for i, inst in enumerate(instances):
        if not isinstance(inst, dict):
            raise RecordError(f"instances[{i}] must be an object, got {type(inst).__name__}")
        try:
            convs.append(_single(instruction, _text(inst, "input", True), _text(inst, "output")))
        except RecordError as e:
            raise RecordError(f"instances[{i}]: {e}") from None
    return convs


def _mt_bench(references: dict[Any, list[str]]) -> Adapter:
    def adapt(rec: dict) -> list[Conversation]:
        turns = _turn_list(rec, "turns")
        qid = rec.get("question_id")
        answers = references.get(qid) or rec.get("reference")
        if not answers:
            raise RecordError(
                f"MT-Bench question {qid} has no answers (no 'reference' field and none in the "
                "reference-answer file); nothing for the assistant turns"
            )
        if not isinstance(answers, list) or len(answers) != len(turns):
            raise RecordError(f"question {qid}: {len(turns)} turns but answers are {answers!r:.80}")
        conv: Conversation = []
        for i, (q, a) in enumerate(zip(turns, answers, strict=True)):
            if not isinstance(q, str) or not isinstance(a, str):
                raise RecordError(f"question {qid}: turn {i} and its answer must be strings")
            conv += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        return [conv]

    return adapt


def load_references(path: Path) -> dict[Any, list[str]]:
    """Read a FastChat answer file (``question_id``, ``choices[0].turns``) into a dict."""
    import orjson

    refs: dict[Any, list[str]] = {}
    lineno = 0
    try:
        with open(path, "rb") as f:
            for line in f:
                lineno += 1
                if line.strip():
                    rec = orjson.loads(line)
                    refs[rec["question_id"]] = rec["choices"][0]["turns"]
    except (OSError, KeyError, IndexError, TypeError, orjson.JSONDecodeError) as e:
        where = f"{path}:{lineno}" if lineno else str(path)
        raise IngestError(
            f"{where}: not a FastChat reference-answer file (question_id, choices[0].turns): {e}"
        ) from e
    return refs


def make_adapter(fmt: str, references: dict[Any, list[str]] | None = None) -> Adapter:
    """Return the adapter function of a (canonical) format name."""
    fmt = canonical_format(fmt)
    if fmt == "mt_bench":
        return _mt_bench(references or {})
    return {
        "alpaca": _alpaca,
        "dolly": _dolly,
        "sharegpt": _sharegpt,
        "messages": _messages,
        "prompt_completion": _prompt_completion,
        "self_instruct": _self_instruct,
    }[fmt]


TURN_KEYS = {"sharegpt": "conversations", "messages": "messages"}  # formats whose turns
# come from the user's data (the other formats build alternating turns themselves)
TURN_MODES = ("reject", "repair")


def check_turns(
    conv: Conversation, key: str, n_raw: int, repair: bool = False
) -> tuple[Conversation, int]:
    """Check that a conversation's turns alternate user / assistant after any system turns.

    Empty turns, a first turn by the assistant and two turns in a row by the same role raise
    :class:`RecordError` naming the turn as ``KEY[i]`` (``n_raw`` is the length of the
    record's own turn list; system turns the adapter added in front are not counted). With
    ``repair`` they are fixed instead (empty and leading assistant turns dropped, same-role
    runs merged with a blank line) and the number of fixes is returned beside the result.
    """
    offset = len(conv) - n_raw
    out: Conversation = []
    last = -1  # position in ``out`` of the last user / assistant turn
    fixes = 0
    for i, m in enumerate(conv):
        where = f"{key}[{i - offset}]" if i >= offset else "system"
        if m["role"] == "system":
            out.append(m)
            continue
        problem = None
        if not m["content"].strip():
            problem = f"{where} is an empty {m['role']} turn"
        elif last < 0 and m["role"] == "assistant":
            problem = f"the conversation starts with an assistant turn ({where})"
        elif last >= 0 and out[last]["role"] == m["role"]:
            problem = f"two {m['role']} turns in a row (the second is {where})"
        if problem is None:
            out.append(m)
            last = len(out) - 1
            continue
        if not repair:
            raise RecordError(
                f"{problem}: turns must alternate user/assistant; pass --turns repair to merge "
                "or drop such turns"
            )
        fixes += 1
        if m["content"].strip() and last >= 0:  # same role twice: merge into the first
            prev = out[last]
            out[last] = {"role": prev["role"], "content": f"{prev['content']}\n\n{m['content']}"}
    return out, fixes


def validate(conv: Conversation, max_chars: int) -> None:
    """Check one canonical conversation; raise :class:`RecordError` naming the problem."""
    if not conv:
        raise RecordError("empty conversation")
    size = 0
    has_user = False
    for i, m in enumerate(conv):
        content = m["content"]
        size += len(content)
        if m["role"] != "system" and not content.strip():
            what = "response" if i == len(conv) - 1 else f"{m['role']} turn {i}"
            raise RecordError(f"empty {what}")
        has_user = has_user or m["role"] == "user"
    if conv[-1]["role"] != "assistant":
        if not any(m["role"] == "assistant" for m in conv):
            raise RecordError("no assistant turn: nothing to learn from")
        raise RecordError(f"the conversation ends with a {conv[-1]['role']} turn, not an answer")
    if not has_user:
        raise RecordError("no user turn")
    if size > max_chars:
        raise RecordError(
            f"record is {size / 1e6:.1f} M characters, above the {max_chars / 1e6:g} MB limit "
            "(raise --max-record-mb to accept it)"
        )
