"""Third-party noise stays out of the user's terminal unless asked for (``instructmine -v``).

By default, before any heavy library is imported: no Hugging Face progress bars (transformers'
"Loading weights", hub downloads, datasets' map/load bars), no tqdm bar of any library
("Converting and de-quantizing GGUF tensors", lm-eval's), transformers and lm-eval log only
errors, FutureWarning / UserWarning / DeprecationWarning raised outside instructmine are not
shown, and pydantic error messages carry no "For further information visit" URL. A variable
the user set in the environment keeps its value; ``-v`` leaves everything as the libraries
set it.
"""

from __future__ import annotations

import logging
import os
import warnings

QUIET_ENV = {
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # also transformers' own bars (read at its import)
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "PYDANTIC_ERRORS_INCLUDE_URL": "0",
    "TQDM_DISABLE": "1",  # every tqdm bar (transformers' GGUF conversion, lm-eval, datasets)
}
QUIET_LOGGERS = ("transformers", "datasets", "huggingface_hub", "lm_eval", "lm-eval", "peft", "trl")
THIRD_PARTY = r"(?!instructmine)"  # a warning's module regex: every module but ours


def quiet_third_parties() -> None:
    """Silence third-party progress bars, warnings and log chatter for this process (and the
    processes it starts, through the environment)."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    for category in (FutureWarning, UserWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=THIRD_PARTY)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
