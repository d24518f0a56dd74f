"""The Fashion-MNIST classifier that measures samples: build, train, load, and its features and probabilities.

artlib trains and ships a small classifier (``data/pretrained/fashion_classifier.keras``,
made by ``scripts/make_fashion_classifier.py``). Its 128-wide ``"features"`` layer is the
space where :mod:`artlib.metrics.distances` and :mod:`artlib.metrics.samples` compare
generated images with real ones; its softmax says which class a sample looks like.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from artlib import config
from artlib.errors import ArtlibError
from artlib.imageio import as_batch
from artlib.checks import positive_int, seed_value

if TYPE_CHECKING:
    import keras

__all__ = [
    "CLASSIFIER_PATH",
    "fashion_batch",
    "build_fashion_classifier",
    "train_fashion_classifier",
    "load_fashion_classifier",
    "classifier_outputs",
    "classifier_features",
    "classifier_probabilities",
]

#: The classifier that ships with artlib (see ``data/README.md`` for its provenance).
CLASSIFIER_PATH = config.PRETRAINED_DIR / "fashion_classifier.keras"
_RANGE_TOLERANCE = 1e-3  # float pixels may overshoot [0, 1] by this much (then clipped)
_REMAKE = "make it with `python scripts/make_fashion_classifier.py` (or restore it from the repository)"


def fashion_batch(images: Any, name: str = "images", *, keep_uint8: bool = False) -> np.ndarray:
    """Check a batch of Fashion-MNIST-sized images: the input every measure here takes.

    Args:
        images: ``N×28×28`` or ``N×28×28×1``; uint8 (0–255) or float pixels in [0, 1]
            (overshoots up to 1e-3 are clipped).
        name: What to call the input in an error message.
        keep_uint8: Return uint8 input as uint8 (no float copy of a large training set).

    Returns:
        float32 ``(N, 28, 28, 1)`` in [0, 1] (uint8 with ``keep_uint8`` and uint8 input).

    Raises:
        ImageError: an empty batch, another shape, a non-numeric dtype, NaN/inf, or pixels
            outside [0, 1] (with a hint for [-1, 1] generator outputs).
    """
    return as_batch(images, name=name, shape=(28, 28), channels=1, keep_uint8=keep_uint8,
                    tolerance=_RANGE_TOLERANCE)


def build_fashion_classifier() -> keras.Model:
    """A small CNN that classifies Fashion-MNIST images; its "features" layer measures samples.

    Layers: three 3×3 convolutions (32, 64, 128 channels, batch-normalized, ReLU)
    with 2×2 max-pooling between them, global average pooling, a 128-wide dense
    layer named ``"features"`` (ReLU) and a 10-way dense layer of logits. About
    110 k parameters, ~15 MFLOP per image: cheap enough to embed 60,000 images on
    a CPU in seconds.

    Input: ``(N, 28, 28, 1)`` float pixels in [0, 1]. Output: ``(N, 10)`` logits.

    Returns:
        An uncompiled ``keras.Model`` named ``"fashion_classifier"``.

    Example:
        >>> build_fashion_classifier().output_shape
        (None, 10)
    """
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1), name="images")
    x = inputs
    for index, filters in enumerate((32, 64, 128)):
        if index:
            x = layers.MaxPooling2D(2, name=f"pool{index}")(x)  # 28→14→7
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{index + 1}")(x)
        x = layers.BatchNormalization(name=f"bn{index + 1}")(x)
        x = layers.ReLU(name=f"relu{index + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)  # (N, 7, 7, 128) → (N, 128)
    features = layers.Dense(128, activation="relu", name="features")(x)
    x = layers.Dropout(0.3, name="dropout")(features)
    logits = layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, logits, name="fashion_classifier")


def train_fashion_classifier(
    images: Any,
    labels: Any,
    *,
    num_epochs: int,
    batch_size: int = 128,
    seed: int = 0,
    validation: tuple[Any, Any] | None = None,
    run_dir: str | Path | None = None,
    verbose: int | str = "auto",
) -> keras.Model:
    """Train :func:`build_fashion_classifier` with Adam and cross-entropy through :func:`artlib.training.fit`.

    Epoch e sees the images in the order :func:`artlib.training.epoch_order` ``(seed, e)``,
    in full batches (the few images left over change from epoch to epoch); a NaN or
    Inf loss stops it. With ``run_dir`` it also keeps ``settings.json``, ``history.json``,
    TensorBoard logs and a backup after each epoch: called again after an interruption,
    it resumes there exactly.

    Args:
        images: ``N×28×28`` (or ``N×28×28×1``) uint8 or float pixels in [0, 1].
        labels: ``N`` integer labels in 0..9.
        num_epochs: Passes over the data.
        batch_size: Images per step.
        seed: Seeds the weights and the order (a new one every epoch).
        validation: Optional ``(images, labels)`` evaluated after every epoch.
        run_dir: The run directory (None: keep nothing on disk).
        verbose: Passed to ``fit`` (0 silences it; ``"auto"``: one line per epoch, 0 under CI).

    Returns:
        The trained, compiled model; ``model.history.history`` holds this call's
        per-epoch loss and accuracy (``run_dir/history.json`` the whole run's).

    Raises:
        ArtlibError: wrong shapes, pixel ranges or labels, a non-positive
            ``num_epochs`` or ``batch_size``, or fewer images than one batch.
        CheckpointError: ``run_dir`` holds a run with other settings, or an unreadable backup.
        NonFiniteLossError: The loss became NaN or Inf.
    """
    seed = seed_value(seed)
    import keras

    from artlib import training

    x = fashion_batch(images)
    y = np.asarray(labels)
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9:
        raise ArtlibError(f"labels must be {len(x)} integers in 0..9 (one per image); "
                          f"got shape {y.shape}, dtype {y.dtype}.")
    num_epochs = positive_int(num_epochs, "num_epochs")
    batch_size = positive_int(batch_size, "batch_size")
    config.set_seed(seed)
    with training.get_strategy().scope():
        model = build_fashion_classifier()
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    validation_data = None
    if validation is not None:
        validation_data = (fashion_batch(validation[0], "validation images"), np.asarray(validation[1]))
    settings = {"model": model.name, "num_images": len(x), "batch_size": batch_size, "seed": seed,
                "num_epochs": num_epochs}
    training.fit(model, (x, y.astype(np.int32)), num_epochs=num_epochs, batch_size=batch_size, seed=seed,
                 run_dir=run_dir, settings=settings, validation_data=validation_data, verbose=verbose)
    return model


def _check_classifier(model: Any) -> str | None:
    """None if ``model`` looks like :func:`build_fashion_classifier`'s, else what is wrong."""
    try:
        model.get_layer("features")
        ok = tuple(model.input_shape) == (None, 28, 28, 1) and tuple(model.output_shape) == (None, 10)
    except (ValueError, AttributeError):
        ok = False
    return None if ok else "expected input (None, 28, 28, 1), 10 logits and a layer named 'features'"


def load_fashion_classifier(path: str | Path | None = None, *, verbose: bool = True) -> keras.Model:
    """Load a Fashion-MNIST classifier saved as ``.keras`` (default: the one artlib ships).

    Args:
        path: A ``.keras`` file saved from :func:`build_fashion_classifier`'s
            model; default :data:`CLASSIFIER_PATH`.
        verbose: Print one line naming the file.

    Returns:
        The model (uncompiled), loaded with ``safe_mode=True``.

    Raises:
        DataError: the file is missing, corrupt, or not such a classifier (the
            message names the file and how to make it again).
    """
    from artlib import modelio

    path = Path(CLASSIFIER_PATH if path is None else path).expanduser()
    model = modelio.load_model(path, what="Fashion-MNIST classifier", fix=_REMAKE, check=_check_classifier)
    if verbose:
        print(f"Fashion-MNIST classifier: {path} ({model.count_params():,} parameters)")
    return model


def classifier_outputs(classifier: Any, images: Any, *, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Features and class probabilities of each image, in one batched pass of the classifier.

    Args:
        classifier: A model from :func:`load_fashion_classifier` or
            :func:`build_fashion_classifier`.
        images: ``N×28×28`` or ``N×28×28×1``; uint8 (0–255) or float pixels in
            [0, 1] (map [-1, 1] generator outputs with ``(x + 1) / 2`` first).
        batch_size: Images per forward pass (memory, not results).

    Returns:
        ``(features, probabilities)``: float64 arrays of shape (N, D) (D = 128
        for artlib's classifier) and (N, 10), each probability row summing to 1.

    Raises:
        ArtlibError: wrong shape, dtype or pixel range, a non-positive
            ``batch_size``, or a model without a "features" layer.
    """
    import keras

    x = fashion_batch(images, keep_uint8=True)  # (N, 28, 28, 1); uint8 is scaled batch by batch
    batch_size = positive_int(batch_size, "batch_size")
    try:
        heads = keras.Model(classifier.input, [classifier.get_layer("features").output, classifier.output])
    except (ValueError, AttributeError) as err:
        raise ArtlibError(
            "classifier must be a functional Keras model with a layer named 'features', "
            f"like build_fashion_classifier() or load_fashion_classifier() return ({err})."
        ) from err
    features, logits = [], []
    for start in range(0, len(x), batch_size):
        chunk = x[start : start + batch_size]
        if chunk.dtype == np.uint8:
            chunk = chunk.astype(np.float32) / 255.0
        f, z = heads(chunk, training=False)
        features.append(np.asarray(f, np.float64))
        logits.append(np.asarray(z, np.float64))
    logits_all = np.concatenate(logits)  # (N, 10)
    shifted = np.exp(logits_all - logits_all.max(axis=1, keepdims=True))
    return np.concatenate(features), shifted / shifted.sum(axis=1, keepdims=True)


def classifier_features(classifier: Any, images: Any, *, batch_size: int = 512) -> np.ndarray:
    """The classifier's "features" layer for each image: the space where samples are compared.

    Args:
        classifier: As in :func:`classifier_outputs`.
        images: As in :func:`classifier_outputs`.
        batch_size: Images per forward pass (memory, not results).

    Returns:
        A float64 array of shape (N, D), D = 128 for artlib's classifier.

    Raises:
        ArtlibError: as :func:`classifier_outputs`.
    """
    return classifier_outputs(classifier, images, batch_size=batch_size)[0]


def classifier_probabilities(classifier: Any, images: Any, *, batch_size: int = 512) -> np.ndarray:
    """Class probabilities (softmax of the logits) for each image.

    Args:
        classifier: As in :func:`classifier_outputs`.
        images: As in :func:`classifier_outputs`.
        batch_size: Images per forward pass.

    Returns:
        A float64 array of shape (N, 10); each row sums to 1. Column k is the
        probability of ``artlib.data.FASHION_MNIST_CLASSES[k]``.

    Raises:
        ArtlibError: as :func:`classifier_outputs`.
    """
    return classifier_outputs(classifier, images, batch_size=batch_size)[1]
