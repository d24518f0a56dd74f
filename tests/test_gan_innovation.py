"""Tests for the GAN variants of notebook 09: a creative adversarial network, GANs on some classes, fine-tuning.

The class losses are checked against NumPy, one creative step against what it must change,
the settings against values that make no sense, fine-tuning against the run it starts from
(FreezeD keeps the frozen convolutions exactly), the command line against bad input, and
exact resume of a fine-tuning run that starts from a creative run (in a subprocess, as op
determinism is process-wide).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, run_python
from test_gan import TINY, tiny_images, tiny_train

HERE = Path(__file__).resolve()
LABELS = np.arange(48) % 10  # tiny_train's labels: 4-5 images of each class


def test_class_losses_match_numpy():
    from artlib import gan

    logits = np.array([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0], [-3.0, 4.0, 1.0]], np.float32)
    labels = np.array([0, 2, 1])
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))  # log softmax
    np.testing.assert_allclose(float(gan.class_loss(logits, labels)), -log_p[np.arange(3), labels].mean(), rtol=1e-5)
    np.testing.assert_allclose(float(gan.style_ambiguity_loss(logits)), -log_p.mean(), rtol=1e-5)
    # Smallest, ln K, where the class cannot be told: equal logits.
    np.testing.assert_allclose(float(gan.style_ambiguity_loss(np.zeros((2, 10), np.float32))), np.log(10), rtol=1e-6)
    assert float(gan.style_ambiguity_loss(np.eye(10, dtype=np.float32) * 8)) > np.log(10) + 1


def test_a_creative_step_trains_the_class_head_and_pays_for_clear_classes():
    import keras

    from artlib import gan

    generator = gan.build_generator(8, width=8)
    discriminator = gan.build_discriminator(width=8, class_head=True)
    assert gan.has_class_head(discriminator) and not gan.has_class_head(gan.build_discriminator(width=8))
    assert [tuple(o.shape) for o in discriminator.outputs] == [(None, 1), (None, 10)]
    images = tiny_images(8).astype(np.float32)[..., None] / 127.5 - 1.0
    heads = {}
    for weight in (0.0, 5.0):
        keras.utils.set_random_seed(0)
        g, d = gan.build_generator(8, width=8), gan.build_discriminator(width=8, class_head=True)
        before = [v.numpy().copy() for v in g.trainable_variables + d.trainable_variables]
        losses = gan.gan_step(g, d, keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), (images, LABELS[:8]),
                              keras.random.SeedGenerator(0), creative_weight=weight)
        assert set(losses) == {"d_loss", "g_loss", "d_real", "d_fake", "d_class", "ambiguity", "creative_weight"}
        assert float(losses["creative_weight"]) == weight
        assert float(losses["ambiguity"]) >= np.log(10) - 1e-5 and float(losses["d_class"]) > 0
        changed = [v for v, old in zip(g.trainable_variables + d.trainable_variables, before)
                   if not np.array_equal(old, v.numpy())]
        assert any(v in changed for v in g.trainable_variables)
        assert any("class_logits" in v.path for v in changed)  # the class head learns from the real labels
        heads[weight] = [v.numpy() for v in g.trainable_variables]
    # The weight reaches the generator: same start, same batch, other generator update.
    assert any(not np.allclose(a, b) for a, b in zip(heads[0.0], heads[5.0]))
    with pytest.raises(ValueError, match="labelled images"):
        gan.gan_step(generator, discriminator, keras.optimizers.Adam(), keras.optimizers.Adam(), images,
                     keras.random.SeedGenerator(0))


def test_the_creative_weight_warms_up_linearly():
    import keras

    from artlib import gan

    g, d = gan.build_generator(8, width=8), gan.build_discriminator(width=8, class_head=True)
    g_optimizer, d_optimizer = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    g_optimizer.build(g.trainable_variables)  # as gan.train does: the step is traced once, not twice
    d_optimizer.build(d.trainable_variables)
    step = gan.make_train_step(g, d, g_optimizer, d_optimizer, keras.random.SeedGenerator(0), creative_weight=2.0,
                               creative_warmup=4)
    images = tiny_images(8).astype(np.float32)[..., None] / 127.5 - 1.0
    weights = [float(step((images, LABELS[:8]))["creative_weight"]) for _ in range(6)]
    np.testing.assert_allclose(weights, [0.0, 0.5, 1.0, 1.5, 2.0, 2.0])


def test_the_creative_weight_can_start_late():
    import keras

    from artlib import gan

    images = tiny_images(8).astype(np.float32)[..., None] / 127.5 - 1.0
    for warmup, expected in ((2, [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 2.0]), (0, [0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0])):
        g, d = gan.build_generator(8, width=8), gan.build_discriminator(width=8, class_head=True)
        g_optimizer, d_optimizer = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
        g_optimizer.build(g.trainable_variables)
        d_optimizer.build(d.trainable_variables)
        step = gan.make_train_step(g, d, g_optimizer, d_optimizer, keras.random.SeedGenerator(0),
                                   creative_weight=2.0, creative_warmup=warmup, creative_start=3)
        weights = [float(step((images, LABELS[:8]))["creative_weight"]) for _ in range(7)]
        np.testing.assert_allclose(weights, expected)


def test_settings_of_the_variants_are_checked():
    from artlib import gan
    from artlib.errors import ArtlibError

    assert gan.GANSettings(classes=(3, 1))["classes"] == [1, 3]
    assert gan.GANSettings(classes=["ankle boot", "sneaker"])["classes"] == [7, 9]  # names, as on the command line
    for bad, message in (({"classes": []}, "non-empty list of Fashion-MNIST classes"),
                         ({"classes": [1, 1]}, "different Fashion-MNIST classes"),
                         ({"classes": ["top", 0]}, "different Fashion-MNIST classes"),
                         ({"classes": [10]}, "unknown Fashion-MNIST class 10"),
                         ({"classes": 3}, "non-empty list of Fashion-MNIST classes"),
                         ({"creative_weight": -1.0}, "creative_weight must be a number ≥ 0"),
                         ({"creative_warmup": -5}, "creative_warmup must be a whole number of steps ≥ 0"),
                         ({"creative_start": 1.5}, "creative_start must be a whole number of steps ≥ 0"),
                         ({"creative_weight": 1.0, "conditional": True}, "unconditional"),
                         ({"freeze_d": 3, "init_from": "x"}, "freeze_d must be a whole number from 0 to 2"),
                         ({"freeze_d": 1}, "also give init_from")):
        with pytest.raises(ArtlibError, match=message):
            gan.GANSettings(**bad)


def test_a_gan_on_some_classes_sees_only_their_images(tmp_path):
    from artlib.errors import DataError

    from artlib import gan

    settings = gan.GANSettings(**TINY, classes=[3], num_images=6)
    with pytest.raises(DataError, match=r"only 5 training images of classes \[3\]"):
        gan.train(tmp_path / "few", settings, images=tiny_images(48), labels=LABELS, num_steps=2, quiet=True)
    settings = gan.GANSettings(**{**TINY, "classes": [3, 4], "num_images": 8, "batch_size": 4})
    result = gan.train(tmp_path / "two", settings, images=tiny_images(48), labels=LABELS, num_steps=2, quiet=True)
    assert result.final_step == 2 and (tmp_path / "two" / "discriminator.keras").is_file()


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    """A tiny creative GAN on classes 0-8, the run fine-tuning starts from."""
    run_dir = tmp_path_factory.mktemp("innovation") / "nine"
    tiny_train(run_dir, 3, classes=list(range(9)), creative_weight=1.0, batch_size=8)
    return run_dir


def _finetune(run_dir, source, num_steps=2, **kwargs):
    from artlib import gan

    return gan.finetune(run_dir, source, 9, num_images=4, num_steps=num_steps, images=tiny_images(48),
                        labels=LABELS, quiet=True, **kwargs)


def test_finetuning_starts_from_the_run_and_freezed_keeps_the_first_convolution(source_run, tmp_path):
    import keras

    from artlib import gan

    source_d = keras.saving.load_model(source_run / "discriminator.keras", safe_mode=True)
    source_g = keras.saving.load_model(source_run / "generator.keras", safe_mode=True)
    _finetune(tmp_path / "frozen", source_run, freeze_d=1)
    settings = gan.load_settings(tmp_path / "frozen")
    assert settings["classes"] == [9] and settings["num_images"] == 4 and settings["batch_size"] == 4
    assert settings["init_from"] == str(source_run.resolve()) and settings["creative_weight"] == 1.0
    tuned_d = keras.saving.load_model(tmp_path / "frozen" / "discriminator.keras", safe_mode=True)
    convs = [(a, b) for a, b in zip(source_d.layers, tuned_d.layers) if isinstance(a, keras.layers.Conv2D)]
    np.testing.assert_array_equal(convs[0][0].kernel.numpy(), convs[0][1].kernel.numpy())  # frozen
    assert not np.array_equal(convs[1][0].kernel.numpy(), convs[1][1].kernel.numpy())  # trained
    # Both networks started from the source: 2 small Adam steps move weights by ≤ 2·lr each.
    tuned_g = gan.load_generator(tmp_path / "frozen")
    for a, b in zip(source_g.trainable_weights, tuned_g.trainable_weights):
        assert np.max(np.abs(a.numpy() - b.numpy())) <= 2.5 * TINY.get("learning_rate", 2e-4) + 1e-6, a.path
    _finetune(tmp_path / "free", source_run, freeze_d=0)
    free_d = keras.saving.load_model(tmp_path / "free" / "discriminator.keras", safe_mode=True)
    first = [layer for layer in free_d.layers if isinstance(layer, keras.layers.Conv2D)][0]
    assert not np.array_equal(first.kernel.numpy(), convs[0][0].kernel.numpy())  # not frozen: trained


def test_finetuning_from_the_saved_networks_of_a_folder_without_checkpoints(source_run, tmp_path):
    import shutil

    from artlib import gan

    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for name in ("settings.json", "generator.keras", "discriminator.keras"):
        shutil.copy(source_run / name, shipped / name)
    _finetune(tmp_path / "a", shipped, num_steps=1)
    _finetune(tmp_path / "b", source_run, num_steps=1)  # from the checkpoint: the same weights
    for a, b in zip(gan.load_generator(tmp_path / "a").weights, gan.load_generator(tmp_path / "b").weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_finetuning_refuses_what_it_cannot_start_from(source_run, tmp_path):
    from artlib.errors import ArtlibError, CheckpointError, DataError

    with pytest.raises(CheckpointError, match="not a GAN run directory"):
        _finetune(tmp_path / "x", tmp_path / "nothing")
    other = tmp_path / "diffusion"
    other.mkdir()
    (other / "settings.json").write_text(json.dumps({"width": 32, "num_timesteps": 1000}))
    with pytest.raises(CheckpointError, match="not a valid GAN settings file"):
        _finetune(tmp_path / "x", other)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "settings.json").write_text(json.dumps(dict(TINY)))
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        _finetune(tmp_path / "x", empty)
    from artlib import gan

    with pytest.raises(DataError, match="num_images is 50 but only 4"):
        gan.finetune(tmp_path / "x", source_run, 9, num_images=50, images=tiny_images(48), labels=LABELS, quiet=True)
    with pytest.raises(ArtlibError, match="unknown Fashion-MNIST class 12"):
        gan.finetune(tmp_path / "x", source_run, 12, images=tiny_images(48), labels=LABELS, quiet=True)
    assert not (tmp_path / "x").exists()  # refused before anything was written


def test_a_run_directory_from_before_the_new_settings_resumes(tmp_path):
    run = tmp_path / "old"
    tiny_train(run, 2)
    settings = json.loads((run / "settings.json").read_text())
    old = {k: v for k, v in settings.items()
           if k not in ("classes", "creative_weight", "creative_warmup", "init_from", "freeze_d")}
    (run / "settings.json").write_text(json.dumps(old))  # as an earlier artlib wrote it
    assert tiny_train(run, 3)["step"] == [3]  # resumed, not refused and not started over


def test_cli_finetune_and_creative_train(source_run, tmp_path, capsys):
    from artlib.__main__ import main

    cases = [
        (["gan", "finetune", "--from-run-dir", str(source_run), "--target-class", "12", "--run-dir", "x"],
         "unknown Fashion-MNIST class 12;"),
        (["gan", "finetune", "--from-run-dir", str(source_run), "--target-class", "9", "--images", "0",
          "--run-dir", "x"], "at least 1"),
        (["gan", "finetune", "--from-run-dir", str(tmp_path / "none"), "--target-class", "9",
          "--run-dir", str(tmp_path / "y")], "not a GAN run directory"),
        (["gan", "finetune", "--from-run-dir", str(source_run), "--target-class", "9", "--images", "100000",
          "--run-dir", str(tmp_path / "z")], "num_images is 100000 but only"),
        (["gan", "train", "--creative-weight", "-1", "--run-dir", "x"], "at least 0"),
        (["gan", "train", "--creative-start", "-3", "--run-dir", "x"], "--creative-start"),
        (["gan", "train", "--creative-weight", "1", "--conditional", "--run-dir", str(tmp_path / "c")],
         "unconditional"),
        (["gan", "train", "--classes", "3", "3", "--run-dir", str(tmp_path / "d")], "different Fashion-MNIST"),
    ]
    for argv, message in cases:
        try:
            code = main(argv)
        except SystemExit as exit:  # argparse's own checks
            code = exit.code
        err = capsys.readouterr().err
        assert code == 2 and message in err and err.count("\n") == 1, (argv, code, err)
    # gan sample reads a creative run (and a fine-tuned one) like any other.
    assert main(["gan", "sample", "--run-dir", str(source_run), "-n", "5", "-o", str(tmp_path / "s.npz")]) == 0
    assert np.load(tmp_path / "s.npz")["images"].shape == (5, 28, 28)


def test_the_experiments_train_every_variant_and_measure_them_alike(source_run, tmp_path):
    from artlib import gan
    from artlib.errors import ArtlibError, DataError

    sweep = gan.creative_sweep(tmp_path / "creative", [0, 2.5], settings={**TINY, "batch_size": 8}, num_steps=1,
                               images=tiny_images(48), labels=LABELS, quiet=True)
    assert list(sweep) == [0.0, 2.5] and sweep[2.5].name == "creative-2.5"
    assert [gan.load_settings(d)["creative_weight"] for d in sweep.values()] == [0.0, 2.5]
    assert gan.shipped_creative_runs(tmp_path / "creative") == sweep
    runs = gan.finetune_variants(tmp_path / "transfer", source_run, 9, num_images=4, num_steps=1,
                                 images=tiny_images(48), labels=LABELS, quiet=True)
    assert list(runs) == list(gan.FINETUNE_VARIANTS)
    settings = {name: gan.load_settings(d) for name, d in runs.items()}
    assert settings["from scratch"]["init_from"] is None and settings["fine-tuned, FreezeD"]["freeze_d"] == 1
    assert all(s["classes"] == [9] and s["num_images"] == 4 for s in settings.values())
    reports = gan.measure_runs({**runs, "creative": sweep[2.5]}, tiny_images(48), reference_images=tiny_images(20, 1),
                               num_samples=6)
    for report in reports.values():
        assert report["samples"].shape == (6, 28, 28) and np.isfinite(report["frechet"])
    np.testing.assert_array_equal(reports["from scratch"]["samples"],  # measure_runs samples with its seed
                                  gan.sample(gan.load_generator(runs["from scratch"]), 6, seed=0))
    with pytest.raises(ArtlibError, match="at least one weight"):
        gan.creative_sweep(tmp_path / "none", [], num_steps=1)
    with pytest.raises(DataError, match="no creative-<weight> runs"):
        gan.shipped_creative_runs(tmp_path / "transfer")


def test_the_shipped_runs_of_notebook_09_load():
    from artlib import gan

    nine = gan.load_settings(gan.INNOVATION_DIR / "nine")
    assert nine["classes"] == list(range(9)) and (gan.INNOVATION_DIR / "nine" / "discriminator.keras").is_file()
    sweep = gan.shipped_creative_runs()
    assert list(sweep) == [0.0, 0.01, 0.03, 0.1, 1.0]
    for weight, run_dir in sweep.items():
        settings = gan.load_settings(run_dir)
        assert settings["creative_weight"] == weight and settings["width"] == nine["width"]
        assert gan.sample(gan.load_generator(run_dir), 2).shape == (2, 28, 28)


# ----------------------------------------------------------------------------- exact resume
def scenario_finetune_resume(out: Path) -> None:
    """Fine-tune a creative run 5 steps straight; and 2 steps, then on to 5 from other weights."""
    import tensorflow as tf

    from artlib import training
    from artlib.gan import run

    tf.config.experimental.enable_op_determinism()
    tiny_train(out / "source", 3, classes=list(range(9)), creative_weight=1.0, batch_size=8)
    _finetune(out / "straight", out / "source", num_steps=5, freeze_d=1)
    _finetune(out / "resumed", out / "source", num_steps=2, freeze_d=1)
    # The restart neither starts from the source nor from the same seed: only the checkpoint can make it match.
    build_models, train_loop, calls = run.build_models, training.train_loop, []
    run.build_models = lambda settings: build_models({**settings, "seed": int(settings["seed"]) + 99})
    run._start_from = lambda *args: None

    def recorded_train_loop(*args, **kwargs):
        result = train_loop(*args, **kwargs)
        calls.append(result["step"])
        return result

    training.train_loop = recorded_train_loop
    _finetune(out / "resumed", out / "source", num_steps=5, freeze_d=1)
    (out / "calls.json").write_text(json.dumps(calls))


def test_a_finetuning_run_resumes_exactly(tmp_path):
    from test_gan import _checkpoint_tensors

    run_python(HERE, "finetune-resume", tmp_path, env={"TF_CPP_MIN_LOG_LEVEL": "2"}, check=True)
    straight = _checkpoint_tensors(tmp_path / "straight", 5)
    resumed = _checkpoint_tensors(tmp_path / "resumed", 5)
    assert set(straight) == set(resumed) and len(straight) > 20
    assert json.loads((tmp_path / "resumed" / "settings.json").read_text())["creative_weight"] == 1.0
    for name in straight:
        if not name.startswith("save_counter"):
            np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)
    early = _checkpoint_tensors(tmp_path / "resumed", 2)  # the test can fail: step 2 differs from step 5
    assert any(not np.array_equal(early[n], straight[n]) for n in straight if n.startswith("generator/"))
    assert json.loads((tmp_path / "calls.json").read_text()) == [[3, 4, 5]]


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(HERE.parent))
    {"finetune-resume": scenario_finetune_resume}[sys.argv[1]](Path(sys.argv[2]))
