"""The data order: epoch e's order is a pure function of (seed, e), for explicit loops and for ``fit``.

Both kinds of loop resume exactly only if the batches after a resume are the
ones an uninterrupted run would have seen. So nothing here depends on
TensorFlow's global seed (``Dataset.shuffle(seed=s)`` does) or on how many
epochs ran before in this process: the order of epoch ``e`` is
``np.random.default_rng(seed + e).permutation(n)`` (:func:`epoch_order`).

* :func:`shuffled_batches` gives one epoch, for ``make_dataset(epoch)`` in
  :func:`~artlib.training.train_loop` (call it with ``seed=SEED + epoch``);
* :func:`epoch_dataset` gives epochs ``first_epoch … num_epochs - 1`` back to
  back in the same orders, for ``model.fit`` (used by :func:`~artlib.training.fit`,
  which starts it at the epoch the backup resumes at);
* :func:`untuned`: both are iterated without tf.data's autotuning.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before TensorFlow is imported)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.checks import positive_int, seed_value  # noqa: E402
from artlib.errors import ArtlibError, DataError  # noqa: E402

__all__ = ["epoch_order", "shuffled_batches", "epoch_dataset", "count_examples", "untuned"]


def count_examples(data: Any) -> int:
    """The number of examples in an array, or in a tuple/dict of arrays of the same length.

    Raises:
        ArtlibError: The arrays differ in length, or hold no examples.
    """
    lengths = {len(np.asarray(array)) for array in tf.nest.flatten(data)}
    if len(lengths) != 1:
        raise ArtlibError(f"the arrays of data differ in length ({sorted(lengths)}); give one entry per example")
    (count,) = lengths
    if count == 0:
        raise ArtlibError("data holds no examples")
    return count


def epoch_order(num_examples: int, *, seed: int, epoch: int) -> np.ndarray:
    """The order of the examples in epoch ``epoch``: a permutation fixed by ``seed + epoch`` alone.

    Args:
        num_examples: How many examples there are.
        seed: The run's seed.
        epoch: The epoch, counted from 0.

    Returns:
        int64 ``(num_examples,)``, the same permutation every time for the same arguments.

    Raises:
        ArtlibError: ``seed`` not a seed (:func:`~artlib.checks.seed_value`).
    """
    seed = seed_value(seed)
    return np.random.default_rng(seed + epoch).permutation(num_examples)


def shuffled_batches(data: Any, batch_size: int, *, seed: int) -> tf.data.Dataset:
    """One epoch of full batches in an order fixed by ``seed`` alone: the same every time.

    The order comes from a NumPy generator seeded with ``seed``, so it does not
    depend on TensorFlow's global seed or on what ran before. Use
    ``seed=SEED + epoch`` in a ``make_dataset(epoch)`` for :func:`~artlib.training.train_loop`;
    that is :func:`epoch_order` ``(n, seed=SEED, epoch=epoch)``.

    Args:
        data: An array (or a tuple/dict of arrays) with the examples along axis 0.
        batch_size: Examples per batch; a last, partial batch is dropped.
        seed: Fixes the order.

    Returns:
        A ``tf.data.Dataset`` of batches.

    Raises:
        ArtlibError: ``batch_size`` not a positive integer, or ``seed`` not a seed (:func:`~artlib.checks.seed_value`).
    """
    seed = seed_value(seed)
    batch_size = positive_int(batch_size, "batch_size")
    arrays = tf.nest.map_structure(np.asarray, data)
    order = epoch_order(count_examples(arrays), seed=seed, epoch=0)
    shuffled = tf.nest.map_structure(lambda array: array[order], arrays)
    return tf.data.Dataset.from_tensor_slices(shuffled).batch(batch_size, drop_remainder=True)


def epoch_dataset(data: Any, batch_size: int, *, seed: int, num_epochs: int, steps_per_epoch: int,
                  first_epoch: int = 0, map_fn: Callable[[Any, tf.Tensor], Any] | None = None) -> tf.data.Dataset:
    """Epochs ``first_epoch … num_epochs - 1`` back to back, epoch e in :func:`epoch_order` ``(seed, e)``.

    Each epoch holds the first ``steps_per_epoch`` full batches of its order
    (the rest is dropped). Because epoch e's batches depend only on (seed, e),
    a ``fit`` resumed at epoch k on ``epoch_dataset(..., first_epoch=k)``
    sees exactly the batches an uninterrupted run saw from epoch k on.

    Args:
        data: An array (or a tuple/dict of arrays) with the examples along axis 0;
            kept in memory in its own dtype (uint8 stays compact).
        batch_size: Examples per batch.
        seed: With the epoch number, fixes each epoch's order.
        num_epochs: The last epoch + 1 (a total, as ``fit``'s ``epochs``).
        steps_per_epoch: Batches per epoch (at most ``len(data) // batch_size``).
        first_epoch: The epoch to start at (counted from 0).
        map_fn: ``map_fn(batch, seed)`` -> what ``fit`` gets (``x`` or ``(x, y)``),
            e.g. noise for a denoiser: ``lambda clean, s: (add_noise(clean, s), clean)``.
            ``seed`` is an int64 ``[2]`` tensor ``(seed, step)`` (the step counted from 0
            over the whole run) for stateless random ops (``tf.random.stateless_normal``),
            so the noise of a batch is the same however the run was interrupted.
            Without it the batch itself (a tuple ``(x, y)`` stays one).

    Returns:
        A ``tf.data.Dataset`` of ``(num_epochs - first_epoch) * steps_per_epoch`` batches.

    Raises:
        ArtlibError: A size below 1, more batches than the data holds, ``first_epoch`` outside
            ``0 … num_epochs``, or ``seed`` not a seed.
    """
    seed = seed_value(seed)
    for name, value in (("batch_size", batch_size), ("num_epochs", num_epochs), ("steps_per_epoch", steps_per_epoch)):
        positive_int(value, name)
    count = count_examples(data)
    if steps_per_epoch * batch_size > count:
        raise ArtlibError(f"steps_per_epoch {steps_per_epoch} of batch {batch_size} needs "
                          f"{steps_per_epoch * batch_size} examples; data holds {count}")
    if not 0 <= first_epoch <= num_epochs:
        raise ArtlibError(f"first_epoch must be in 0..{num_epochs}; got {first_epoch!r}")
    arrays = tf.nest.map_structure(lambda array: tf.constant(np.asarray(array)), data)
    used = steps_per_epoch * batch_size
    orders = np.stack([epoch_order(count, seed=seed, epoch=e)[:used] for e in range(first_epoch, num_epochs)]
                      or [np.zeros(used, np.int64)])  # (epochs, steps·batch); one unused row if none
    orders = tf.constant(orders.reshape(-1, steps_per_epoch, batch_size))  # -> (epochs, steps, batch)

    def epoch_batches(epoch: tf.Tensor) -> tf.data.Dataset:
        steps = epoch * steps_per_epoch + tf.range(steps_per_epoch, dtype=tf.int64)
        return tf.data.Dataset.from_tensor_slices((steps, tf.gather(orders, epoch - first_epoch)))

    def gather(step: tf.Tensor, indices: tf.Tensor) -> Any:
        batch = tf.nest.map_structure(lambda array: tf.gather(array, indices), arrays)
        if map_fn is None:
            return batch
        return map_fn(batch, tf.stack([tf.constant(seed, tf.int64), step]))

    return untuned(tf.data.Dataset.range(first_epoch, num_epochs).flat_map(epoch_batches)
                   .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
                   .prefetch(tf.data.AUTOTUNE))


def untuned(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """``dataset`` without tf.data's autotuning, which runs a thread beside each iterator.

    For the training loops' datasets: :func:`~artlib.training.train_loop` leaves each epoch's
    iterator at the epoch's end, ``fit`` leaves :func:`epoch_dataset`'s at the run's end (or the
    garbage collector frees it later), and an iterator's destructor waits for its threads to stop.
    On a busy machine (the test command on 2 cores) such waits were seen to last seconds with the
    process idle (its stack in ``RootDataset::Iterator::~Iterator``); with autotuning off they were
    not seen again. In-memory batches have little to tune, and tuning never changes a batch's
    values, so a loop's results are the same either way.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def whole_executions(count: int, batch_size: int, steps_per_epoch: int | None,
                     steps_per_execution: int) -> tuple[int, int]:
    """``(steps_per_epoch, steps_per_execution)`` with every epoch made of whole executions.

    Keras runs an epoch of ``fit`` in groups of ``steps_per_execution`` and does not shorten the
    last one, so an epoch that is not whole groups would take batches of the next (and resume
    would no longer be exact). The default epoch is rounded down to whole groups (one batch at a
    time when it is shorter than one group); a given ``steps_per_epoch`` is kept and the group
    shrinks to a divisor of it.

    Args:
        count: Examples in the data.
        batch_size: Examples per step.
        steps_per_epoch: Batches per epoch, or None for as many whole groups as the data fills.
        steps_per_execution: Steps per call into TensorFlow wanted.

    Returns:
        ``(steps_per_epoch, steps_per_execution)`` to give ``fit`` and ``compile``.

    Raises:
        DataError: Fewer examples than one batch, or a ``steps_per_epoch`` the data cannot fill.
    """
    full = count // batch_size
    if full == 0:
        raise DataError(f"{count} images are fewer than one batch of {batch_size}")
    if steps_per_epoch is None:
        if full >= steps_per_execution:
            return full // steps_per_execution * steps_per_execution, steps_per_execution
        return full, 1
    if steps_per_epoch > full:
        raise DataError(f"steps_per_epoch {steps_per_epoch} needs {steps_per_epoch * batch_size} images "
                        f"(batches of {batch_size}); images holds {count}")
    return steps_per_epoch, math.gcd(steps_per_epoch, steps_per_execution)
