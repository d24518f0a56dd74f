"""The one training machinery: every loop in the course gets the same services from here.

Which file does what:

=============== ===========================================================================
``loop.py``     :func:`train_loop`: explicit ``@tf.function`` loops (GAN, VAE, fast style);
                exact resume, ``max_seconds``, ``stop_when``, ``sample_every``; returns a
                :class:`TrainResult`; :func:`save_interval`, the topics' save cadence
``fit.py``      :func:`fit`: the entry point for every ``fit``-trained model (epoch-keyed data,
                optional per-batch ``map_fn``, resume from artlib's backup);
                :class:`NaNGuard`, :class:`BackupAndRestore`, :func:`callbacks`
``order.py``    the data order: :func:`epoch_order`, :func:`shuffled_batches` (one epoch, for
                ``make_dataset``), :func:`epoch_dataset` (epochs back to back, for ``fit``)
``checkpoint.py`` :class:`Checkpointer` (``tf.train.CheckpointManager``, atomic, falls back past
                an unreadable checkpoint), :func:`seed_states`
``rundir.py``   :class:`RunDir`: ``settings.json`` (checked), ``history.json`` (merged across
                resumes), ``samples/step-XXXXXX.png``, ``samples.gif``, ``losses.png``;
                :func:`read_json_object` (a damaged or misshapen JSON file: a ``CheckpointError``)
``lock.py``     :func:`run_lock`: one training at a time in a run directory (``run_dir/.lock``,
                an OS lock that a killed run does not leave stuck; re-entrant in a process);
                ``train_loop`` and ``fit`` hold it for the whole call
``result.py``   :class:`TrainResult`: history, final step, seconds, why it stopped, run_dir
``finite.py``   :func:`check_finite`: the one NaN/Inf check (loops and image optimizers)
``logger.py``   :class:`RunLogger`: TensorBoard scalars and image grids
``progress.py`` :func:`progress_bar`
``strategy.py`` :func:`get_strategy`: the program's ``tf.distribute`` strategy (the one in scope, else
                TPU, several GPUs or the default; made once); :func:`worker_run_dir`: the folder a
                non-chief worker of a multi-worker run writes
``replicas.py`` :func:`distribute_step`: a one-device step over the replicas (the batch split,
                :func:`scale_loss`, :func:`draw_for_replica`, metrics averaged); :func:`batch_norm`
=============== ===========================================================================

How a topic uses it:

* an explicit loop::

      result = training.train_loop(step_fn, lambda e: training.shuffled_batches(x, 64, seed=SEED + e),
                                   num_steps=2000, run_dir=run_dir, state={"generator": g, ...},
                                   settings=dict(settings), sample_fn=lambda: g(fixed_z) * 0.5 + 0.5,
                                   max_seconds=max_seconds)
      training.RunDir(run_dir).read_history()   # the whole run, merged across calls

  (gan.train then needs no chunked re-entry, no PNG/GIF/curve/history code of its own;
  ``result["step"]`` still reads the history as the old dict did);

* a ``fit``-trained model compiles itself, then::

      result = training.fit(model, images, num_epochs=10, batch_size=64, seed=seed, run_dir=run_dir,
                            map_fn=lambda clean, s: (noise_fn(clean, s), clean))

  (no ``_completed_epochs`` reading Keras's private files, no ``_FirstEpoch`` callback);

* an optimizer over pixels (style transfer)::

      training.check_finite({"the style-transfer loss": total}, step=i, checkpoints=False,
                            hint="Lower the learning rate or the style weight.")

* under ``tf.distribute`` (see ``docs/scaling.md``), a step is written as on one device and
  wrapped once::

      def replica_step(batch):       # this replica's rows of the global batch
          z = training.draw_for_replica(keras.random.normal, (tf.shape(batch)[0], 64), seed=noise)
          with tf.GradientTape() as tape:
              loss = tf.reduce_mean(...)                 # the mean over these rows
              scaled = training.scale_loss(loss)         # / replicas: gradients are summed
          optimizer.apply(tape.gradient(scaled, variables), variables)
          return {"loss": loss}                          # averaged over the replicas

      step = training.distribute_step(replica_step)

* a topic's own result type subclasses :class:`TrainResult`
  (``@dataclass(kw_only=True, eq=False)``) and adds its fields.
"""

from artlib.training.checkpoint import Checkpointer, seed_states
from artlib.training.finite import DEFAULT_HINT, check_finite
from artlib.training.fit import BackupAndRestore, NaNGuard, callbacks, fit
from artlib.training.lock import LOCK_FILE, run_lock
from artlib.training.logger import RunLogger, as_grid
from artlib.training.loop import save_interval, train_loop
from artlib.training.order import count_examples, epoch_dataset, epoch_order, shuffled_batches, whole_executions
from artlib.training.progress import progress_bar
from artlib.training.result import STOP_REASONS, TrainResult
from artlib.training.rundir import MAY_CHANGE, RunDir, read_json_object
from artlib.training.replicas import (batch_norm, check_batch_size, distribute_step, draw_for_replica,
                                      num_replicas, replica_rows, scale_loss)
from artlib.training.strategy import get_strategy, worker_run_dir

__all__ = [
    "read_json_object",
    "progress_bar",
    "RunLogger",
    "as_grid",
    "Checkpointer",
    "seed_states",
    "epoch_order",
    "whole_executions",
    "shuffled_batches",
    "epoch_dataset",
    "count_examples",
    "check_finite",
    "DEFAULT_HINT",
    "train_loop",
    "save_interval",
    "TrainResult",
    "STOP_REASONS",
    "RunDir",
    "MAY_CHANGE",
    "run_lock",
    "LOCK_FILE",
    "NaNGuard",
    "BackupAndRestore",
    "callbacks",
    "fit",
    "get_strategy",
    "worker_run_dir",
    "distribute_step",
    "scale_loss",
    "draw_for_replica",
    "replica_rows",
    "num_replicas",
    "check_batch_size",
    "batch_norm",
]
