"""Tests for artlib.fast_style.export: ONNX and LiteRT files of a network that match Keras on an odd-sized
image, the format read from the suffix, atomic writes, a missing optional package, and the CLI.

The packages are the ``export`` extra, which ``make setup`` installs; a test skips only where one is absent.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import run_cli, run_python

ODD = (37, 53, 3)  # neither side a multiple of 4: the network pads and crops inside


def perturbed_network(style_colours=None):
    """A small network with every weight perturbed, so that it is far from the identity it starts as."""
    from artlib import fast_style

    network = fast_style.build_transformer(width=4, num_blocks=1, seed=1, style_colours=style_colours)
    rng = np.random.default_rng(0)
    network.set_weights([w + rng.normal(0, 0.2, w.shape).astype(w.dtype) for w in network.get_weights()])
    return network


@pytest.fixture(scope="module")
def network():
    return perturbed_network()


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(1).uniform(0, 1, ODD).astype(np.float32)


@pytest.mark.parametrize("palette", [False, True], ids=["plain", "match-colours"])
@pytest.mark.parametrize("suffix, runtime", [(".onnx", "onnxruntime"), (".tflite", "ai_edge_litert")])
def test_exported_file_matches_keras_on_an_odd_size(tmp_path, network, image, suffix, runtime, palette):
    """Plain, and ending in MatchColours (per-image moments) as the shipped networks do."""
    pytest.importorskip(runtime)
    from artlib import fast_style

    if palette:
        network = perturbed_network(style_colours=([0.3, 0.4, 0.6], [0.2, 0.15, 0.25]))
        assert network.layers[-1].name == "match_colours"

    path = fast_style.export_network(network, tmp_path / f"net{suffix}")
    assert [p.name for p in tmp_path.iterdir()] == [f"net{suffix}"]  # no temporary file left
    expected = network(image[None], training=False).numpy()
    assert np.abs(expected[0] - image).max() > 0.05  # the comparison is not identity against identity
    run = fast_style.load_exported(path)
    painted = run(image)
    assert painted.shape == ODD and painted.dtype == np.float32
    assert np.abs(painted - expected[0]).max() < 1e-3
    batch = np.stack([image, image[::-1]])  # another batch size and content through the same model
    assert np.abs(run(batch) - network(batch, training=False).numpy()).max() < 1e-3


def test_format_comes_from_the_suffix_and_must_agree():
    from artlib import fast_style
    from artlib.errors import ArtlibError

    assert fast_style.export_format("a/net.ONNX") == "onnx"
    assert fast_style.export_format("net.tflite", "tflite") == fast_style.export_format("net.tflite") == "litert"
    for path, format, words in [("net.keras", None, r"cannot export to 'net.keras' \(format None\): end the name"),
                                ("net", None, r"cannot export to 'net' \(format None\): end the name"),
                                ("net.onnx", "litert", r"'net.onnx' does not end in .tflite for format 'litert'"),
                                ("net.tflite", "coreml", r"cannot export to 'net.tflite' \(format 'coreml'\)")]:
        with pytest.raises(ArtlibError, match=words):
            fast_style.export_format(path, format)


def test_existing_file_is_kept_without_force_and_a_failed_export_leaves_nothing(tmp_path, network, monkeypatch):
    import keras

    from artlib import fast_style
    from artlib.errors import ArtlibError

    target = tmp_path / "net.tflite"
    target.write_bytes(b"old")
    with pytest.raises(ArtlibError, match="exists"):
        fast_style.export_network(network, target)

    def broken_export(self, filepath, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"half")
        raise RuntimeError("converter crashed")

    monkeypatch.setattr(keras.Model, "export", broken_export)
    with pytest.raises(RuntimeError, match="converter crashed"):
        fast_style.export_network(network, target, force=True)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["net.tflite"]


@pytest.mark.parametrize("module", ["tf2onnx", "onnx"])
def test_missing_package_says_what_to_install(tmp_path, network, monkeypatch, module):
    from artlib import fast_style
    from artlib.errors import ArtlibError

    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    with pytest.raises(ArtlibError) as info:
        fast_style.export_network(network, tmp_path / "net.onnx")
    message = str(info.value)
    assert "\n" not in message and f"'{module}'" in message and "pip install" in message and "export" in message
    assert not any(tmp_path.iterdir())


def test_missing_runtime_says_what_to_install(tmp_path, monkeypatch):
    from artlib import fast_style
    from artlib.errors import ArtlibError

    (tmp_path / "net.onnx").write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ArtlibError, match="'onnxruntime' package: pip install"):
        fast_style.load_exported(tmp_path / "net.onnx")
    with pytest.raises(ArtlibError, match="does not exist"):
        fast_style.load_exported(tmp_path / "missing.tflite")


def test_cli_exports_the_shipped_network_once_and_refuses_to_overwrite(tmp_path, image):
    pytest.importorskip("onnxruntime")
    from artlib import fast_style

    out = tmp_path / "swirls.onnx"
    done = run_cli("fast-style", "export", "swirls", "-o", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(done.stdout.strip().splitlines()) == 1 and str(out) in done.stdout, done.stdout
    expected = fast_style.load_network("swirls")(image[None], training=False).numpy()[0]
    assert np.abs(fast_style.load_exported(out)(image) - expected).max() < 1e-3
    before = out.read_bytes()
    refuse = ("import sys; from artlib.cli import main; code = main(sys.argv[1:]); "
              "print('tensorflow' in sys.modules); sys.exit(code)")  # refused before TensorFlow loads
    refused = run_python("-c", refuse, "fast-style", "export", "swirls", "-o", str(out))
    err = refused.stderr.strip()
    assert refused.returncode == 2 and err.startswith("error:") and "\n" not in err and "--force" in err, err
    assert refused.stdout.strip() == "False" and out.read_bytes() == before


def test_cli_bad_arguments_and_a_missing_package_exit_2_with_one_line(tmp_path, capsys, monkeypatch):
    from artlib.cli import main

    cases = [
        ["fast-style", "export", "swirls", "-o", str(tmp_path / "net.pb")],               # unknown suffix
        ["fast-style", "export", str(tmp_path / "missing.keras"), "-o", str(tmp_path / "net.onnx")],
        ["fast-style", "export", "no_such_style", "-o", str(tmp_path / "net.tflite")],
        ["fast-style", "export", "swirls", "-o", str(tmp_path / "net.onnx")],             # no tf2onnx (below)
    ]
    monkeypatch.setitem(sys.modules, "tf2onnx", None)
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, (argv, err)
    assert "pip install" in err and "tf2onnx" in err, err
    assert not any(tmp_path.iterdir())
