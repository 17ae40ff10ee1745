"""A rich progress bar for training: steps, loss and tokens per second."""

from __future__ import annotations

import time
from typing import Any


def make_progress_callback() -> Any:
    """A :class:`transformers.TrainerCallback` drawing a rich progress bar with loss and tok/s.

    Tokens per second counts the real (non-padding) input tokens the trainer has consumed. The
    bar is on stderr; when stderr is not a terminal there is no bar, and a plain line every
    ~10% of the steps goes to stderr instead (for logs).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from transformers import TrainerCallback

    from instructmine.progress import progress_bars

    class RichProgress(TrainerCallback):
        def __init__(self) -> None:
            self.progress: Progress | None = None
            self.task = None
            self.start = 0.0

        def on_train_begin(self, args, state, control, **kwargs):
            self.progress = progress_bars(
                TextColumn("[bold]train"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TextColumn("{task.fields[tps]} tok/s"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            )
            self.progress.start()
            self.task = self.progress.add_task("train", total=state.max_steps, loss="-", tps="-")
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            if self.progress is not None:
                self.progress.update(self.task, completed=state.global_step)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if self.progress is None or not logs or "loss" not in logs:
                return
            fields: dict[str, str] = {"loss": f"{logs['loss']:.4f}"}
            elapsed = time.perf_counter() - self.start
            if logs.get("num_tokens") and elapsed > 0:
                fields["tps"] = f"{logs['num_tokens'] / elapsed:.0f}"
            self.progress.update(self.task, **fields)
            if not self.progress.console.is_terminal:  # logs / pipes: a line every ~10%
                every = max(1, state.max_steps // 10)
                if state.global_step % every == 0 or state.global_step == state.max_steps:
                    self.progress.console.print(
                        f"step {state.global_step}/{state.max_steps} loss {fields['loss']} "
                        f"{fields.get('tps', '-')} tok/s"
                    )

        def on_train_end(self, args, state, control, **kwargs):
            if self.progress is not None:
                self.progress.update(self.task, completed=state.global_step)
                self.progress.stop()
                self.progress = None

    return RichProgress()
