"""The program's ``tf.distribute`` strategy (made once) and the folder each worker of a multi-worker run writes.

One strategy per program, and no state of artlib's own to hold it: :func:`get_strategy`
returns the strategy whose scope the caller is in (``with strategy.scope():`` around a
call, or one set for the whole program); only when there is none and the machine has a
TPU or several GPUs does it make one, and it sets that one for the whole program with
TensorFlow's own ``tf.distribute.experimental_set_strategy``, so every later call (every
builder) finds the same one.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before TensorFlow is imported)

import tensorflow as tf  # noqa: E402

__all__ = ["get_strategy", "worker_run_dir", "WORKER_DIRS"]

#: Where the workers of a multi-worker run other than the chief write (in the system's temporary folder).
WORKER_DIRS = "artlib-workers"
#: What a worker's copy of the run directory leaves out: only the chief's pictures and logs count.
_NOT_COPIED = (".lock", "tensorboard", "samples", "*.gif", "*.png", "*.keras")


def get_strategy() -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy of this program: the one in scope, else TPU, several GPUs or the default.

    Decided once per program, with TensorFlow's own mechanism and no artlib state:

    * inside ``with strategy.scope():`` (or after ``tf.distribute.experimental_set_strategy``)
      it returns that strategy, so ``MirroredStrategy``, ``MultiWorkerMirroredStrategy`` or
      ``TPUStrategy`` made by the caller is what every artlib builder and step uses;
    * otherwise, on a machine with a TPU it connects to it and makes a ``TPUStrategy``, with
      several GPUs a ``MirroredStrategy`` over all of them; it then sets that strategy for the
      whole program (``tf.distribute.experimental_set_strategy``), so that the next call
      returns the same one instead of making another;
    * otherwise (one GPU or CPUs) TensorFlow's default strategy: nothing changes.

    Build models and optimizers under its scope (the optimizer too: a Keras optimizer cannot
    create its variables inside ``strategy.run``), and run explicit steps with
    :func:`~artlib.training.distribute_step`::

        with training.get_strategy().scope():
            model = build_model()
            optimizer = keras.optimizers.Adam()
            optimizer.build(model.trainable_variables)

    Returns:
        The strategy.
    """
    if tf.distribute.has_strategy():  # in a scope, or set for the program (by the caller or an earlier call)
        return tf.distribute.get_strategy()
    if tf.config.list_physical_devices("TPU"):
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        strategy: tf.distribute.Strategy = tf.distribute.TPUStrategy(resolver)
    elif len(tf.config.list_logical_devices("GPU")) > 1:
        strategy = tf.distribute.MirroredStrategy()
    else:
        return tf.distribute.get_strategy()
    tf.distribute.experimental_set_strategy(strategy)  # the program's strategy from now on
    return strategy


def _is_worker_dir(path: Path) -> bool:
    """Whether ``path`` is already a worker's copy (made by :func:`worker_run_dir`)."""
    return path.resolve().parent.parent == (Path(tempfile.gettempdir()) / WORKER_DIRS).resolve()


def worker_run_dir(run_dir: str | Path) -> Path:
    """The folder this process writes a run into: ``run_dir`` itself, except on a non-chief worker.

    Under ``MultiWorkerMirroredStrategy`` every worker runs the same loop and must save its
    checkpoints too (saving may need every worker), but only the chief's files count, and two
    processes may not write (or lock) one folder. So the chief (worker 0), and every process
    of a one-machine strategy, writes ``run_dir``; another worker gets a private copy of it,
    made now from the chief's ``run_dir`` (settings, history, checkpoints: what resuming
    reads) in ``<temp>/artlib-workers/<task>-<id>/<digest of run_dir>``, so it resumes from
    the same step as the chief. Its copy is replaced by the next call; nothing reads it.
    The run directory must therefore be on a filesystem every worker sees (one machine, NFS,
    a bucket) for a multi-worker run to resume.

    Args:
        run_dir: The run directory.

    Returns:
        The folder to write; ``run_dir`` on the chief and without a multi-worker strategy (and a
        worker's copy handed back in is returned as it is).
    """
    run_dir = Path(run_dir)
    strategy = get_strategy()
    if strategy.extended.should_checkpoint or _is_worker_dir(run_dir):
        return run_dir
    resolver = strategy.cluster_resolver
    digest = hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:16]
    copy = Path(tempfile.gettempdir()) / WORKER_DIRS / f"{resolver.task_type}-{resolver.task_id}" / digest
    shutil.rmtree(copy, ignore_errors=True)
    if run_dir.is_dir():
        shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns(*_NOT_COPIED))
    copy.mkdir(parents=True, exist_ok=True)
    return copy
