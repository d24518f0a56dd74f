"""Safe loading: no file artlib reads can run code — arrays without pickle, models in Keras's safe mode.

Three kinds of test: a scan of artlib's source (``ast``) that fails on any array or model load that
could unpickle or run code, so a future change cannot bring one in; a pickled ``.npz`` given to the
command line that reads ``.npz`` files; a ``.keras`` file with a Python ``Lambda`` given to
``modelio.load_model``. The last two carry a canary that creates a file if it is ever run, and check
first that it does run when loaded unsafely, so the tests can fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from artlib.errors import DataError, ImageError

ARTLIB = Path(__file__).resolve().parent.parent / "artlib"
#: Modules whose loaders run code from the data they read.
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "marshal", "shelve"}


def unsafe_loads(source: str, where: str = "<source>") -> list[str]:
    """Every place in ``source`` that could load a file unsafely, as ``where:line: reason``.

    Flags: ``numpy.load`` without ``allow_pickle=False``; Keras's (or tf.keras's) ``load_model``
    without ``safe_mode=True``; ``allow_pickle`` anything but False and ``safe_mode`` anything but
    True in any call; ``enable_unsafe_deserialization``; importing a pickle-like module; calling
    the built-ins ``eval`` or ``exec``. Names are resolved through the module's imports
    (``import numpy as np``, ``from keras.saving import load_model`` …).
    """
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    problems: list[str] = []

    def flag(node: ast.AST, reason: str) -> None:
        problems.append(f"{where}:{node.lineno}: {reason}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[(alias.asname or alias.name).split(".")[0]] = alias.name if alias.asname else \
                    alias.name.split(".")[0]
                if alias.name.split(".")[0] in UNSAFE_MODULES:
                    flag(node, f"imports {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in UNSAFE_MODULES:
                flag(node, f"imports from {node.module}")
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def dotted(func: ast.expr) -> str:
        parts = []
        while isinstance(func, ast.Attribute):
            parts.append(func.attr)
            func = func.value
        if not isinstance(func, ast.Name):
            return ""
        parts.append(aliases.get(func.id, func.id))
        return ".".join(reversed(parts))

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        keywords = {k.arg: k.value for k in node.keywords if k.arg}

        def is_constant(key: str, value: bool) -> bool:
            return isinstance(keywords.get(key), ast.Constant) and keywords[key].value is value

        if name == "numpy.load" and not is_constant("allow_pickle", False):
            flag(node, "numpy.load without allow_pickle=False")
        if (name.split(".")[0] in {"keras", "tensorflow", "tf_keras"} and name.endswith(".load_model")
                and not is_constant("safe_mode", True)):
            flag(node, f"{name} without safe_mode=True (use artlib.modelio.load_model)")
        if "allow_pickle" in keywords and not is_constant("allow_pickle", False):
            flag(node, "allow_pickle is not the constant False")
        if "safe_mode" in keywords and not is_constant("safe_mode", True):
            flag(node, "safe_mode is not the constant True")
        if name.endswith("enable_unsafe_deserialization"):
            flag(node, "enables unsafe deserialization")
        if isinstance(node.func, ast.Name) and node.func.id in {"eval", "exec"} and node.func.id not in aliases:
            flag(node, f"calls {node.func.id}()")
    return problems


def test_artlib_loads_nothing_unsafely():
    files = sorted(ARTLIB.rglob("*.py"))
    assert len(files) > 50  # the scan sees the package
    problems = [p for path in files
                for p in unsafe_loads(path.read_text(encoding="utf-8"), str(path.relative_to(ARTLIB.parent)))]
    assert problems == [], "unsafe loads:\n" + "\n".join(problems)


def test_the_scan_finds_each_kind_of_unsafe_load():
    bad = """
import numpy as np
import numpy
import keras
import tensorflow as tf
import pickle
from keras.saving import load_model as lm
from numpy import load
from dill import loads

np.load(path)
numpy.load(path, allow_pickle=True)
load(path, mmap_mode="r")
keras.saving.load_model(path)
keras.models.load_model(path, safe_mode=False)
tf.keras.models.load_model(path)
lm(path, compile=False)
np.lib.format.read_array(f, allow_pickle=flag)
keras.config.enable_unsafe_deserialization()
eval(text)
exec(code)
"""
    problems = unsafe_loads(bad)
    lines = sorted({int(p.split(":")[1]) for p in problems})
    assert lines == [6, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21], problems
    good = """
import numpy as np
import keras
from artlib import modelio
np.load(path, allow_pickle=False)
keras.saving.load_model(path, safe_mode=True, compile=False)
modelio.load_model(path)
ae.load_model(path)
self.eval()
"""
    assert unsafe_loads(good) == []


class _Canary:
    """Pickles as a call to ``open(path, "w")``: unpickling it creates the file."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return open, (str(self.path), "w")


@pytest.fixture
def pickled_npz(tmp_path):
    """An ``.npz`` whose ``images`` is an object array holding a canary; returns (file, canary path)."""
    canary = tmp_path / "canary-ran"
    path = tmp_path / "evil.npz"
    np.savez(path, images=np.array([_Canary(canary)], dtype=object))
    assert not canary.exists()
    return path, canary


def test_the_canary_runs_when_unpickled(pickled_npz):
    path, canary = pickled_npz
    with np.load(path, allow_pickle=True) as archive:
        archive["images"][0].close()  # the file object the canary opened
    assert canary.exists()


def test_read_inputs_refuses_a_pickled_npz(pickled_npz):
    from artlib.translate.inputs import read_inputs

    path, canary = pickled_npz
    with pytest.raises(ImageError, match=f"{path} is not a readable .npz file .*allow_pickle=False"):
        read_inputs([path])
    assert not canary.exists()


def test_translate_apply_refuses_a_pickled_npz_in_one_line(pickled_npz, tmp_path, run_cli):
    path, canary = pickled_npz
    out = tmp_path / "out.npz"
    result = run_cli("translate", "apply", str(path), "-o", str(out))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path} is not a readable .npz file"), result.stderr
    assert not canary.exists() and not out.exists()


def test_modelio_refuses_a_model_that_carries_python_code(tmp_path):
    import keras

    from artlib import modelio

    canary = tmp_path / "lambda-ran"
    model = keras.Sequential([keras.Input((2,)),
                              keras.layers.Lambda(lambda x, p: (open(p, "w").close(), x)[1],
                                                  arguments={"p": str(canary)})])
    canary.unlink()  # building the model ran it once
    path = tmp_path / "lambda.keras"
    modelio.save_model(model, path)
    keras.saving.load_model(path, safe_mode=False)  # what an unsafe load would do
    assert canary.exists()
    canary.unlink()
    with pytest.raises(DataError, match=f"{path} cannot be loaded as a model: it holds a Sequential model named "
                                        "'sequential.*'.*Lambda"):
        modelio.load_model(path)
    assert not canary.exists()
    with pytest.raises(DataError, match=f"{tmp_path} is a folder, not a model file"):
        modelio.load_model(tmp_path)
