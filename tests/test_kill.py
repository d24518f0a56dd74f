"""SIGKILL at random moments: every training loop resumes from its last good checkpoint and ends as if never stopped.

For each loop — GAN, autoencoder (``fit``), fast style, diffusion — a driver process
(``python tests/test_kill.py <loop> <directory>``, run by the tests below) calls the loop's
public ``train`` on tiny data with a checkpoint every step or two:

1. once straight through: the reference;
2. once more in another run directory, killed with SIGKILL and restarted :data:`KILLS` times,
   then left to finish. Every restart builds its models from another seed, so a restart that
   ignored the checkpoint would end with other weights.

Where each kill lands is drawn by a seeded RNG: a random fraction of a step after a random number
of steps; inside a save (a checkpoint, or ``fit``'s backup), at a random moment of it (the child is
frozen with SIGSTOP a random part of the reference's save time after the save began; if the save
had already ended it goes on to the next one, so the kill lands inside a save for sure: in the
finiteness check, while TensorFlow or Keras writes the files, or while they are renamed and the
old ones deleted); or at a random moment of a restart's start-up (restoring, building, tracing).
The test checks that every restart resumed from the newest checkpoint whose save had finished
(never an older one, never a half-written one), that the run directory is left usable (no lock
held, every file readable), and that the final weights, optimizer and random-number states, the
whole history of losses and every sample grid equal the reference's bitwise. The autoencoder is
trained with ``fit``, which backs up at the end of each epoch: a kill inside an epoch redoes it.

Each run is a child process that the driver forks after importing TensorFlow, Keras and artlib but
before TensorFlow has run anything (no eager context, no threads of its own), so a child starts
exactly as a fresh process would, without paying the import again for each of the many restarts. A
child tells the driver what it does through a pipe (``restored 4``, ``step``, ``save-begin 6``,
``save-end 6``, ``done``): wrappers, defined in this file, around the public ``training.train_loop``,
``Checkpointer.save``/``restore`` and ``BackupAndRestore``. Nothing in artlib knows about the test.

Two in-process tests cover what a kill just after a checkpoint could lose: the sample grid of
that step, the summary of a finished run, and (were the history written after the checkpoint)
the losses of the steps since the previous one.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import HANG_TIMEOUT, REPO, run_python

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="SIGKILL, SIGSTOP and a fork after importing TensorFlow: tested on Linux")

HERE = Path(__file__).resolve()
KILLS = 5  # per loop, 20 in all: one of them in a restart's start-up, the others in training and saves
LOOPS = ("gan", "autoencoder", "fast_style", "diffusion")
AE_STEPS_PER_EPOCH = 2  # the autoencoder's epochs are short: a backup every 2 steps


# ----------------------------------------------------------------------------- the loops, tiny (child side)
def fingerprint(model) -> str:
    """A number that tells initial weights apart: the sum of the magnitudes of every weight."""
    return repr(float(sum(np.abs(weights).sum() for weights in model.get_weights())))


def train_gan(run_dir: Path, init_seed: int, num_steps: int, emit) -> None:
    """gan.train: 32 bright squares, 2 steps an epoch, a checkpoint and a sample grid every epoch."""
    from test_gan import TINY, tiny_images

    from artlib import gan
    from artlib.gan import run

    build_models = run.build_models

    def from_init_seed(settings):  # the run's seed (in settings.json) stays 0
        generator, discriminator = build_models({**settings, "seed": init_seed})
        emit("initial", fingerprint(generator))
        return generator, discriminator

    run.build_models = from_init_seed
    gan.train(run_dir, gan.GANSettings(**TINY), images=tiny_images(32), num_steps=num_steps, grid_size=4,
              quiet=True)


def train_diffusion(run_dir: Path, init_seed: int, num_steps: int, emit) -> None:
    """diffusion.train: 16 squares, 2 steps an epoch, a checkpoint and a sample grid every epoch.

    The grid is grey here: the real one (20 DDIM steps, traced afresh at every checkpoint) reads
    only the EMA model, never the training state, and would cost more than all the rest.
    """
    import importlib

    from test_diffusion import TINY, tiny_images

    from artlib import diffusion

    module = importlib.import_module("artlib.diffusion.train")  # the package exports the function, not the module
    sampling = importlib.import_module("artlib.diffusion.sampling")
    build_unet = module.build_unet

    def from_init_seed(width, seed=0, name="u"):
        model = build_unet(width, seed=init_seed, name=name)
        emit("initial", fingerprint(model))
        return model

    module.build_unet = from_init_seed
    sampling.ddim_sample = lambda model, n, **options: np.full((n, 28, 28, 1), 0.5, np.float32)
    images, labels = tiny_images(16)
    diffusion.train(run_dir, TINY, images=images, labels=labels, num_steps=num_steps, quiet=True)


def train_fast_style(run_dir: Path, init_seed: int, num_steps: int, emit) -> None:
    """fast_style.train: 32² crops of one photo, a network 4 wide, a checkpoint every step."""
    from test_fast_style import tiny_extractor

    from artlib import fast_style, patterns

    network = fast_style.build_transformer(4, 1, seed=init_seed)  # given seed=: a resumed run keeps its own
    emit("initial", fingerprint(network))
    fast_style.train(patterns.make_pattern("mosaic", 32, seed=0), num_steps=num_steps, run_dir=run_dir,
                     image_size=32, batch_size=2, width=4, num_blocks=1, content=["astronaut"], steps_per_epoch=3,
                     save_every=1, extractor=tiny_extractor(), network=network, seed=init_seed, quiet=True,
                     verbose=False)



def train_autoencoder(run_dir: Path, init_seed: int, num_steps: int, emit) -> None:
    """autoencoder.train (Keras ``fit``): 8×8 images, 2 steps an epoch, a backup every epoch.

    ``fit`` resumes exactly only at its backups, the ends of epochs: a kill inside an epoch
    redoes that epoch. Writes the final model and optimizer to ``<run_dir>.npz``.
    """
    import keras

    from artlib import autoencoder as ae
    from artlib.atomic import atomic_path

    images = (np.random.default_rng(0).random((16, 8, 8, 1)) > 0.5).astype(np.float32)
    keras.utils.set_random_seed(init_seed)  # the initial weights
    model = ae.build_denoiser((8, 8, 1), filters=2, depth=1)
    emit("initial", fingerprint(model))
    steps = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: emit("step"))
    ae.train(model, images, num_epochs=num_steps // AE_STEPS_PER_EPOCH, batch_size=8,
             steps_per_epoch=AE_STEPS_PER_EPOCH, steps_per_execution=1, seed=0, run_dir=run_dir, verbose=0,
             extra_callbacks=[steps])
    with atomic_path(run_dir.with_suffix(".npz")) as tmp:
        np.savez(tmp, *[v.numpy() for v in [*model.variables, *model.optimizer.variables]])


# ----------------------------------------------------------------------------- instrumentation (child side)
def instrument(emit) -> None:
    """Make the shared machinery report steps, saves and restores through ``emit(kind, value)``."""
    from artlib import training
    from artlib.training import BackupAndRestore, Checkpointer

    save, restore, train_loop = Checkpointer.save, Checkpointer.restore, training.train_loop
    backup, restore_backup = BackupAndRestore.on_epoch_end, BackupAndRestore.restore

    def saving(self):
        emit("save-begin", int(self.step.numpy()))
        path = save(self)
        emit("save-end", int(self.step.numpy()))
        return path

    def restoring(self, path=None):
        step = restore(self, path)
        emit("restored", step)
        return step

    def counting_loop(step_fn, *args, **kwargs):
        def step(batch):
            losses = step_fn(batch)
            emit("step")
            return losses

        return train_loop(step, *args, **kwargs)

    def backing_up(self, epoch, logs=None):
        emit("save-begin", (epoch + 1) * AE_STEPS_PER_EPOCH)
        backup(self, epoch, logs)
        emit("save-end", (epoch + 1) * AE_STEPS_PER_EPOCH)

    def restoring_backup(self, model):
        epoch = restore_backup(self, model)
        emit("restored", epoch * AE_STEPS_PER_EPOCH)
        return epoch

    Checkpointer.save, Checkpointer.restore, training.train_loop = saving, restoring, counting_loop
    BackupAndRestore.on_epoch_end, BackupAndRestore.restore = backing_up, restoring_backup


def final_state(run_dir: Path) -> None:
    """Write every tensor of ``run_dir``'s newest checkpoint to ``<run_dir>.npz`` (the step's save counter aside)."""
    import tensorflow as tf

    from artlib.atomic import atomic_path

    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(run_dir / "checkpoints")))
    tensors = {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
               if "OBJECT_GRAPH" not in name and not name.startswith("save_counter")}
    with atomic_path(run_dir.with_suffix(".npz")) as tmp:
        np.savez(tmp, **tensors)


def child(loop: str, run_dir: Path, init_seed: int, num_steps: int, fd: int) -> None:
    """The body of one forked run: train (or resume) ``run_dir``, report through ``fd``, exit."""
    code = 1

    def emit(kind: str, value: object = "") -> None:
        os.write(fd, f"{kind} {value}\n".encode())  # one short write: atomic on a pipe

    try:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
        instrument(emit)
        globals()[f"train_{loop}"](run_dir, init_seed, num_steps, emit)
        if loop != "autoencoder":  # that one wrote its model and optimizer itself
            final_state(run_dir)
        emit("done")
        code = 0
    except BaseException as err:  # noqa: BLE001  (report anything, then exit without unwinding into the driver)
        import traceback

        traceback.print_exc()
        emit("error", repr(err).replace("\n", " ")[:300])
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


# ----------------------------------------------------------------------------- the driver
class Child:
    """A forked run of ``loop`` and the events it reported, each as ``(seconds since the fork, kind, value)``."""

    def __init__(self, loop: str, run_dir: Path, init_seed: int, num_steps: int) -> None:
        read, write = os.pipe()
        self.start = time.monotonic()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns
            os.close(read)
            child(loop, run_dir, init_seed, num_steps, write)
        os.close(write)
        self.fd, self.events, self._pending, self.status = read, [], b"", None

    def _read(self, timeout: float) -> bool:
        """Read what the child wrote within ``timeout`` seconds; False once it has closed the pipe."""
        if not select.select([self.fd], [], [], max(timeout, 0))[0]:
            return True
        data = os.read(self.fd, 65536)
        now = time.monotonic() - self.start
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            kind, _, value = line.decode().partition(" ")
            self.events.append((now, kind, value))
        return bool(data)

    def count(self, kind: str) -> int:
        return sum(1 for _, k, _ in self.events if k == kind)

    def first(self, kind: str) -> str | None:
        """The value of the first ``kind`` event, or None."""
        return next((v for _, k, v in self.events if k == kind), None)

    def wait_for(self, kind: str, number: int = 1) -> bool:
        """Read until the child has reported ``kind`` ``number`` times (True) or has ended (False)."""
        deadline = time.monotonic() + HANG_TIMEOUT
        while self.count(kind) < number:
            if self.count("error") or not self._read(deadline - time.monotonic()):
                return False
            assert time.monotonic() < deadline, f"hung: {self.events[-5:]}"
        return True

    def drain(self) -> None:
        """Read everything the child has written so far, without waiting."""
        while select.select([self.fd], [], [], 0)[0] and self._read(0):
            pass

    def sleep(self, seconds: float, until: str | None = None) -> None:
        """Wait ``seconds`` (or until the child reports ``until``), reading what it reports."""
        end, seen = time.monotonic() + seconds, self.count(until) if until else None
        while time.monotonic() < end and self._read(end - time.monotonic()):
            if until and self.count(until) > seen:
                break

    def freeze(self, number: int) -> bool:
        """SIGSTOP the child; True if it is frozen inside its ``number``-th save, else let it go on (SIGCONT)."""
        os.kill(self.pid, signal.SIGSTOP)
        self.drain()  # what it wrote before it stopped
        if self.count("save-end") < number:
            return True
        os.kill(self.pid, signal.SIGCONT)
        return False

    def end(self, kill: bool) -> None:
        """SIGKILL the child (or let it finish), reap it and read everything it wrote before it died."""
        if kill:
            os.kill(self.pid, signal.SIGKILL)
        while self._read(HANG_TIMEOUT):  # until the pipe closes: the child has ended
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        self.status = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def phase(events: list) -> tuple[str, int | None]:
    """Where a run was when it died: ``"start-up"``, ``"training"`` or ``"save"`` (and the step being saved)."""
    begun = [int(v) for _, k, v in events if k == "save-begin"]
    ended = [int(v) for _, k, v in events if k == "save-end"]
    if len(begun) > len(ended):
        return "save", begun[-1]
    return ("training" if any(k == "step" for _, k, _ in events) else "start-up"), None


def leftovers(run_dir: Path) -> list[str]:
    """Temporary files and folders a killed save left behind (atomic.py's ``.NAME-*.tmp*``, TensorFlow's ``*_temp``)."""
    return sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if ".tmp" in p.name or "_temp" in p.name)


def kill_in_a_save(run: Child, first: int, rng: random.Random, save_time: float) -> float:
    """Stop the child at a random moment inside a save (the ``first``-th or a later one) for the caller to kill.

    At each save from the ``first``-th on: wait a random part of ``save_time`` after it began, freeze
    the child (SIGSTOP) and read what it reported before that; if the save had not ended, it is
    frozen inside it (the caller's SIGKILL lands there), otherwise let it go on (SIGCONT) to the next.

    Returns:
        Seconds from the save's start to the freeze.
    """
    for number in range(first, first + 10):
        assert run.wait_for("save-begin", number), run.events[-5:]
        delay = rng.uniform(0, save_time)
        run.sleep(delay)
        if run.freeze(number):
            return delay
    raise AssertionError(f"ten saves ended before the child could be stopped inside one: {run.events[-6:]}")


def temporary(run_dir: Path) -> set[str]:
    """Temporary files of checkpoints (in TensorFlow's ``ckpt-N_temp/``) and backups (``.tmp-epoch-N.weights.h5``)."""
    found = set()
    for folder, _, names in [*os.walk(run_dir / "checkpoints"), *os.walk(run_dir / "backup")]:
        found.update(os.path.join(folder, name) for name in names
                     if folder.endswith("_temp") or name.startswith(".tmp"))
    return found


def kill_while_writing(run: Child, run_dir: Path, first: int, tries: int = 3) -> float | None:
    """Watch saves ``first`` … ``first + tries - 1`` and freeze the child as soon as one has files half-written.

    Returns:
        Seconds from that save's start to the freeze (the caller then kills it), or None if none was caught
        (a small model's files take a millisecond or so to write).
    """
    for number in range(first, first + tries):
        assert run.wait_for("save-begin", number), run.events[-5:]
        began, stale = time.monotonic(), temporary(run_dir)  # left by killed saves: they do not count
        while run.count("save-end") < number:
            if temporary(run_dir) - stale and run.freeze(number):
                return time.monotonic() - began
            run.sleep(0.0002)
    return None


#: What each loop's children import: imported once by the driver, before it forks them.
IMPORTS = {"gan": ("artlib.gan", "artlib.gan.run", "test_gan"),
           "autoencoder": ("artlib.autoencoder",),
           "fast_style": ("artlib.fast_style", "artlib.patterns", "test_fast_style"),
           "diffusion": ("artlib.diffusion", "artlib.diffusion.train", "artlib.diffusion.sampling", "test_diffusion")}

#: Steps to train up to: enough that every kill of the plan lands before the end.
NUM_STEPS = {"gan": 30, "autoencoder": 30, "fast_style": 20, "diffusion": 30}


def drive(loop: str, out: Path) -> None:
    """The reference run, then :data:`KILLS` killed runs and the last one; ``out/report.json`` says what happened."""
    import importlib

    from artlib import training

    for module in ("keras", "artlib.atomic", *IMPORTS[loop]):  # before the forks: no child pays for them
        importlib.import_module(module)  # (importing runs nothing in TensorFlow)
    rng, num_steps = random.Random(f"kill {loop}"), NUM_STEPS[loop]
    reference = Child(loop, out / "straight", 0, num_steps)
    reference.end(kill=False)
    assert reference.status == 0 and reference.count("done"), reference.events[-3:]
    times = {kind: [t for t, k, _ in reference.events if k == kind] for kind in ("step", "save-begin", "save-end")}
    timing = {"start-up": times["step"][0], "step": float(np.median(np.diff(times["step"]))),
              "save": float(np.median(np.subtract(times["save-end"], times["save-begin"])))}
    plan = ["training", "save", "start-up", "write", "save"]
    assert len(plan) == KILLS
    kills, last_good, pending = [], 0, None  # the newest finished checkpoint; the one being saved at the kill
    for number, aim in enumerate(plan):
        # The run starts as the reference did; each restart builds its models from another seed.
        before = temporary(out / "killed")
        run = Child(loop, out / "killed", 100 + number if number else 0, num_steps)
        assert run.wait_for("save-end" if number == 0 else "restored"), run.events  # a first checkpoint to go on from
        if aim == "start-up":
            delay = rng.uniform(0, timing["start-up"])
            run.sleep(delay - (time.monotonic() - run.start), until="step")  # this one may start up faster
        elif aim == "save":
            delay = kill_in_a_save(run, rng.randint(2, 3), rng, timing["save"])
        elif aim == "write":
            delay = kill_while_writing(run, out / "killed", 2)
            if delay is None:
                delay = kill_in_a_save(run, 5, rng, timing["save"])
        else:
            assert run.wait_for("step", rng.randint(1, 4)), run.events
            delay = rng.uniform(0, timing["step"])
            run.sleep(delay)
        run.end(kill=True)
        where, saving = phase(run.events)
        restored = int(run.first("restored"))
        half_written = sorted(os.path.relpath(path, out / "killed") for path in temporary(out / "killed") - before)
        kills.append({"aim": aim, "delay": delay, "phase": where, "status": run.status, "restored": restored,
                      "last_good": last_good, "pending": pending, "initial": run.first("initial"),
                      "steps": run.count("step"), "last_event": run.events[-1][1:],
                      "half_written": half_written,
                      "lock_file_left": (out / "killed" / training.LOCK_FILE).exists()})
        last_good = max([last_good, restored, *[int(v) for _, k, v in run.events if k == "save-end"]])
        pending = saving
    final = Child(loop, out / "killed", 100 + KILLS, num_steps)
    final.end(kill=False)
    assert final.status == 0 and final.count("done"), final.events[-3:]
    report = {"loop": loop, "num_steps": num_steps, "timing": timing, "initial": reference.first("initial"),
              "kills": kills, "final": {"restored": int(final.first("restored")), "initial": final.first("initial"),
                                        "last_good": last_good, "pending": pending, "steps": final.count("step")},
              "leftovers": leftovers(out / "killed"), "reference_events": reference.events}
    (out / "report.json").write_text(json.dumps(report, indent=1))


# ----------------------------------------------------------------------------- the test
def unreadable(run_dir: Path) -> list[str]:
    """Files under ``run_dir`` (temporary ones aside) that do not read back whole: JSON, pictures, ``.keras``."""
    import zipfile

    from PIL import Image

    bad = []
    for path in run_dir.rglob("*"):
        if not path.is_file() or ".tmp" in path.name or "_temp" in str(path):
            continue
        try:
            if path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix in (".png", ".gif"):
                with Image.open(path) as image:
                    image.load()
            elif path.suffix == ".keras":
                with zipfile.ZipFile(path) as archive:
                    assert archive.testzip() is None
        except Exception as err:  # noqa: BLE001  (any failure to read is the finding)
            bad.append(f"{path.relative_to(run_dir)}: {err!r}")
    return bad


@pytest.mark.slow
@pytest.mark.parametrize("loop", LOOPS)
def test_killed_at_random_moments_it_resumes_and_ends_bitwise_like_an_uninterrupted_run(loop, tmp_path):
    run_python(HERE, loop, tmp_path, env={"TF_CPP_MIN_LOG_LEVEL": "2"}, check=True)
    report = json.loads((tmp_path / "report.json").read_text())
    kills, final = report["kills"], report["final"]
    assert [kill["status"] for kill in kills] == [-signal.SIGKILL] * KILLS  # each was killed, none had finished
    assert sum(kill["phase"] != "start-up" for kill in kills) >= 4  # in training or in a save, not in start-up
    assert sum(kill["phase"] == "save" for kill in kills) >= 3  # inside Checkpointer.save or BackupAndRestore
    assert any(kill["lock_file_left"] for kill in kills)  # the dead run's lock file stayed: it stopped nobody
    # Every restart resumed from the newest checkpoint whose save had finished (or the one being
    # saved, if only the event was missed): never an older one, never a half-written one.
    for restart in [*kills[1:], final]:
        assert restart["restored"] in (restart["last_good"], restart["pending"]), restart
    assert final["restored"] > 0 and final["steps"] == report["num_steps"] - final["restored"]
    # ... from other initial weights each time, so a restart that ignored its checkpoint would end elsewhere,
    starts = [kill["initial"] for kill in kills[1:]] + [final["initial"]]
    assert len({report["initial"], *starts}) == len(starts) + 1 and kills[0]["initial"] == report["initial"]
    # ... and it ended bitwise where the uninterrupted run ended: weights, optimizers, random-number states,
    with np.load(tmp_path / "straight.npz") as straight, np.load(tmp_path / "killed.npz") as killed:
        assert sorted(killed.files) == sorted(straight.files) and len(straight.files) >= 8
        for name in straight.files:
            np.testing.assert_array_equal(killed[name], straight[name], err_msg=name)
    # ... with the whole history of losses and every sample grid, nothing lost, nothing half-written.
    run, reference = tmp_path / "killed", tmp_path / "straight"
    assert json.loads((run / "history.json").read_text()) == json.loads((reference / "history.json").read_text())
    grids = sorted(p.name for p in (reference / "samples").glob("*.png"))
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == grids and (grids or loop == "autoencoder")
    assert all((run / "samples" / name).read_bytes() == (reference / "samples" / name).read_bytes() for name in grids)
    assert unreadable(run) == [] and not (run / ".lock").exists() and report["leftovers"] == []


# ----------------------------------------------------------------------------- between a checkpoint and its outputs
def tiny_loop(run_dir: Path, num_steps: int, seed: int = 0, grid_hook=lambda: None):
    """train_loop on test_training's tiny model: a checkpoint and a grid (the model's outputs) every 2 steps."""
    from test_training import tiny_data, tiny_training

    from artlib.training import shuffled_batches, train_loop

    model, optimizer, noise, step = tiny_training(seed)
    data = tiny_data()

    def grid():
        grid_hook()
        return np.clip(model(data[:4]).numpy(), 0, 1).reshape(4, 2, 2)  # 4 pictures of 2×2 pixels

    return train_loop(step, lambda epoch: shuffled_batches(data, 8, seed=epoch), num_steps=num_steps, run_dir=run_dir,
                      state={"model": model, "optimizer": optimizer, "noise": noise}, save_every=2,
                      sample_fn=grid, quiet=True)


def files(run_dir: Path) -> dict[str, bytes]:
    """The grids, the history and the animation of a run, by name."""
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in run_dir.rglob("*")
            if p.is_file() and (p.suffix == ".png" and p.parent.name == "samples" or p.name in ("history.json",
                                                                                               "samples.gif"))}


def test_a_kill_after_a_checkpoint_before_its_grid_or_summary_loses_neither(tmp_path):
    tiny_loop(tmp_path / "straight", 6)
    grids = iter(range(100))

    def killed_at_the_second_grid():  # just after ckpt-4 was written
        if next(grids) == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tiny_loop(tmp_path / "run", 6, grid_hook=killed_at_the_second_grid)
    assert not (tmp_path / "run" / "samples" / "step-000004.png").exists()
    resumed = tiny_loop(tmp_path / "run", 6, seed=1)  # other initial weights: it must restore ckpt-4
    assert resumed["step"] == [5, 6]
    assert files(tmp_path / "run") == files(tmp_path / "straight")  # the grid of step 4 drawn from ckpt-4
    for name in ("samples.gif", "losses.png"):  # a kill in the last call's summary
        (tmp_path / "run" / name).unlink()
    assert tiny_loop(tmp_path / "run", 6, seed=2)["step"] == []  # nothing to train, but made whole again
    assert files(tmp_path / "run") == files(tmp_path / "straight") and (tmp_path / "run" / "losses.png").exists()


def test_a_kill_between_the_history_and_the_checkpoint_loses_no_losses(tmp_path, monkeypatch):
    from artlib.training import RunDir

    tiny_loop(tmp_path / "straight", 6)
    merge = RunDir.merge_history

    def killed_at_step_4(self, new, **options):
        if new.get("step", [0])[-1] == 4:
            raise KeyboardInterrupt
        return merge(self, new, **options)

    monkeypatch.setattr(RunDir, "merge_history", killed_at_step_4)
    with pytest.raises(KeyboardInterrupt):
        tiny_loop(tmp_path / "run", 6)
    monkeypatch.undo()
    # The history goes first, so ckpt-4 was never written and steps 3 and 4 are redone:
    assert tiny_loop(tmp_path / "run", 6, seed=1)["step"] == [3, 4, 5, 6]
    assert files(tmp_path / "run")["history.json"] == files(tmp_path / "straight")["history.json"]



def test_a_kill_while_the_feature_weights_are_written_leaves_the_previous_file(tmp_path, monkeypatch):
    from test_fast_style import tiny_extractor

    extractor = tiny_extractor()
    path = extractor.save_weights(tmp_path / "vgg.weights.h5")
    before = path.read_bytes()

    def killed_halfway(self, filepath, *args, **kwargs):
        assert str(filepath).endswith(".weights.h5")  # Keras insists on the name, temporary files too
        Path(filepath).write_bytes(before[: len(before) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(type(extractor.vgg), "save_weights", killed_halfway)
    with pytest.raises(KeyboardInterrupt):
        extractor.save_weights(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    drive(sys.argv[1], Path(sys.argv[2]))
