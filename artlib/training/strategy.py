"""The ``tf.distribute`` strategy for this machine: TPU, several GPUs, or the default."""

from __future__ import annotations

from collections.abc import Sequence

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before TensorFlow is imported)

import tensorflow as tf  # noqa: E402

__all__ = ["get_strategy"]


def get_strategy(devices: Sequence[str] | None = None) -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy for this machine: TPU, several GPUs, or the default.

    Build models and optimizers under its scope (and build the optimizer
    there too: a Keras optimizer cannot create its variables inside
    ``strategy.run``), then run steps with ``strategy.run``; on one device
    this changes nothing::

        strategy = get_strategy()
        with strategy.scope():
            model = build_model()
            optimizer = keras.optimizers.Adam()
            optimizer.build(model.trainable_variables)

        @tf.function
        def step(batch):
            per_replica = strategy.run(replica_step, args=(batch,))
            return {"loss": strategy.reduce("SUM", per_replica, axis=None)}

    Call it once per program (it connects to a TPU when there is one).

    Args:
        devices: Mirror over exactly these devices (e.g. ``["/cpu:0", "/cpu:1"]``).

    Returns:
        ``TPUStrategy`` on a TPU machine, ``MirroredStrategy`` with more than
        one GPU (or with ``devices``), else the default strategy.
    """
    if devices:
        return tf.distribute.MirroredStrategy(list(devices))
    if tf.config.list_physical_devices("TPU"):
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()
