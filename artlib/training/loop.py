"""``train_loop``: the explicit ``@tf.function`` loop with exact resume, time budget, target and samples.

The data position is the step counter itself: step ``s`` is batch
``s % steps_per_epoch`` of epoch ``s // steps_per_epoch``, and
``make_dataset(epoch)`` must give the same batches every time it is called for
that epoch (shuffle with ``seed + epoch``, as :func:`~artlib.training.shuffled_batches`
does). With everything the step changes in ``state``, stopping and calling
again with fresh objects gives bitwise the same weights as never stopping.
"""

from __future__ import annotations

import itertools
import numbers
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before TensorFlow is imported)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.atomic import atomic_write_bytes  # noqa: E402
from artlib.checks import positive_int  # noqa: E402
from artlib.errors import ArtlibError, NonFiniteLossError  # noqa: E402
from artlib.training.checkpoint import Checkpointer  # noqa: E402
from artlib.training.finite import check_finite  # noqa: E402
from artlib.training.lock import run_lock  # noqa: E402
from artlib.training.logger import RunLogger  # noqa: E402
from artlib.training.order import untuned  # noqa: E402
from artlib.training.progress import progress_bar  # noqa: E402
from artlib.training.result import TrainResult  # noqa: E402
from artlib.training.rundir import RunDir  # noqa: E402
from artlib.training.strategy import worker_run_dir  # noqa: E402

__all__ = ["train_loop", "save_interval"]


def save_interval(steps_per_epoch: int) -> int:
    """How often a step-counted loop of the course saves and draws its grid (``save_every``, ``sample_every``):
    every epoch, at most every 250 steps; an epoch of one batch (a training set of one batch) every 50 steps,
    not at every step."""
    return min(steps_per_epoch, 250) if steps_per_epoch > 1 else 50


def _count_batches(batches: Iterable[Any]) -> int:
    """Batches in one epoch, for a dataset of known size or a sequence."""
    if isinstance(batches, tf.data.Dataset) and int(batches.cardinality()) >= 0:
        return int(batches.cardinality())
    if isinstance(batches, Sequence):
        return len(batches)
    raise ArtlibError("cannot tell how many batches make an epoch; pass steps_per_epoch")


def _skip(batches: Iterable[Any], count: int) -> Iterable[Any]:
    """The batches after the first ``count`` (a dataset's with tf.data's autotuning off: :func:`untuned`)."""
    if isinstance(batches, tf.data.Dataset):
        return untuned(batches.skip(count))
    return itertools.islice(batches, count, None)


def _positive(max_seconds: float | None, **counts: int | None) -> None:
    """Raise ArtlibError for a count that is given but not a positive integer, or a time budget not above 0."""
    for name, value in counts.items():
        if value is not None:
            positive_int(value, name)
    if max_seconds is not None and not (isinstance(max_seconds, numbers.Real) and not isinstance(max_seconds, bool)
                                        and max_seconds > 0):  # NaN and text too; infinity is no budget
        raise ArtlibError(f"max_seconds must be above 0; got {max_seconds!r}")


def _save(checkpointer: Checkpointer, run: RunDir, history: Mapping[str, list]) -> None:
    """Merge this call's history into ``history.json``, then write the checkpoint.

    In this order a kill between the two loses no step's losses: the steps that the history holds
    past the checkpoint are redone on resume and replace theirs. A save that refuses NaN weights
    (which a finite loss can hide) puts ``history.json`` back as it was: nothing from them is kept.

    Raises:
        NonFiniteLossError: A variable holds NaN or Inf (no checkpoint, history as before).
    """
    before = run.history_file.read_bytes() if run.history_file.exists() else None
    run.merge_history(history)
    try:
        checkpointer.save()
    except NonFiniteLossError:
        if before is None:
            run.history_file.unlink(missing_ok=True)
        else:
            atomic_write_bytes(run.history_file, before)
        raise


def train_loop(
    step_fn: Callable[[Any], Mapping[str, Any]],
    make_dataset: Callable[[int], Iterable[Any]],
    *,
    num_steps: int,
    run_dir: str | Path,
    state: Mapping[str, Any],
    steps_per_epoch: int | None = None,
    save_every: int = 100,
    log_every: int = 10,
    sample_fn: Callable[[], Any] | None = None,
    sample_every: int | None = None,
    max_seconds: float | None = None,
    stop_when: Callable[[int, Mapping[str, list]], bool] | None = None,
    settings: Mapping[str, Any] | None = None,
    resume_from: str | None = None,
    max_to_keep: int = 3,
    summary: bool = True,
    quiet: bool | None = None,
) -> TrainResult:
    """Train until step ``num_steps``, resuming exactly from the newest checkpoint in ``run_dir``.

    Steps are counted from 1: after step ``s`` the counter is ``s`` and
    ``ckpt-<s>`` holds that state. Stopping (or being killed) and calling
    again with fresh objects gives bitwise the same result as never stopping,
    provided ``state`` holds everything the step changes and ``make_dataset``
    is deterministic. A run stops at a step boundary when it reaches
    ``num_steps``, spends ``max_seconds`` or meets ``stop_when``; it saves a
    checkpoint and a sample grid there first, so a later call goes on from it.

    Args:
        step_fn: ``step_fn(batch) -> {"loss_name": scalar, ...}``; usually a
            ``@tf.function`` that updates the models.
        make_dataset: ``make_dataset(epoch)`` -> that epoch's batches, the same
            every call (e.g. ``lambda epoch: shuffled_batches(x, 64, seed=SEED + epoch)``).
        num_steps: The step to train up to (a total, not "this many more").
        run_dir: The run directory (see :class:`~artlib.training.RunDir`): checkpoints,
            TensorBoard logs, ``history.json`` (merged across calls), ``samples/``,
            ``samples.gif`` and ``losses.png``. Under ``MultiWorkerMirroredStrategy`` the chief
            writes it and every other worker a copy (:func:`~artlib.training.worker_run_dir`).
        state: Everything the step reads or changes, by name: models,
            optimizers, seed generators (see :class:`~artlib.training.Checkpointer`).
        steps_per_epoch: Batches per epoch; default: counted from ``make_dataset(0)``.
        save_every: Save a checkpoint (and ``history.json``) every this many steps, and
            always at the last step.
        log_every: Log the mean losses of the last this-many steps to TensorBoard and the bar.
        sample_fn: Returns a batch of images in [0, 1] to show, e.g. the generator on a fixed
            latent batch; saved as ``samples/step-XXXXXX.png`` and to TensorBoard. It must not
            draw from the training seed generators.
        sample_every: Call ``sample_fn`` every this many steps and at the last one
            (default: ``save_every``).
        max_seconds: Stop at the first step boundary after this much time in this call.
        stop_when: ``stop_when(step, history) -> bool`` after every step, with the whole
            run's history (as in ``history.json``): True stops there (a target reached).
        settings: The recipe; written to ``settings.json``, and a run directory that holds
            other settings is refused (``num_steps``/``num_epochs`` may change), unless its run
            saved nothing yet (:meth:`RunDir.has_progress`).
        resume_from: A checkpoint path to start from instead of the newest in ``run_dir``.
        max_to_keep: How many checkpoints to keep.
        summary: At the end, write ``samples.gif`` and ``losses.png`` (:meth:`RunDir.finish`).
        quiet: Hide the progress bar (default: hidden under CI).

    Returns:
        A :class:`~artlib.training.TrainResult`: this call's history (``result["step"]``,
        ``result["loss"]`` … one entry per step), the final step, the seconds, why it stopped.

    Raises:
        ArtlibError: A count or ``max_seconds`` that is not above 0, or an epoch of
            ``make_dataset`` shorter than ``steps_per_epoch``.
        NonFiniteLossError: A loss or weight became NaN/Inf; nothing bad was saved.
        CheckpointError: ``run_dir`` holds unreadable checkpoints, another model's, or other settings;
            or another training (another process) is using it: refused at once, naming its pid
            and host (the lock, ``run_dir/.lock``, is held for the whole call; see
            :func:`~artlib.training.run_lock`).

    Example::

        state = {"generator": generator, "discriminator": discriminator,
                 "g_optimizer": g_optimizer, "d_optimizer": d_optimizer, "latent": latent_seeds}
        result = train_loop(gan_step, lambda epoch: shuffled_batches(images, 64, seed=SEED + epoch),
                            num_steps=2000, run_dir="runs/gan", state=state, max_seconds=600,
                            sample_fn=lambda: generator(fixed_latents) * 0.5 + 0.5)
        result.stopped, result.final_step  # ("max_seconds", 1234): call again to go on
    """
    _positive(max_seconds, num_steps=num_steps, steps_per_epoch=steps_per_epoch, save_every=save_every,
              log_every=log_every, sample_every=sample_every)
    sample_every = sample_every or save_every
    started = time.perf_counter()
    run_dir = worker_run_dir(run_dir)  # a non-chief worker of a multi-worker run writes its own copy
    with run_lock(run_dir):  # one training at a time in a folder (CheckpointError for a second)
        run = RunDir(run_dir)
        if settings is not None:
            run.write_settings(settings)
        checkpointer = Checkpointer(run_dir, max_to_keep=max_to_keep, **state)
        step = start = checkpointer.restore(resume_from)
        if checkpointer.restored_path and quiet is not True:
            print(f"Resuming from {checkpointer.restored_path} (step {step} of {num_steps})." if step <= num_steps
                  else f"{run.path} is at step {step}, past the {num_steps} asked for: nothing to train (its "
                       f"checkpoint stays at step {step}).")
        steps_per_epoch = steps_per_epoch or _count_batches(make_dataset(0))
        earlier = run.read_history()
        keep = sum(1 for s in earlier.get("step", []) if s <= start)  # later ones get redone
        earlier = {name: values[:keep] for name, values in earlier.items()}
        history: dict[str, list[float]] = {"step": []}

        def whole_run() -> dict[str, list]:
            names = dict.fromkeys([*earlier, *history])
            return {name: earlier.get(name, [None] * keep) + history.get(name, [None] * len(history["step"]))
                    for name in names}

        bar = progress_bar(num_steps, quiet=quiet)
        stopped = "done"
        with RunLogger(run_dir) as logger:
            def draw_samples(at: int) -> None:
                images = np.asarray(sample_fn())
                logger.images("samples", images, at)
                run.save_samples(images, at)

            if (sample_fn is not None and start and (start % sample_every == 0 or start == num_steps)
                    and not run.sample_path(start).exists()):
                draw_samples(start)  # a kill came between the checkpoint and its grid: draw it from that state
            while step < num_steps and stopped == "done":
                epoch, position = divmod(step, steps_per_epoch)  # the data position is the step
                for batch in _skip(make_dataset(epoch), position):
                    losses = {name: float(value) for name, value in step_fn(batch).items()}
                    step += 1
                    check_finite(losses, step=step, last_checkpoint=checkpointer.latest)
                    if step == start + 1:
                        checkpointer.assert_restored()  # the optimizers exist now
                    checkpointer.step.assign(step)
                    history["step"].append(step)
                    for name, value in losses.items():
                        history.setdefault(name, [None] * (len(history["step"]) - 1)).append(value)
                    if max_seconds is not None and time.perf_counter() - started >= max_seconds:
                        stopped = "max_seconds"
                    if stop_when is not None and stop_when(step, whole_run()):
                        stopped = "stop_when"
                    last = step == num_steps or stopped != "done"
                    if step % log_every == 0 or last:
                        recent = {name: float(np.mean(history[name][-log_every:])) for name in losses}
                        logger.scalars(recent, step)
                        bar.update(step, list(recent.items()))
                    if step % save_every == 0 or last:  # first: the save refuses NaN weights a finite loss hid
                        _save(checkpointer, run, history)
                    if sample_fn is not None and (step % sample_every == 0 or last):
                        draw_samples(step)
                    if last or step % steps_per_epoch == 0:
                        break
                else:  # the epoch ran out of batches early: positions would not match on resume
                    raise ArtlibError(f"make_dataset({epoch}) gave {step % steps_per_epoch} batches, "
                                      f"but steps_per_epoch is {steps_per_epoch}")
        if summary and (history["step"] or start >= num_steps):  # a finished run called again: made whole
            run.finish(whole_run())
        return TrainResult(history=history, final_step=step, seconds=time.perf_counter() - started,
                           stopped=stopped, run_dir=run.path)
