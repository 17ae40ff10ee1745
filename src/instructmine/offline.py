"""One scoped switch that keeps the Hugging Face hub and ``datasets`` offline.

Inside :func:`offline` the environment variables and the live module constants that
``huggingface_hub``, ``transformers`` and ``datasets`` read are set to offline; on exit every
value is restored, so nothing outlives the call that needed it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

ENV_KEYS = ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
_TRUE = {"1", "true", "yes", "on"}
# Constants read at import time: patched when their module is already imported (a module
# imported inside the block reads the environment variables).
_LIVE = (
    ("datasets.config", "HF_DATASETS_OFFLINE"),
    ("datasets.config", "HF_HUB_OFFLINE"),
    ("huggingface_hub.constants", "HF_HUB_OFFLINE"),
)


def offline_requested() -> bool:
    """True when the user set ``HF_HUB_OFFLINE`` or ``HF_DATASETS_OFFLINE``."""
    return any(os.environ.get(k, "").lower() in _TRUE for k in ENV_KEYS[:2])


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """Force the hub and ``datasets`` offline for the duration (env vars and live config)."""
    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    os.environ.update({k: "1" for k in ENV_KEYS})
    patched = []
    for module, attr in _LIVE:
        mod = sys.modules.get(module)
        if mod is not None and hasattr(mod, attr):
            patched.append((mod, attr, getattr(mod, attr)))
            setattr(mod, attr, True)
    try:
        yield
    finally:
        for mod, attr, value in reversed(patched):
            setattr(mod, attr, value)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
