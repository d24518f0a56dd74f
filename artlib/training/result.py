"""``TrainResult``: what every ``train`` returns (history, final step, time, why it stopped)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TrainResult", "STOP_REASONS"]

#: Why a run stopped: it reached its last step/epoch, its time budget, or its target.
STOP_REASONS = ("done", "max_seconds", "stop_when")


@dataclass(kw_only=True, eq=False)
class TrainResult(Mapping):
    """How one call of a training loop went; also a read-only mapping over its ``history``.

    ``result["loss"]`` is ``result.history["loss"]``, so code that used the
    history dict the loops returned before keeps working. A topic that returns
    more (the trained network, the style image …) subclasses it::

        @dataclass(kw_only=True, eq=False)
        class FastStyleResult(TrainResult):
            network: keras.Model

    Attributes:
        history: This call's values, one entry per step (``train_loop``:
            ``{"step": [...], "<loss>": [...]}``) or per epoch (``fit``:
            ``{"epoch": [...], "loss": [...]}``), counted from 1. The whole run,
            merged across resumed calls, is in ``run_dir/history.json``
            (:meth:`RunDir.read_history`).
        final_step: The step (``fit``: the epoch) the run has reached.
        seconds: Wall time of this call.
        stopped: Why it stopped, one of :data:`STOP_REASONS`.
        run_dir: The run directory (None when the run kept nothing on disk).
    """

    history: dict[str, list[float]]
    final_step: int
    seconds: float
    stopped: str = "done"
    run_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.stopped not in STOP_REASONS:
            raise ValueError(f"stopped must be one of {STOP_REASONS}; got {self.stopped!r}")

    def __getitem__(self, name: str) -> list[float]:
        return self.history[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.history)

    def __len__(self) -> int:
        return len(self.history)

    def __repr__(self) -> str:
        run = f", run_dir={str(self.run_dir)!r}" if self.run_dir is not None else ""
        return (f"TrainResult(final_step={self.final_step}, stopped={self.stopped!r}, "
                f"seconds={self.seconds:.1f}, history keys={list(self.history)}{run})")
