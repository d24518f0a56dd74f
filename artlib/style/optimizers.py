"""The optimizers of the pixels: the tutorial's Adam, Adam on an image pyramid, SciPy's L-BFGS-B and its helpers."""

from __future__ import annotations

import ctypes
import math
import sys
from collections.abc import Callable
from typing import Any

from artlib import config  # noqa: F401  (first: selects the TensorFlow backend)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import training  # noqa: E402
from artlib.errors import ArtlibError  # noqa: E402
from artlib.checks import positive_float, positive_int  # noqa: E402
from artlib.style.inputs import as_image_batch  # noqa: E402
from artlib.style.objective import Objective  # noqa: E402

#: ``callback(step, terms)``: called after each step (Adam) or evaluation (L-BFGS).
Callback = Callable[[int, dict[str, float]], Any]

#: Most memory L-BFGS-B's workspace may take (bytes); above it the history shrinks (see run_lbfgs).
LBFGS_MEMORY_BUDGET = 260e6
#: What a NaN or infinite term's message suggests (an image optimizer keeps no checkpoint to name).
ADAM_HINT = "A lower learning_rate or style weight often helps."
LBFGS_HINT = "A lower style weight often helps (or the Adam optimizer with a small learning_rate)."


def run_adam(objective: Objective, image: Any, steps: int, *, learning_rate: float = 0.02, beta_1: float = 0.99,
             epsilon: float = 0.1, callback: Callback | None = None) -> tuple[np.ndarray, list[dict]]:
    """The tutorial's optimizer: Adam(0.02, β1 0.99, ε 0.1) on [0, 1] pixels, clipped after each step.

    Args:
        objective: The :class:`~artlib.style.objective.Objective` to lower.
        image: The start, ``H×W×3`` in [0, 1] (usually the content image).
        steps: Adam steps (each one forward and backward pass).
        learning_rate: Adam's step size (> 0).
        beta_1: Adam's momentum decay.
        epsilon: Adam's ε.
        callback: ``callback(step, terms)`` after each step.

    Returns:
        ``(image, history)``: the final ``H×W×3`` image and the terms before each step.

    Raises:
        ArtlibError: ``steps`` below 1 or a learning rate ≤ 0.
        NonFiniteLossError: A term became NaN or infinite.
    """
    steps = positive_int(steps, "steps")
    learning_rate = positive_float(learning_rate, "learning_rate")
    variable = tf.Variable(as_image_batch(image, name="start image"))
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, epsilon=epsilon)

    @tf.function
    def step():
        terms, grad = objective.value_and_grad(tf.convert_to_tensor(variable))
        optimizer.apply([grad], [variable])
        variable.assign(tf.clip_by_value(variable, 0.0, 1.0))
        return terms

    history = _take_steps(step, steps, callback)
    return variable.numpy()[0], history


def _take_steps(step: Callable[[], dict], steps: int, callback: Callback | None,
                before: Callable[[int], None] | None = None) -> list[dict]:
    """Run ``step`` ``steps`` times, each step's terms checked finite, kept and passed to ``callback``.

    ``before(i)``, if given, runs ahead of step ``i`` (a learning-rate schedule). Returns the terms of every step.
    """
    history = []
    for i in range(steps):
        if before is not None:
            before(i)
        terms = {k: float(v) for k, v in step().items()}
        training.check_finite(terms, step=i + 1, checkpoints=False, hint=ADAM_HINT)
        history.append(terms)
        if callback is not None:
            callback(i, terms)
    return history


#: Coarsest level of :func:`run_pyramid_adam`'s pyramid: halvings while the long side stays ≥ this.
PYRAMID_MIN_DIM = 8


def pyramid_levels(size: tuple[int, int], min_dim: int = PYRAMID_MIN_DIM) -> list[tuple[int, int]]:
    """The levels' sizes for an ``(H, W)`` image: itself, then halved while the long side stays ≥ ``min_dim``.

    Raises:
        ArtlibError: ``min_dim`` below 1.
    """
    min_dim = positive_int(min_dim, "min_dim")
    levels = [tuple(size)]
    while max(levels[-1]) // 2 >= min_dim:
        levels.append(tuple(max(1, d // 2) for d in levels[-1]))
    return levels


def run_pyramid_adam(objective: Objective, image: Any, steps: int, *, learning_rate: float = 0.015,
                     final_learning_rate: float = 5e-4, beta_1: float = 0.9, epsilon: float = 0.1,
                     min_dim: int = PYRAMID_MIN_DIM,
                     callback: Callback | None = None) -> tuple[np.ndarray, list[dict]]:
    """Adam on an image pyramid: the picture is the start plus a change at every scale, each learned.

    The image is ``clip(start + Σₖ upsample(Pₖ), 0, 1)`` with ``P₀`` full size, ``P₁`` half, … down
    to a long side of ``min_dim`` (bilinear upsampling), all starting at zero; Adam moves every level at
    once, with a learning rate that falls from ``learning_rate`` to ``final_learning_rate`` along a half cosine.
    One step of a coarse level moves a whole region together, which is what a total-variation
    term asks for: on the TensorFlow tutorial's own objective (where TV is most of the value) 120
    steps reach what the tutorial's 1,000 plain Adam steps reach (``benchmarks/style_benchmark.py``).
    A step costs what a plain Adam step does (one forward and backward pass) plus the resizes.

    Args:
        objective: The :class:`~artlib.style.objective.Objective` to lower.
        image: The start, ``H×W×3`` in [0, 1] (usually the content image).
        steps: Adam steps (each one forward and backward pass); the learning rate's schedule spans them.
        learning_rate: The first step's size (> 0).
        final_learning_rate: The last step's size (> 0, at most ``learning_rate``; a single step takes
            ``learning_rate``).
        beta_1: Adam's momentum decay.
        epsilon: Adam's ε.
        min_dim: The coarsest level's long side (≥ 1).
        callback: ``callback(step, terms)`` after each step.

    Returns:
        ``(image, history)``: the final ``H×W×3`` image and the terms before each step.

    Raises:
        ArtlibError: ``steps`` or ``min_dim`` below 1, a learning rate ≤ 0 or not finite, or a final one above
            the first.
        NonFiniteLossError: A term became NaN or infinite.
    """
    steps = positive_int(steps, "steps")
    min_dim = positive_int(min_dim, "min_dim")
    learning_rate = positive_float(learning_rate, "learning_rate")
    final_learning_rate = positive_float(final_learning_rate, "final_learning_rate")
    if final_learning_rate > learning_rate:
        raise ArtlibError(f"learning rates must satisfy 0 < final_learning_rate ≤ learning_rate; got "
                          f"{final_learning_rate} and {learning_rate}")
    start = as_image_batch(image, name="start image")
    size = tuple(int(d) for d in start.shape[1:3])
    levels = [tf.Variable(tf.zeros((1, h, w, 3))) for h, w in pyramid_levels(size, min_dim)]
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, epsilon=epsilon)

    def compose() -> tf.Tensor:
        return start + tf.add_n([level if level.shape[1:3] == size else tf.image.resize(level, size, "bilinear")
                                 for level in levels])

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            unclipped = compose()
        terms, grad = objective.value_and_grad(tf.clip_by_value(unclipped, 0.0, 1.0))
        # The gradient passes the clip as if it were not there (straight through), so no level stalls
        # where a pixel touches 0 or 1: 45,154 against 41,353 after 120 steps on the tutorial's objective.
        optimizer.apply(tape.gradient(unclipped, levels, output_gradients=grad), levels)
        return terms

    def cosine_schedule(i: int) -> None:
        cosine = 0.5 * (1 + math.cos(math.pi * i / max(1, steps - 1)))
        optimizer.learning_rate = final_learning_rate + (learning_rate - final_learning_rate) * cosine

    history = _take_steps(step, steps, callback, before=cosine_schedule)
    return tf.clip_by_value(compose(), 0.0, 1.0).numpy()[0], history


def lbfgs_history_size(pixels: int, history_size: int | None) -> int:
    """Gradient pairs to keep: ``history_size``, or up to 10 within :data:`LBFGS_MEMORY_BUDGET`.

    SciPy's L-BFGS-B workspace holds about (2m + 5)·n float64 numbers for m pairs and n pixel
    values: at 1024×683 px, m = 10 takes 420 MB; the budget gives m = 5 there (and 10 up to ~500 px).

    Args:
        pixels: Number of values optimized (H·W·3).
        history_size: An explicit choice (≥ 1), or None for the budget's.

    Returns:
        The number of pairs, 3 to 10 unless chosen.

    Raises:
        ArtlibError: An explicit ``history_size`` below 1.
    """
    if history_size is not None:
        return positive_int(history_size, "history_size")
    return int(np.clip((LBFGS_MEMORY_BUDGET / (8 * pixels) - 5) // 2, 3, 10))


def release_free_memory() -> None:
    """Hand freed heap memory back to the system (glibc's ``malloc_trim``; elsewhere nothing).

    TensorFlow frees a VGG19 pass's activations (≈ 2 GB at 1024 px) after every evaluation, but
    glibc keeps much of it in its arenas, so the resident size creeps up step after step.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)  # dlopen of a loaded library: a lookup, no I/O
        except (AttributeError, OSError):  # a libc without malloc_trim (musl): nothing to do
            pass


class _Stalled(Exception):
    """Raised inside L-BFGS's objective to end a run that stopped improving."""


def run_lbfgs(objective: Objective, image: Any, steps: int, *, history_size: int | None = None,
              tolerance: float = 0.0, patience: int = 10,
              callback: Callback | None = None) -> tuple[np.ndarray, list[dict]]:
    """L-BFGS (SciPy's ``L-BFGS-B``; pixels bounded to [0, 1]) with gradients from TensorFlow.

    Args:
        objective: The :class:`~artlib.style.objective.Objective` to lower.
        image: The start, ``H×W×3`` in [0, 1] (usually the content image).
        steps: Most function evaluations (each one forward and backward pass, like one Adam step).
        history_size: Gradient pairs L-BFGS remembers; default 10, fewer on images so large that
            its workspace would pass :data:`LBFGS_MEMORY_BUDGET` (5 at 1024 px).
        tolerance: Stop early once the best value has fallen by less than this fraction over the
            last ``patience`` evaluations (0, the default: always run all ``steps``).
            :func:`~artlib.style.transfer.style_transfer` uses it to end coarse stages that have settled.
        patience: Evaluations over which ``tolerance`` is judged (≥ 1).
        callback: ``callback(evaluation, terms)`` after each evaluation.

    Returns:
        ``(image, history)``: the best image seen and the terms at each evaluation.

    Raises:
        ArtlibError: ``steps`` or ``patience`` below 1, a negative ``tolerance``, a bad ``history_size``.
        NonFiniteLossError: A term became NaN or infinite.
    """
    from scipy.optimize import Bounds, minimize

    steps = positive_int(steps, "steps")
    tolerance = positive_float(tolerance, "tolerance", zero=True)
    patience = positive_int(patience, "patience")
    x0 = as_image_batch(image, name="start image").numpy()
    shape = x0.shape
    memory = lbfgs_history_size(x0.size, history_size)
    history: list[dict] = []
    best = {"value": np.inf, "x": x0.ravel().astype(np.float64)}
    best_so_far: list[float] = []  # the best value after each evaluation

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        terms, grad = objective.value_and_grad(tf.constant(x.reshape(shape), tf.float32))
        terms, grad = {k: float(v) for k, v in terms.items()}, grad.numpy().ravel().astype(np.float64)
        release_free_memory()
        training.check_finite(terms, step=len(history) + 1, checkpoints=False, hint=LBFGS_HINT)
        history.append(terms)
        if terms["total"] < best["value"]:
            best.update(value=terms["total"], x=x.copy())
        if callback is not None:
            callback(len(history) - 1, terms)
        best_so_far.append(best["value"])
        if tolerance > 0 and len(best_so_far) > patience and \
                best["value"] > (1 - tolerance) * best_so_far[-1 - patience]:
            raise _Stalled
        return terms["total"], grad

    try:
        minimize(fun, x0.ravel().astype(np.float64), jac=True, method="L-BFGS-B",
                 bounds=Bounds(np.zeros(x0.size), np.ones(x0.size)),
                 options=dict(maxfun=steps, maxiter=steps, maxcor=memory, ftol=0.0, gtol=0.0))
    except _Stalled:
        pass
    return best["x"].reshape(shape)[0].astype(np.float32), history
