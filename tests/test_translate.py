"""Tests for artlib.translate: classes and settings, each loss against NumPy, the networks, one step, a run,
save/load in safe mode, the measures, exact resume, and the command line on good and bad input.

Networks are 4 channels wide and train on two made-up "classes" (bright squares and bright bars).
Exact resume needs op determinism, which is process-wide, so that scenario runs this file as a script
in a subprocess (``python tests/test_translate.py resume DIR``), as tests/test_gan.py does.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, run_python

from artlib.errors import ArtlibError, CheckpointError, DataError, ImageError

HERE = Path(__file__).resolve()
TINY = {"classes": [7, 9], "width": 4, "num_blocks": 1, "disc_width": 4, "batch_size": 4}


def tiny_images(n: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (n, 28, 28): squares labelled 7 (first half) and horizontal bars labelled 9 (second half)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    labels = np.repeat(np.array([7, 9]), [n // 2, n - n // 2])
    for i, (y, x) in enumerate(rng.integers(2, 16, size=(n, 2))):
        if labels[i] == 7:
            images[i, y:y + 10, x:x + 10] = 255
        else:
            images[i, y:y + 4, 2:26] = 200
    return images, labels


def tiny_train(run_dir, num_steps, *, max_seconds=None, **settings):
    from artlib import translate

    images, labels = tiny_images()
    return translate.train(run_dir, {**TINY, **settings}, images=images, labels=labels, num_steps=num_steps,
                           max_seconds=max_seconds, quiet=True, grid_size=3)


# ----------------------------------------------------------------------------- classes and settings
@pytest.mark.parametrize("value, index", [
    (7, 7), ("7", 7), (" 9 ", 9), ("sneaker", 7), ("Ankle boot", 9), ("ankle-boot", 9), ("ANKLE_BOOT", 9),
    ("t-shirt", 0), ("T-shirt/top", 0), ("tshirt", 0), ("top", 0), ("shirt", 6), ("dress", 3), (np.int64(3), 3),
])
def test_classes_by_number_or_name(value, index):
    from artlib import translate

    assert translate.class_index(value) == index


@pytest.mark.parametrize("value", ["boot", "10", -1, 10, 2.5, True, "", None])
def test_unknown_classes_are_refused_with_the_list(value):
    from artlib import translate

    with pytest.raises(ArtlibError, match="Ankle boot"):
        translate.class_index(value)


def test_settings_are_checked():
    from artlib import translate

    settings = translate.TranslateSettings(classes=("Sneaker", "ankle boot"), cycle_weight=4)
    assert settings["classes"] == [7, 9] and settings["identity_weight"] == 2.0  # λ_id = ½ λ_cycle
    assert translate.TranslateSettings(identity_weight=0)["identity_weight"] == 0.0
    for bad, message in [({"classes": [7, "sneaker"]}, "two different"), ({"classes": [7]}, "two Fashion-MNIST"),
                         ({"classes": [7, 11]}, "unknown Fashion-MNIST class"), ({"depth": 3}, "unknown translation"),
                         ({"width": 0}, "width"), ({"beta_1": 1.0}, "beta_1"), ({"cycle_weight": -1}, "cycle_weight"),
                         ({"learning_rate": 0}, "learning_rate")]:
        with pytest.raises(ArtlibError, match=message):
            translate.TranslateSettings(**bad)


# ----------------------------------------------------------------------------- losses against NumPy
def test_each_loss_matches_numpy():
    from artlib import translate

    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(2, 3, 7, 7, 1)).astype(np.float32)
    a, b = rng.uniform(-1, 1, size=(2, 3, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(float(translate.generator_adversarial_loss(fake)), np.mean((fake - 1) ** 2), rtol=1e-5)
    np.testing.assert_allclose(float(translate.discriminator_loss(real, fake)),
                               0.5 * (np.mean((real - 1) ** 2) + np.mean(fake ** 2)), rtol=1e-5)
    np.testing.assert_allclose(float(translate.cycle_loss(a, b)), np.mean(np.abs(a - b)), rtol=1e-5)
    np.testing.assert_allclose(float(translate.identity_loss(a, b)), np.mean(np.abs(b - a)), rtol=1e-5)
    assert float(translate.discriminator_loss(np.ones((2, 7, 7, 1)), np.zeros((2, 7, 7, 1)))) == 0.0
    assert float(translate.cycle_loss(a, a)) == 0.0 and translate.CYCLE_WEIGHT * translate.IDENTITY_SHARE == 5.0


# ----------------------------------------------------------------------------- networks and one step
def test_networks_map_images_to_images_and_patches():
    from artlib import translate

    generator, discriminator = translate.build_generator(16), translate.build_discriminator(16)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 28, 28, 1)).astype(np.float32)
    y = np.asarray(generator(x))
    assert y.shape == (2, 28, 28, 1) and y.min() >= -1 and y.max() <= 1 and y.std() > 0
    assert tuple(discriminator(x).shape) == (2, 7, 7, 1)
    counts = [translate.build_generator(w, num_blocks=b).count_params() for w, b in ((8, 0), (8, 3), (16, 3))]
    assert counts == sorted(counts) and counts[-1] == generator.count_params()
    assert translate.build_generator().count_params() == 162_001  # the default, the shipped pair's, as documented
    with pytest.raises(ArtlibError, match="width"):
        translate.build_generator(0)


def test_one_step_updates_all_four_networks_and_steps_lower_the_cycle_loss():
    import keras

    from artlib import translate

    images, labels = tiny_images(16)
    a, b = (images[labels == k][:8, ..., None] / 127.5 - 1.0 for k in (7, 9))
    models = translate.build_cycle_models(4, 1, seed=0)
    before = [m.get_weights() for m in models]
    step = translate.make_train_step(models, keras.optimizers.Adam(2e-3, beta_1=0.5),
                                     keras.optimizers.Adam(2e-3, beta_1=0.5))
    first = {k: float(v) for k, v in step((a, b)).items()}
    assert set(first) == {"g_loss", "d_loss", "adversarial", "cycle", "identity"}
    np.testing.assert_allclose(first["g_loss"], first["adversarial"] + 10 * first["cycle"] + 5 * first["identity"],
                               rtol=1e-5)
    for model, old in zip(models, before):
        assert any(not np.array_equal(w, o) for w, o in zip(model.get_weights(), old)), model.name
    cycles = [float(step((a, b))["cycle"]) for _ in range(15)]
    assert np.mean(cycles[-3:]) < 0.8 * first["cycle"], (first["cycle"], cycles)


# ----------------------------------------------------------------------------- a run, loading, measures
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("translate") / "run"
    return run_dir, tiny_train(run_dir, 3)


def test_train_writes_the_run_directory_and_the_pair_reloads(trained):
    from PIL import Image

    from artlib import translate

    run_dir, result = trained
    assert result.stopped == "done" and result["step"] == [1, 2, 3]
    assert set(result) == {"step", "g_loss", "d_loss", "adversarial", "cycle", "identity"}
    assert translate.load_settings(run_dir) == translate.TranslateSettings(**TINY, num_steps=3)
    grid = np.asarray(Image.open(run_dir / "samples" / "step-000003.png"))
    assert grid.shape[:2] == (6 * 29 + 3, 3 * 29 + 3)  # six rows (A, A→B, A→B→A, B, …) of 3, framed by the run
    pair = translate.load_translator(run_dir)
    assert pair.classes == (7, 9) and pair.describe() == "7 Sneaker <-> 9 Ankle boot"
    images, labels = tiny_images()
    x = images[labels == 7][:5]  # (5, 28, 28) uint8
    out = translate.translate(x, run_dir)
    assert out.shape == (5, 28, 28) and out.dtype == np.float32 and 0 <= out.min() <= out.max() <= 1
    np.testing.assert_allclose(out, translate.translate(x[..., None] / 255.0, pair)[..., 0], atol=1e-6)
    expected = (np.asarray(pair.a_to_b(x[..., None] / 127.5 - 1.0)) + 1) / 2
    np.testing.assert_allclose(out, expected[..., 0], atol=1e-5)
    assert not np.allclose(out, translate.translate(x, pair, "b-to-a"))
    with pytest.raises(ArtlibError, match="direction"):
        translate.translate(x, pair, "sideways")
    with pytest.raises(ImageError, match="28×28"):
        translate.translate(np.zeros((2, 32, 32)), pair)


def test_the_report_and_the_rows_measure_what_they_say(trained):
    from artlib import metrics, translate

    run_dir, _ = trained
    images, labels = tiny_images()
    a, b = images[labels == 7], images[labels == 9]
    classifier = metrics.load_fashion_classifier(verbose=False)
    report = translate.translation_report(a, b, run_dir, classifier=classifier)
    assert report["classes"] == (7, 9) and set(report["a_to_b"]) == {"count", "target_share", "source_share",
                                                                      "cycle_psnr"}
    pair = translate.load_translator(run_dir)
    boots = translate.translate(a, pair)
    share = np.mean(metrics.classifier_probabilities(classifier, boots).argmax(axis=1) == 9)
    assert report["a_to_b"]["target_share"] == share and report["a_to_b"]["count"] == len(a)
    back = translate.translate(translate.translate(b, pair, "b_to_a"), pair, "a_to_b")
    assert report["b_to_a"]["cycle_psnr"] == pytest.approx(np.mean(metrics.psnr(b[..., None] / 255.0, back[..., None])))
    rows = translate.translation_rows(a, b, pair, count=4)
    assert list(rows) == ["Sneaker (A)", "A → B", "A → B → A", "Ankle boot (B)", "B → A", "B → A → B"]
    assert all(r.shape == (4, 28, 28) for r in rows.values())
    np.testing.assert_allclose(rows["A → B"], boots[:4], atol=1e-6)
    with pytest.raises(ArtlibError, match="classes"):
        translate.translation_report(a, b, translate.build_cycle_models(4, 1))


def test_too_few_images_or_no_labels_are_data_errors(tmp_path):
    from artlib import translate

    images, labels = tiny_images()
    with pytest.raises(DataError, match=r"class 7 \(Sneaker\) has 12 training images, fewer than one batch of 16"):
        translate.train(tmp_path / "few", {**TINY, "batch_size": 16}, images=images, labels=labels, num_steps=1)
    with pytest.raises(DataError, match="class 3 .*has 0"):
        translate.train(tmp_path / "none", {**TINY, "classes": [7, 3]}, images=images, labels=labels, num_steps=1)
    with pytest.raises(DataError, match="label"):
        translate.train(tmp_path / "nolabels", TINY, images=images, num_steps=1)
    assert not (tmp_path / "few").exists()  # refused before anything was written


@pytest.mark.parametrize("kind", ["gan", "diffusion"])
def test_a_run_directory_of_another_kind_is_refused_by_name(tmp_path, kind):
    from artlib import translate

    run_dir = tmp_path / kind
    run_dir.mkdir()
    shutil.copy(REPO / "data" / "pretrained" / kind / "settings.json", run_dir / "settings.json")
    for call in (lambda: tiny_train(run_dir, 1), lambda: translate.load_translator(run_dir)):
        named = {"gan": "GAN"}.get(kind, kind)
        with pytest.raises(CheckpointError, match=re.escape(f"{run_dir} holds a {named} run, not a translation run")):
            call()
    assert sorted(p.name for p in run_dir.iterdir()) == ["settings.json"]  # nothing written there


def test_missing_or_unfinished_runs_are_clear_errors(tmp_path, trained):
    from artlib import translate

    with pytest.raises(CheckpointError, match="no settings.json.*translate train"):
        translate.load_translator(tmp_path / "nothing")
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    shutil.copy(trained[0] / "settings.json", unfinished)
    with pytest.raises(CheckpointError, match="a_to_b.keras not found"):
        translate.load_translator(unfinished)
    with pytest.raises(CheckpointError, match="other settings"):
        tiny_train(trained[0], 4, width=8)


def test_the_shipped_pair_translates_the_shipped_test_images():
    """Sneaker <-> ankle boot on the 100 test images of each class that artlib ships (measured 0.86 and 1.0;
    on the full 1,000 of each 0.816 and 0.994, data/README.md)."""
    from artlib import data, translate

    (_, _), (x, y) = data.load_fashion_mnist(sources=[data.Source("shipped-subset", data.SHIPPED_DIR)], verbose=False)
    pair = translate.load_translator()  # the shipped one
    assert pair.classes == (7, 9) and translate.load_settings() == translate.TranslateSettings(num_steps=4500)
    report = translate.translation_report(x[y == 7], x[y == 9], pair)
    assert report["a_to_b"]["target_share"] >= 0.75 and report["b_to_a"]["target_share"] >= 0.9, report
    assert min(report["a_to_b"]["cycle_psnr"], report["b_to_a"]["cycle_psnr"]) > 19, report


# ----------------------------------------------------------------------------- exact resume
def scenario_resume(out: Path) -> None:
    """Train 5 steps straight; and 2, then on to 5 from fresh networks initialised from another seed."""
    import importlib

    import tensorflow as tf

    run_module = importlib.import_module("artlib.translate.run")
    tf.config.experimental.enable_op_determinism()
    tiny_train(out / "straight", 5)
    tiny_train(out / "resumed", 2)
    build = run_module.build_cycle_models
    run_module.build_cycle_models = lambda *args, seed=0: build(*args, seed=seed + 99)
    result = tiny_train(out / "resumed", 5)
    (out / "steps.json").write_text(json.dumps(result["step"]))  # the steps the second call ran


def test_stop_and_resume_equals_uninterrupted(tmp_path):
    """Two epochs of 3 steps (12 images of each class, batch 4): the resume at step 2 crosses an epoch."""
    import tensorflow as tf

    run_python(HERE, "resume", tmp_path, env={"TF_CPP_MIN_LOG_LEVEL": "2"}, check=True)

    def tensors(run, step=5):
        reader = tf.train.load_checkpoint(str(tmp_path / run / "checkpoints" / f"ckpt-{step}"))
        return {n: reader.get_tensor(n) for n in reader.get_variable_to_shape_map() if "OBJECT_GRAPH" not in n}

    straight, resumed = tensors("straight"), tensors("resumed")
    weights = [n for n in straight if "_trainable_variables/" in n]  # the four networks, saved with their optimizers
    assert set(straight) == set(resumed) and len(weights) > 40 and "step/.ATTRIBUTES/VARIABLE_VALUE" in straight
    for name in straight:
        if not name.startswith("save_counter"):
            np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)
    early = tensors("resumed", 2)  # the test can fail: step 2 differs from step 5
    assert any(not np.array_equal(early[n], straight[n]) for n in weights)
    assert json.loads((tmp_path / "steps.json").read_text()) == [3, 4, 5]  # resumed at 2, not started over


# ----------------------------------------------------------------------------- the command line
BAD_INPUT = """
import contextlib, io, json, sys
sys.modules["tensorflow"] = None  # importing TensorFlow fails: every answer below comes before it
from artlib.cli import main
answers = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit:
            code = exit.code
    answers.append([code, err.getvalue()])
print(json.dumps(answers))
"""


def test_cli_bad_input_is_one_line_before_tensorflow(tmp_path):
    for kind in ("gan", "diffusion"):
        (tmp_path / kind).mkdir()
        shutil.copy(REPO / "data" / "pretrained" / kind / "settings.json", tmp_path / kind)
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"not read")
    cases = [
        (["translate", "train", "--classes", "sneaker", "boot"], "unknown Fashion-MNIST class 'boot'"),
        (["translate", "train", "--classes", "7", "Sneaker"], "two different classes"),
        (["translate", "train", "--classes", "7"], "--classes"),
        (["translate", "train", "--steps", "0"], "--steps"),
        (["translate", "train", "--run-dir", str(tmp_path / "gan")], "holds a GAN run, not a translation run"),
        (["translate", "apply", "--run-dir", str(tmp_path / "diffusion"), str(photo), "-o", str(tmp_path / "o")],
         "holds a diffusion run, not a translation run"),
        (["translate", "apply", "--run-dir", str(tmp_path / "none"), str(photo), "-o", str(tmp_path / "o")],
         "no such file"),
        (["translate", "apply", str(tmp_path / "nowhere.png"), "-o", str(tmp_path / "o")], "no such file"),
        (["translate", "apply", str(photo), "--direction", "up", "-o", str(tmp_path / "o")], "--direction"),
    ]
    result = run_python("-c", BAD_INPUT, json.dumps([argv for argv, _ in cases]), check=True)
    for (argv, needle), (code, stderr) in zip(cases, json.loads(result.stdout)):
        assert code == 2 and needle in stderr and stderr.count("\n") == 1, (argv, code, stderr)


def test_cli_trains_on_fashion_mnist(tmp_path, capsys):
    from artlib import translate
    from artlib.cli import main

    args = ["translate", "train", "--classes", "T-shirt", "dress", "--width", "4", "--batch-size", "4",
            "--run-dir", str(tmp_path)]
    assert main([*args, "--steps", "2"]) == 0
    assert "trained to step 2 (done)" in capsys.readouterr().out
    assert translate.load_translator(tmp_path).classes == (0, 3)
    assert json.loads((tmp_path / "history.json").read_text())["step"] == [1, 2]


def test_cli_apply_writes_pngs_a_png_or_an_npz_and_never_overwrites(trained, tmp_path, capsys):
    from PIL import Image

    from artlib import translate
    from artlib.cli import main

    run = str(trained[0])
    images, labels = tiny_images()
    sneakers = images[labels == 7][:3]
    for i, image in enumerate(sneakers):
        Image.fromarray(image).save(tmp_path / f"in{i}.png")
    inputs = [str(tmp_path / f"in{i}.png") for i in range(3)]
    expected = translate.translate(sneakers, trained[0])
    assert main(["translate", "apply", "--run-dir", run, *inputs, "-o", str(tmp_path / "out")]) == 0
    assert "3 image(s) of class 7 (Sneaker) translated to class 9 (Ankle boot)" in capsys.readouterr().out
    for i in range(3):
        written = np.asarray(Image.open(tmp_path / "out" / f"in{i}.png"), np.float32) / 255
        np.testing.assert_allclose(written, expected[i], atol=0.5 / 255 + 1e-6)
    np.savez(tmp_path / "batch.npz", images=sneakers)
    assert main(["translate", "apply", "--run-dir", run, str(tmp_path / "batch.npz"), "--direction", "b-to-a",
                 "-o", str(tmp_path / "out.npz")]) == 0
    with np.load(tmp_path / "out.npz") as saved:
        np.testing.assert_allclose(saved["images"], translate.translate(sneakers, trained[0], "b_to_a"), atol=1e-6)
        np.testing.assert_array_equal(saved["inputs"], sneakers / np.float32(255))
    assert main(["translate", "apply", "--run-dir", run, inputs[0], "-o", str(tmp_path / "one.png")]) == 0
    assert np.asarray(Image.open(tmp_path / "one.png")).shape == (28, 28)
    capsys.readouterr()
    for out in ("out", "out.npz", "one.png"):  # each exists now
        assert main(["translate", "apply", "--run-dir", run, inputs[0], "-o", str(tmp_path / out)]) == 2
        assert "--force" in capsys.readouterr().err
    assert main(["translate", "apply", "--run-dir", run, *inputs, "-o", str(tmp_path / "two.png")]) == 2
    assert "do not fit in one .png" in capsys.readouterr().err
    assert main(["translate", "apply", "--run-dir", run, inputs[0], "-o", str(tmp_path / "one.png"), "--force"]) == 0
    (tmp_path / "sub").mkdir()
    Image.fromarray(sneakers[1]).save(tmp_path / "sub" / "in0.png")
    capsys.readouterr()
    assert main(["translate", "apply", "--run-dir", run, inputs[0], str(tmp_path / "sub" / "in0.png"),
                 "-o", str(tmp_path / "clash")]) == 2  # both would be clash/in0.png (before, the second in0-2.png)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "in0.png' and '" in err and "sub/in0.png' would both be written to" in err, err
    assert not (tmp_path / "clash").exists()
    np.savez(tmp_path / "sub" / "batch.npz", images=sneakers[:1])  # an .npz's images are named by their place
    batches = [str(tmp_path / "batch.npz"), str(tmp_path / "sub" / "batch.npz")]
    assert main(["translate", "apply", "--run-dir", run, *batches, "-o", str(tmp_path / "clash")]) == 2
    assert "batch.npz[0]' and '" in (err := capsys.readouterr().err) and "batch-000.png" in err, err


def test_a_photo_is_made_fashion_mnist_like():
    from artlib import translate

    photo = np.ones((40, 20, 3), np.float32)  # a white background, portrait
    photo[10:30, 5:15] = 0.2  # a dark garment
    small = translate.fashion_like(photo, invert=True)
    assert small.shape == (28, 28) and small.dtype == np.float32
    assert small[0, 0] == 0 and small[14, 14] == pytest.approx(0.8, abs=1e-5)  # now light on black
    assert small[14, 3] == 0  # padded with the border (white, inverted to black), not with a black band
    as_uint8 = np.round(photo * 255).astype(np.uint8)  # the same photo as 0–255 pixels, grey or RGB
    for same in (as_uint8, photo[..., 0], photo[..., :1], as_uint8[..., 0]):
        np.testing.assert_allclose(translate.fashion_like(same, invert=True), small, atol=1e-6)


def test_bad_images_and_no_inputs_are_refused_by_name(tmp_path):
    from artlib import imageio, translate
    from artlib.errors import ArtlibError, ImageError

    for bad, message in ((np.zeros((8, 8, 2), np.float32), "image must be H×W×3, H×W×1 or H×W"),
                         (np.full((8, 8, 3), 255.0), r"image must hold pixels in \[0, 1\]"),
                         (np.zeros((2, 8, 8, 3), np.float32), "image")):
        with pytest.raises(ImageError, match=message):
            translate.fashion_like(bad)
    imageio.save_image(tmp_path / "shoe.png", np.full((40, 20, 3), 0.5, np.float32))
    for one in (str(tmp_path / "shoe.png"), tmp_path / "shoe.png"):  # one file, not read letter by letter
        images, names = translate.read_inputs(one)
        assert images.shape == (1, 28, 28) and names == ["shoe"]
    with pytest.raises(ArtlibError, match="no inputs: give image files or .npz files"):
        translate.read_inputs([])
    (tmp_path / "notes.npz").write_text("not an archive")  # NumPy would call it pickled data
    with pytest.raises(ImageError, match="notes.npz is not a .npz file: it is not a zip archive"):
        translate.read_inputs(tmp_path / "notes.npz")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent))
    if sys.argv[1] == "resume":
        scenario_resume(Path(sys.argv[2]))
