"""Deployment files: a network exported to ONNX or LiteRT (TFLite) with Keras ``model.export``, and running them.

The exported model is the network's forward pass alone (no artlib, no TensorFlow needed to run
it): input ``images`` ``N×H×W×3`` float32 in [0, 1], any N, H and W (H, W ≥ 4), output the same
shape in [0, 1]. ONNX files run under onnxruntime, ``.tflite`` files under the LiteRT interpreter
(``ai_edge_litert``); the packages are the optional ``export`` extra.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import keras
import numpy as np
import tensorflow as tf

from artlib.atomic import atomic_path, refuse_overwrite
from artlib.errors import ArtlibError
from artlib.fast_style.io import load_network

__all__ = ["EXPORT_FORMATS", "EXPORT_EXTRA", "export_format", "prepare_export", "export_network", "write_export",
           "open_exported", "load_exported"]

#: File suffix -> Keras ``model.export`` format.
EXPORT_FORMATS = {".onnx": "onnx", ".tflite": "litert"}
#: How to install the optional packages (tf2onnx, onnx, onnxruntime, ai-edge-litert).
EXPORT_EXTRA = "pip install tf2onnx onnx onnxruntime ai-edge-litert (the 'export' extra of artlib)"
_ALIASES = {"onnx": "onnx", "litert": "litert", "tflite": "litert"}


def _require(module: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ArtlibError(f"{what} needs the '{module}' package: {EXPORT_EXTRA}") from err


def export_format(path: str | Path, format: str | None = None) -> str:
    """The Keras export format for ``path``: ``"onnx"`` or ``"litert"``.

    Args:
        path: The file to write, ``.onnx`` or ``.tflite``.
        format: ``"onnx"``, ``"litert"`` or ``"tflite"``; ``None`` reads it from the suffix.

    Raises:
        ArtlibError: Another suffix or format, or a format the suffix contradicts.
    """
    by_suffix = EXPORT_FORMATS.get(Path(path).suffix.lower())
    chosen = by_suffix if format is None else _ALIASES.get(str(format).lower())
    if chosen is None:
        raise ArtlibError(f"cannot export to '{path}' (format {format!r}): end the name with .onnx (ONNX) or "
                          ".tflite (LiteRT/TFLite)")
    if by_suffix != chosen:
        raise ArtlibError(f"'{path}' does not end in {'.onnx' if chosen == 'onnx' else '.tflite'} for format "
                          f"{format!r}")
    return chosen


def prepare_export(out_path: str | Path, format: str | None, force: bool) -> tuple[Path, str]:
    """The checks every export makes first: the format, an existing file, the optional packages.

    Returns:
        ``(out_path, format)``.

    Raises:
        ArtlibError: A bad suffix or format, an existing file and ``force`` False, a missing package.
    """
    out_path = Path(out_path)
    chosen = export_format(out_path, format)
    refuse_overwrite(out_path, force)
    if chosen == "onnx":
        _require("onnx", "ONNX export")
        _require("tf2onnx", "ONNX export")
    return out_path, chosen


class _KnownChannels(keras.layers.Layer):
    """Reshape ``N×H×W×C`` to itself with ``C`` static (TFLite's converter loses it after dynamic pads, repeats)."""

    def call(self, x):
        shape = tf.shape(x)
        return tf.reshape(x, [shape[0], shape[1], shape[2], x.shape[-1]])


def _exportable(network: keras.Model) -> keras.Model:
    """The same network (shared weights, same outputs) in the form both converters translate right.

    Every convolution's input gets its channel count made static (:class:`_KnownChannels`):
    TensorFlow Lite's built-in convolution needs it, and without it the converter would fall back to
    TensorFlow ("Flex") kernels, which the plain LiteRT runtime does not have (in ONNX they are plain
    Reshape nodes, no extra layout transposes).
    """
    def call_function(layer, *args, **kwargs):
        if isinstance(layer, keras.layers.Conv2D):
            args = (_KnownChannels(name=f"{layer.name}_known_channels")(args[0]), *args[1:])
        return layer(*args, **kwargs)

    return keras.models.clone_model(network, clone_function=lambda layer: layer, call_function=call_function)


def export_network(network_or_path: keras.Model | str | Path, out_path: str | Path, *, format: str | None = None,
                   force: bool = False) -> Path:
    """Export a feed-forward network for deployment, atomically (a failed export leaves no file).

    Args:
        network_or_path: A network, a ``.keras`` path, or a shipped style name (``"swirls"``).
        out_path: ``NAME.onnx`` (ONNX, opset chosen by tf2onnx) or ``NAME.tflite`` (LiteRT, built-in
            operators only, float32).
        format: See :func:`export_format`; ``None`` reads it from the suffix.
        force: Replace an existing file.

    Returns:
        The path written. Its input is ``N×H×W×3`` float32 in [0, 1] with N, H and W dynamic.

    Raises:
        ArtlibError: A bad suffix or format, an existing file and ``force`` False, or a missing
            optional package (the message says what to install). DataError: a bad network file.
    """
    out_path, chosen = prepare_export(out_path, format, force)
    network = network_or_path if isinstance(network_or_path, keras.Model) else load_network(network_or_path)
    signature = [keras.InputSpec(shape=(None, None, None, 3), dtype="float32", name="images")]
    return write_export(_exportable(network), out_path, chosen, signature)


def write_export(model: keras.Model, out_path: Path, chosen: str, signature: list) -> Path:
    """``model.export`` to ``out_path`` in the format ``chosen`` (from :func:`prepare_export`), atomically.

    LiteRT files are held to TFLite's built-in operations, which its interpreter runs without TensorFlow.
    """
    options = {"target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}} if chosen == "litert" else {}
    with atomic_path(out_path) as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*np.object", category=FutureWarning)  # Keras's tf2onnx patch
        model.export(str(tmp), format=chosen, input_signature=signature, verbose=False, **options)
    return out_path


#: ``order(names)``: the positions, among an exported file's input names, of the arrays a runner is given.
InputOrder = Callable[[list[str]], list[int]]


def _onnx_runner(path: Path, order: InputOrder) -> Callable[..., np.ndarray]:
    ort = _require("onnxruntime", "running an ONNX file")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    keys = [names[i] for i in order(names)]
    return lambda *arrays: session.run(None, dict(zip(keys, arrays)))[0]


def _litert_runner(path: Path, order: InputOrder) -> Callable[..., np.ndarray]:
    interpreter = _require("ai_edge_litert.interpreter", "running a LiteRT file").Interpreter(model_path=str(path))
    details = interpreter.get_input_details()
    indices = [details[i]["index"] for i in order([d["name"] for d in details])]
    target = interpreter.get_output_details()[0]["index"]
    allocated = [None]  # the input shapes the tensors are allocated for

    def run(*arrays: np.ndarray) -> np.ndarray:
        shapes = tuple(a.shape for a in arrays)
        if allocated[0] != shapes:
            for index, shape in zip(indices, shapes):
                interpreter.resize_tensor_input(index, shape, strict=True)
            interpreter.allocate_tensors()
            allocated[0] = shapes
        for index, array in zip(indices, arrays):
            interpreter.set_tensor(index, array)
        interpreter.invoke()
        return interpreter.get_tensor(target)

    return run


def open_exported(path: str | Path, order: InputOrder = lambda names: list(range(len(names)))
                  ) -> Callable[..., np.ndarray]:
    """``forward(*arrays)``: an exported ``.onnx`` (onnxruntime) or ``.tflite`` (LiteRT) file, loaded once,
    its inputs given in ``order`` (default: the file's own).

    Raises:
        ArtlibError: Another suffix, a missing file, or a missing optional package.
    """
    path = Path(path)
    runner = {"onnx": _onnx_runner, "litert": _litert_runner}[export_format(path)]
    if not path.is_file():
        raise ArtlibError(f"exported model '{path}' does not exist")
    return runner(path, order)


def load_exported(path: str | Path) -> Callable[[np.ndarray], np.ndarray]:
    """A function that runs an exported ``.onnx`` (onnxruntime) or ``.tflite`` (LiteRT) file.

    Args:
        path: A file written by :func:`export_network`.

    Returns:
        ``run(images)``: an image ``H×W×3`` or a batch ``N×H×W×3`` in [0, 1] -> the stylized
        pixels, same shape, float32. The model is loaded once; call it for every frame.

    Raises:
        ArtlibError: Another suffix, a missing file, or a missing optional package.
    """
    forward = open_exported(path)

    def run(images) -> np.ndarray:
        images = np.asarray(images, np.float32)
        batch = images if images.ndim == 4 else images[None]
        out = forward(np.ascontiguousarray(batch))
        return out if images.ndim == 4 else out[0]

    return run
