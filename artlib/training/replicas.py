"""A one-device training step run over the strategy's replicas: the batch split, losses scaled, random numbers, metrics.

Every explicit loop in the course is written as the step one device would take on the
whole batch; :func:`distribute_step` runs it on each replica of the strategy
(:func:`~artlib.training.get_strategy`) with that replica's share of the batch:

* **the batch**: every replica is handed the global batch and keeps its own rows
  (:func:`replica_rows`; replica ``i`` of ``R`` keeps rows ``i·N/R … (i+1)·N/R``), so the
  data pipeline stays what it is on one device (any iterable of batches, the data order,
  exact resume; under ``MultiWorkerMirroredStrategy`` every worker builds the same global
  batch and keeps its replicas' rows). The cost: each device receives the whole batch;
  ``N`` must be a multiple of ``R`` (:func:`check_batch_size`);
* **losses**: a step computes its losses as means over its rows, as on one device, and
  takes gradients of :func:`scale_loss` (loss / R): the optimizer sums the replicas'
  gradients (Keras does), which gives the gradient of the mean over the global batch —
  per-example losses scaled by the global batch size, ``Σ_rows loss / N``;
* **random numbers** drawn in a step (latents, noise levels, masks):
  :func:`draw_for_replica` draws the numbers of the whole global batch on every replica
  from the same seed state and keeps this replica's rows, so they are the numbers one
  device draws for those rows;
* **metrics**: the values a step returns (means over its rows) are averaged over the
  replicas (``MEAN``), the mean over the global batch;
* **batch normalization** (:func:`batch_norm`) normalizes with the statistics of the
  global batch when there are several replicas (``synchronized=True``), as on one device.

With one replica (the default strategy) all of this is the identity: the step is the
one-device step, bitwise.

Inside Keras ``fit`` (the autoencoder, the VAE) Keras splits the batch and sums the
gradients; a custom ``train_step`` takes gradients of :func:`scale_loss` and draws its
random numbers with :func:`draw_for_replica`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.errors import ArtlibError  # noqa: E402
from artlib.training.strategy import get_strategy  # noqa: E402

__all__ = ["num_replicas", "check_batch_size", "replica_rows", "scale_loss", "draw_for_replica", "distribute_step",
           "batch_norm"]


def num_replicas() -> int:
    """Replicas that take a step together: in a replica's step, its strategy's; else :func:`get_strategy`'s."""
    context = tf.distribute.get_replica_context()
    if context is not None and tf.distribute.has_strategy():  # inside strategy.run
        return int(context.num_replicas_in_sync)
    return int(get_strategy().num_replicas_in_sync)


def _replica() -> tuple[int, Any]:
    """``(R, i)`` inside a step: the replicas and this one's index (``(1, 0)`` outside ``strategy.run``)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return 1, 0
    return context.num_replicas_in_sync, context.replica_id_in_sync_group


def check_batch_size(batch_size: int, name: str = "batch_size", *, replicas: int | None = None) -> int:
    """``batch_size`` if it splits evenly over the replicas.

    Args:
        batch_size: Examples per step (the global batch).
        name: What to call it in the message.
        replicas: How many (default :func:`num_replicas`; ``fit`` passes its model's strategy's).

    Returns:
        ``batch_size``.

    Raises:
        ArtlibError: It is not a multiple of the number of replicas.
    """
    replicas = num_replicas() if replicas is None else int(replicas)
    if int(batch_size) % replicas:
        raise ArtlibError(f"{name} {batch_size} does not split evenly over {replicas} replicas (devices); "
                          f"use a multiple of {replicas}")
    return batch_size


def _share(size: Any, replicas: int) -> Any:
    """Rows per replica of a global batch of ``size`` (a number, or a tensor while tracing)."""
    if isinstance(size, int):
        check_batch_size(size, "a batch of")
    return size // replicas


def replica_rows(batch: Any) -> Any:
    """This replica's rows of a global batch (every tensor of rank ≥ 1 in a nest; scalars as they are).

    Args:
        batch: A tensor, or a tuple/list/dict of them, with the examples along axis 0
            (a scalar, such as a fade-in weight, goes to every replica whole).

    Returns:
        The same structure; in a replica ``i`` of ``R``, rows ``i·N/R … (i+1)·N/R``; with one
        replica, ``batch`` itself.

    Raises:
        ArtlibError: ``N`` is known and not a multiple of ``R``.
    """
    replicas, index = _replica()
    if replicas == 1:
        return batch

    def rows(tensor: Any) -> Any:
        tensor = tf.convert_to_tensor(tensor)
        if tensor.shape.rank == 0:
            return tensor
        size = tensor.shape[0] if tensor.shape[0] is not None else tf.shape(tensor)[0]
        share = _share(size, replicas)
        return tensor[index * share:(index + 1) * share]  # (N, ...) -> (N / R, ...)

    return tf.nest.map_structure(rows, batch)


def scale_loss(loss: Any) -> Any:
    """A replica's mean loss as its part of the global batch's mean: ``loss / R`` (``loss`` itself with one replica).

    Take gradients of this: the optimizer sums them over the replicas, which makes the
    gradient of the mean over the global batch.

    Args:
        loss: The mean of a loss over this replica's rows.

    Returns:
        The scaled loss.
    """
    replicas, _ = _replica()
    return loss if replicas == 1 else loss * (1.0 / replicas)


def draw_for_replica(draw: Callable[..., Any], shape: Sequence[Any], **kwargs: Any) -> Any:
    """Random numbers for this replica's rows, the numbers one device draws for them from the same seed.

    Every replica draws the numbers of the whole global batch (its rows times the number
    of replicas) from the same seed state and keeps its own rows. The seed generator must
    be made under the strategy's scope (as every model's is), so that its state is one
    for all replicas and moves on once per draw.

    Args:
        draw: A ``keras.random`` function, e.g. ``keras.random.normal``.
        shape: The shape for this replica's rows, ``(n, ...)`` (``n`` may be a tensor).
        **kwargs: Passed to ``draw`` (``seed=`` a ``keras.random.SeedGenerator``, ``dtype``, ``minval`` …).

    Returns:
        ``draw(shape, **kwargs)`` on one replica; on replica ``i`` of ``R``, rows ``i·n … (i+1)·n``
        of ``draw((R·n, ...), **kwargs)``.

    Raises:
        ArtlibError: With several replicas, a ``seed`` generator made outside the strategy's scope.

    Example::

        z = draw_for_replica(keras.random.normal, (n, latent_dim), seed=noise)
    """
    replicas, index = _replica()
    if replicas == 1:
        return draw(shape, **kwargs)
    seed = kwargs.get("seed")
    if isinstance(seed, keras.random.SeedGenerator) and not isinstance(seed.state.value, tf.distribute.DistributedValues):
        raise ArtlibError(f"the seed generator {seed.name} was made outside the strategy's scope, so each replica "
                          "would move it on: make it under `with training.get_strategy().scope():`")
    if isinstance(shape, tf.Tensor):
        rows, whole_shape = shape[0], tf.concat([[shape[0] * replicas], shape[1:]], 0)
    else:
        rows, whole_shape = shape[0], (shape[0] * replicas, *shape[1:])
    whole = draw(whole_shape, **kwargs)  # (R·n, ...): the global batch's numbers
    return whole[index * rows:(index + 1) * rows]


def distribute_step(replica_step: Callable[[Any], Mapping[str, Any]], *, jit_compile: bool = False,
                    reduce_retracing: bool = False) -> Callable[[Any], dict[str, tf.Tensor]]:
    """A one-device step as a ``@tf.function`` over the replicas of :func:`get_strategy`'s strategy.

    Call it under the strategy the models were built in (it takes the strategy in scope now).

    The step is traced without AutoGraph: ``replica_step`` runs once, at tracing, as plain TensorFlow
    calls, so it must not branch or loop on a tensor (use ``tf.cond`` or ``tf.while_loop`` where one
    must); Python conditions on settings are fine. No step here needs more, and skipping AutoGraph's
    rewriting of the step and of every Keras call in it shortens the first call (measured on 2 cores:
    a small GAN's 1.9 → 1.1 s, CycleGAN's and diffusion's about a tenth less).

    Args:
        replica_step: ``replica_step(batch) -> {name: scalar}``, the step one device takes, written
            with :func:`scale_loss` for its gradients and :func:`draw_for_replica` for its random numbers;
            it receives this replica's rows of the batch and returns means over them.
        jit_compile: Compile ``replica_step`` with XLA.
        reduce_retracing: Passed to ``tf.function`` (for batches of varying shape).

    Returns:
        ``step(batch) -> {name: scalar}``: the values averaged over the replicas (the global batch's means).

    Example::

        step = distribute_step(lambda batch: gan_step(generator, discriminator, ..., batch, noise))
        losses = step(images)   # a global batch of images, split over the replicas
    """
    strategy = get_strategy()
    inner = tf.function(replica_step, jit_compile=True) if jit_compile else replica_step

    def on_replica(batch: Any) -> Mapping[str, Any]:
        return inner(replica_rows(batch))

    @tf.function(reduce_retracing=reduce_retracing, autograph=False)
    def step(batch):
        results = strategy.run(on_replica, args=(batch,))
        return {name: strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                for name, value in results.items()}

    return step


def batch_norm(**kwargs: Any) -> keras.layers.BatchNormalization:
    """``keras.layers.BatchNormalization``, synchronized over the replicas when there are several.

    With one replica the plain layer (the numbers of a model without strategies, bitwise);
    with several, ``synchronized=True``: the statistics of the global batch, as one device
    computes them, instead of each replica's own (which would train another model).

    Args:
        **kwargs: Passed to the layer (``name``, ``momentum`` …).

    Returns:
        The layer.
    """
    return keras.layers.BatchNormalization(synchronized=num_replicas() > 1, **kwargs)
