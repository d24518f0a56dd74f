"""The NaN/Inf check of every step-counted training loop and image optimizer.

``fit``'s :class:`~artlib.training.fit.NaNGuard` words its own (per epoch and batch, naming the backup rather
than a checkpoint) from the logs Keras hands it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from artlib.errors import NonFiniteLossError

__all__ = ["check_finite", "DEFAULT_HINT"]

#: What the message suggests when a loss diverges.
DEFAULT_HINT = "A lower learning rate or gradient clipping often helps."


def check_finite(losses: Mapping[str, float], *, step: int, last_checkpoint: str | None = None,
                 checkpoints: bool = True, hint: str = DEFAULT_HINT) -> None:
    """Raise if any loss is NaN or infinite.

    Args:
        losses: Loss values by name (Python floats or scalars).
        step: The step that produced them (counted from 1).
        last_checkpoint: The last good checkpoint, named in the message.
        checkpoints: Whether the loop saves checkpoints at all; with False (an
            image optimizer, say) the message says nothing about them.
        hint: What to try instead, the message's last sentence.

    Raises:
        NonFiniteLossError: Naming the loss, its value, the step and the checkpoint.

    Example::

        check_finite({"loss": float(loss)}, step=12, last_checkpoint="runs/ae/checkpoints/ckpt-10")
        # NonFiniteLossError: loss became nan at step 12. The last good checkpoint, ... is kept; ...
    """
    for name, value in losses.items():
        value = float(value)
        if math.isfinite(value):
            continue
        kept = ""
        if checkpoints:
            kept = (f" The last good checkpoint, {last_checkpoint}, is kept; training resumes from it."
                    if last_checkpoint else " No checkpoint had been saved yet.")
        raise NonFiniteLossError(f"{name} became {value} at step {step}.{kept} {hint}")
