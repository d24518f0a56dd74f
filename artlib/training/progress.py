"""The one progress bar of every training loop (and of any other long job)."""

from __future__ import annotations

from artlib import config  # sets KERAS_BACKEND before Keras is imported

import keras  # noqa: E402

__all__ = ["progress_bar"]


def progress_bar(num_steps: int | None, *, quiet: bool | None = None) -> keras.utils.Progbar:
    """A Keras progress bar that shows the latest value of each loss (not a running mean).

    Args:
        num_steps: The step the bar ends at (None: unknown).
        quiet: Print nothing. Default: quiet under CI (``CI`` set), chatty otherwise.

    Returns:
        A ``keras.utils.Progbar``; call ``bar.update(step, [("loss", 0.3)])``.
    """
    if quiet is None:
        quiet = config.is_ci()
    return keras.utils.Progbar(num_steps, verbose=0 if quiet else 1, stateless_metrics=())
