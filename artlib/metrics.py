"""Image quality measures: PSNR and SSIM, per image, with the course's settings.

The definitions (see ``DESIGN.md``, "Measures"):

* pixels in [0, 1], so ``data_range=1.0``; ``uint8`` images are scaled to
  [0, 1] first;
* PSNR = 10 · log10(data_range² / MSE), the MSE taken over every pixel and
  channel of one image; identical images give ``inf``;
* SSIM is ``tf.image.ssim`` with its defaults: an 11×11 Gaussian window with
  σ = 1.5, k1 = 0.01, k2 = 0.03, averaged over the valid (unpadded) positions
  and the channels. It matches ``skimage.metrics.structural_similarity(...,
  gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`` to about
  1e-6 (``tests/test_metrics.py`` checks it).

Shapes, the same for both measures:

* ``(H, W)``: one grayscale image → a float;
* ``(H, W, C)`` with C ≤ 4: one image with channels → a float;
* ``(N, H, W)`` with W > 4: a batch of grayscale images → an array of N values;
* ``(N, H, W, C)``: a batch → an array of N values.

Both accept NumPy arrays or TensorFlow tensors and return NumPy values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before TensorFlow is imported)

__all__ = ["psnr", "ssim", "SSIM_FILTER_SIZE"]

#: SSIM's window size (``tf.image.ssim``'s default); images must be at least this big.
SSIM_FILTER_SIZE = 11
_MAX_CHANNELS = 4  # a 3-D array whose last axis is longer than this is a batch of gray images


def _to_float(x: Any, name: str, data_range: float) -> np.ndarray:
    """NumPy float64 view of an image or batch; uint8 is scaled to [0, 1]."""
    arr = np.asarray(x)
    if arr.dtype == np.uint8:
        if data_range != 1.0:
            raise ValueError(
                f"{name} is uint8 (0-255); artlib scales uint8 images to [0, 1] itself, "
                f"so leave data_range at 1.0 (got {data_range})."
            )
        return arr.astype(np.float64) / 255.0
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must hold numbers (got dtype {arr.dtype}).")
    return arr.astype(np.float64)


def _prepare(a: Any, b: Any, data_range: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """Check and reshape a pair to (N, H, W, C); also say whether it was a batch."""
    if not np.isscalar(data_range) or not data_range > 0:
        raise ValueError(f"data_range must be a positive number (got {data_range!r}).")
    a = _to_float(a, "a", data_range)
    b = _to_float(b, "b", data_range)
    if a.shape != b.shape:
        raise ValueError(
            f"The two images must have the same shape; got a {a.shape} and b {b.shape}."
        )
    if a.ndim == 2:  # (H, W): one gray image
        a, b, batched = a[None, ..., None], b[None, ..., None], False
    elif a.ndim == 3 and a.shape[-1] <= _MAX_CHANNELS:  # (H, W, C): one image
        a, b, batched = a[None], b[None], False
    elif a.ndim == 3:  # (N, H, W): a batch of gray images
        a, b, batched = a[..., None], b[..., None], True
    elif a.ndim == 4:  # (N, H, W, C)
        batched = True
    else:
        raise ValueError(
            "Expected one image (H, W) or (H, W, C), or a batch (N, H, W) or (N, H, W, C); "
            f"got shape {a.shape}."
        )
    if a.size == 0:
        raise ValueError(f"The images are empty (shape {a.shape}).")
    return a, b, batched


def psnr(a: Any, b: Any, data_range: float = 1.0) -> np.ndarray | float:
    """Peak signal-to-noise ratio in decibels, per image (higher is closer).

    Args:
        a: A reference image or batch, pixels in [0, 1] (NumPy or tf tensor; see
            the module docstring for the accepted shapes).
        b: The image or batch to measure, the same shape as ``a``.
        data_range: The distance between the lowest and highest possible pixel
            value (1.0 for [0, 1] pixels, 2.0 for [-1, 1]).

    Returns:
        A float for one image, or a float64 array of shape (N,) for a batch;
        ``inf`` where the two images are identical.

    Raises:
        ValueError: the shapes differ or are not image shapes, or
            ``data_range`` is not positive.

    Example:
        >>> clean = np.full((8, 8), 0.5)
        >>> round(psnr(clean, clean + 0.1), 2)  # MSE = 0.01
        20.0
    """
    a, b, batched = _prepare(a, b, data_range)
    mse = np.mean((a - b) ** 2, axis=(1, 2, 3))  # (N,)
    with np.errstate(divide="ignore"):
        values = 10.0 * np.log10(data_range**2 / mse)  # mse == 0 -> inf
    return values if batched else float(values[0])


def ssim(a: Any, b: Any, data_range: float = 1.0) -> np.ndarray | float:
    """Structural similarity (SSIM), per image: 1.0 for identical images.

    Computed by ``tf.image.ssim`` with its defaults (11×11 Gaussian window,
    σ = 1.5, k1 = 0.01, k2 = 0.03), averaged over positions and channels.

    Args:
        a: A reference image or batch, pixels in [0, 1] (NumPy or tf tensor; see
            the module docstring for the accepted shapes). Both sides must be
            at least 11 pixels high and wide.
        b: The image or batch to measure, the same shape as ``a``.
        data_range: The distance between the lowest and highest possible pixel
            value (1.0 for [0, 1] pixels).

    Returns:
        A float for one image, or a float64 array of shape (N,) for a batch,
        each in [-1, 1].

    Raises:
        ValueError: the shapes differ or are not image shapes, an image is
            smaller than 11×11 pixels, or ``data_range`` is not positive.

    Example:
        >>> x = np.random.default_rng(0).random((32, 32, 3))
        >>> ssim(x, x)
        1.0
    """
    a, b, batched = _prepare(a, b, data_range)
    height, width = a.shape[1:3]
    if height < SSIM_FILTER_SIZE or width < SSIM_FILTER_SIZE:
        raise ValueError(
            f"SSIM needs images of at least {SSIM_FILTER_SIZE}x{SSIM_FILTER_SIZE} pixels "
            f"(its window size); got {height}x{width}. Use PSNR for smaller images, "
            "or upscale both images first."
        )
    import tensorflow as tf

    values = tf.image.ssim(
        tf.constant(a, tf.float32), tf.constant(b, tf.float32), max_val=float(data_range)
    )  # (N,)
    values = values.numpy().astype(np.float64)
    return values if batched else float(values[0])


# =====================================================================================
# Measuring generated samples: quality, coverage and novelty (Fashion-MNIST, 28×28)
# =====================================================================================
#
# A GAN's samples are judged through a small Fashion-MNIST classifier that artlib trains
# and ships (``data/pretrained/fashion_classifier.keras``, made by
# ``data/make_fashion_classifier.py``):
#
# * quality, as a distance between two sets of images in the classifier's feature space
#   (its 128-wide "features" layer): the Fréchet distance between Gaussians fitted to the
#   two sets (the recipe of FID, but on this classifier's features, not Inception's, so it
#   is *not* FID and its numbers are not comparable with published FIDs) and the kernel
#   distance KID (Bińkowski et al. 2018), unbiased, which does not need many samples;
# * coverage: how many of the ten classes the samples fall into, and how confidently;
# * novelty: each sample's nearest training image, in pixels and in features, and the
#   share of samples that are near-copies of a training image (see ``sample_report``).

from pathlib import Path  # noqa: E402  (this section's own imports)
from typing import TYPE_CHECKING  # noqa: E402

from artlib.errors import ArtlibError, DataError  # noqa: E402

if TYPE_CHECKING:
    import keras

__all__ += [
    "CLASSIFIER_PATH",
    "CONFIDENT_PROBABILITY",
    "COVERED_SHARE",
    "NEAR_COPY_PERCENTILE",
    "build_fashion_classifier",
    "train_fashion_classifier",
    "load_fashion_classifier",
    "classifier_features",
    "classifier_probabilities",
    "frechet_distance",
    "kernel_distance",
    "nearest_neighbours",
    "near_copy_threshold",
    "sample_report",
    "neighbour_rows",
]

#: The classifier that ships with artlib (see ``data/README.md`` for its provenance).
CLASSIFIER_PATH = config.REPO_ROOT / "data" / "pretrained" / "fashion_classifier.keras"
#: A sample is "confidently" of class k when the classifier gives k at least this probability.
CONFIDENT_PROBABILITY = 0.5
#: A class is covered when at least this share of all samples is confidently of that class
#: (under a third of its fair share, 1/10, on the balanced Fashion-MNIST: a classifier that
#: confuses shirts with T-shirts still finds every class in real test images).
COVERED_SHARE = 0.03
#: Near-copy threshold: this percentile of real unseen images' distances to their nearest
#: training image, so that about 1 % of real test images count as near-copies.
NEAR_COPY_PERCENTILE = 1.0
_NEAR_COPY_CALIBRATION_SIZE = 1000  # reference images used to calibrate the threshold
_IMAGE_SHAPE = (28, 28)
_RANGE_TOLERANCE = 1e-3  # float pixels may overshoot [0, 1] by this much (then clipped)


def _as_unit_images(images: Any, name: str = "images") -> np.ndarray:
    """Check a batch of 28×28 images and return it as float32 N×28×28×1 in [0, 1]."""
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]  # N×28×28×1 → N×28×28
    if arr.ndim != 3 or arr.shape[1:] != _IMAGE_SHAPE or len(arr) == 0:
        raise ArtlibError(
            f"{name} must be a non-empty batch of 28×28 grayscale images, shape (N, 28, 28) or "
            f"(N, 28, 28, 1); got shape {arr.shape}."
        )
    if arr.dtype == np.uint8:
        return (arr.astype(np.float32) / 255.0)[..., None]  # N×28×28×1
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise ArtlibError(f"{name} must hold uint8 (0-255) or float pixels in [0, 1]; got dtype {arr.dtype}.")
    arr = arr.astype(np.float32)
    if not np.all(np.isfinite(arr)):
        raise ArtlibError(f"{name} holds NaN or infinite pixels; check the model that made them.")
    low, high = float(arr.min()), float(arr.max())
    if low < -_RANGE_TOLERANCE or high > 1 + _RANGE_TOLERANCE:
        hint = (" They look like [-1, 1] pixels: pass (images + 1) / 2." if low < 0 and high <= 1 + _RANGE_TOLERANCE
                else " Pass uint8 images, or floats scaled to [0, 1].")
        raise ArtlibError(f"{name} must be float pixels in [0, 1]; got values from {low:.3g} to {high:.3g}.{hint}")
    return np.clip(arr, 0.0, 1.0)[..., None]  # N×28×28×1


def _as_features(features: Any, name: str) -> np.ndarray:
    """Check an (N, D) feature matrix and return it as float64."""
    arr = np.asarray(features)
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ArtlibError(f"{name} must be an (N, D) array of features with N ≥ 2; got shape {arr.shape}.")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise ArtlibError(f"{name} must hold numbers; got dtype {arr.dtype}.")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ArtlibError(f"{name} holds NaN or infinite values.")
    return arr


# --- the classifier ----------------------------------------------------------------------


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
    verbose: int | str = "auto",
) -> keras.Model:
    """Train :func:`build_fashion_classifier` with Adam and cross-entropy (``fit``).

    Args:
        images: ``N×28×28`` (or ``N×28×28×1``) uint8 or float pixels in [0, 1].
        labels: ``N`` integer labels in 0..9.
        num_epochs: Passes over the data.
        batch_size: Images per step.
        seed: Seeds the weights and the shuffling (new order every epoch).
        validation: Optional ``(images, labels)`` evaluated after every epoch.
        verbose: Passed to ``fit`` (0 silences it).

    Returns:
        The trained, compiled model; ``model.history.history`` holds the
        per-epoch loss and accuracy.

    Raises:
        ArtlibError: wrong shapes, pixel ranges or labels.
    """
    import keras
    import tensorflow as tf

    from artlib import training

    x = _as_unit_images(images)
    y = np.asarray(labels)
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9:
        raise ArtlibError(f"labels must be {len(x)} integers in 0..9 (one per image); got shape {y.shape}, dtype {y.dtype}.")
    if int(num_epochs) != num_epochs or num_epochs < 1:
        raise ArtlibError(f"num_epochs must be a positive integer; got {num_epochs!r}.")
    config.set_seed(seed)
    with training.get_strategy().scope():
        model = build_fashion_classifier()
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y.astype(np.int32)))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    validation_data = None
    if validation is not None:
        validation_data = (_as_unit_images(validation[0], "validation images"), np.asarray(validation[1]))
    model.fit(dataset, epochs=int(num_epochs), validation_data=validation_data, shuffle=False, verbose=verbose)
    return model


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
    import keras

    path = Path(CLASSIFIER_PATH if path is None else path).expanduser()
    remake = "Make it with `python data/make_fashion_classifier.py` (or restore it from the repository)."
    if not path.is_file():
        raise DataError(f"The Fashion-MNIST classifier {path} is missing. {remake}")
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # noqa: BLE001 - zip, h5 or config errors all mean "corrupt"
        raise DataError(f"The Fashion-MNIST classifier {path} is corrupt or unreadable ({err}). {remake}") from err
    try:
        model.get_layer("features")
        ok = tuple(model.input_shape) == (None, 28, 28, 1) and tuple(model.output_shape) == (None, 10)
    except (ValueError, AttributeError):
        ok = False
    if not ok:
        raise DataError(
            f"{path} is not a Fashion-MNIST classifier: expected input (None, 28, 28, 1), "
            f"10 logits and a layer named 'features'. {remake}"
        )
    if verbose:
        print(f"Fashion-MNIST classifier: {path} ({model.count_params():,} parameters)")
    return model


def _forward(classifier: Any, images: Any, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Run the classifier in batches; return (features (N, D) float64, probabilities (N, 10))."""
    import keras

    x = _as_unit_images(images)
    if int(batch_size) != batch_size or batch_size < 1:
        raise ArtlibError(f"batch_size must be a positive integer; got {batch_size!r}.")
    try:
        heads = keras.Model(classifier.input, [classifier.get_layer("features").output, classifier.output])
    except (ValueError, AttributeError) as err:
        raise ArtlibError(
            "classifier must be a functional Keras model with a layer named 'features', "
            f"like build_fashion_classifier() or load_fashion_classifier() return ({err})."
        ) from err
    features, logits = [], []
    for start in range(0, len(x), int(batch_size)):
        f, z = heads(x[start : start + int(batch_size)], training=False)
        features.append(np.asarray(f, np.float64))
        logits.append(np.asarray(z, np.float64))
    logits_all = np.concatenate(logits)  # (N, 10)
    shifted = np.exp(logits_all - logits_all.max(axis=1, keepdims=True))
    return np.concatenate(features), shifted / shifted.sum(axis=1, keepdims=True)


def classifier_features(classifier: Any, images: Any, *, batch_size: int = 512) -> np.ndarray:
    """The classifier's "features" layer for each image: the space where samples are compared.

    Args:
        classifier: A model from :func:`load_fashion_classifier` or
            :func:`build_fashion_classifier`.
        images: ``N×28×28`` or ``N×28×28×1``; uint8 (0–255) or float pixels in
            [0, 1] (map [-1, 1] generator outputs with ``(x + 1) / 2`` first).
        batch_size: Images per forward pass (memory, not results).

    Returns:
        A float64 array of shape (N, D), D = 128 for artlib's classifier.

    Raises:
        ArtlibError: wrong shape, dtype or pixel range, or a model without a
            "features" layer.
    """
    return _forward(classifier, images, batch_size)[0]


def classifier_probabilities(classifier: Any, images: Any, *, batch_size: int = 512) -> np.ndarray:
    """Class probabilities (softmax of the logits) for each image.

    Args:
        classifier: As in :func:`classifier_features`.
        images: As in :func:`classifier_features`.
        batch_size: Images per forward pass.

    Returns:
        A float64 array of shape (N, 10); each row sums to 1. Column k is the
        probability of ``artlib.data.FASHION_MNIST_CLASSES[k]``.

    Raises:
        ArtlibError: as :func:`classifier_features`.
    """
    return _forward(classifier, images, batch_size)[1]


# --- distances between two sets of features ----------------------------------------------


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (negative rounding clipped)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(features_a: Any, features_b: Any) -> float:
    """Fréchet distance between Gaussians fitted to two sets of features.

    d² = ‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^½), the recipe of FID (Heusel et al.
    2017). On artlib's classifier features call it "Fréchet distance on
    classifier features", not FID: FID uses Inception-v3 features, and the
    numbers are on a different scale. It is biased upwards for small sets, so
    compare values computed from the same number of samples.

    ``Tr (Σa Σb)^½`` is computed as ``Tr (Σa^½ Σb Σa^½)^½`` with symmetric
    eigen-decompositions (``numpy.linalg.eigh``), which stays real and finite
    where ``scipy.linalg.sqrtm(Σa @ Σb)`` can return complex values or fail on
    singular, ill-conditioned covariances (e.g. features that are always 0);
    both agree wherever ``sqrtm`` is well-behaved (tested).

    Args:
        features_a: (N, D) features of one set (N ≥ 2), e.g. of samples.
        features_b: (M, D) features of the other set (M ≥ 2), e.g. of real images.

    Returns:
        A float ≥ 0; 0 for identical sets.

    Raises:
        ArtlibError: not 2-D, fewer than 2 rows, different widths, or NaN/inf.

    Example:
        >>> a = np.random.default_rng(0).normal(size=(5000, 2))
        >>> round(frechet_distance(a, a + [3.0, 4.0]), 1)  # shifted means: ‖Δμ‖² = 25
        25.0
    """
    a = _as_features(features_a, "features_a")
    b = _as_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ArtlibError(f"features_a and features_b must have the same width; got {a.shape[1]} and {b.shape[1]}.")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))  # (D, D)
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _sqrt_psd(cov_a)
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)  # eigenvalues of Σa^½ Σb Σa^½ = those of Σa Σb
    trace_sqrt = float(np.sum(np.sqrt(np.clip(cross, 0.0, None))))
    distance = float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt)
    return max(distance, 0.0)  # rounding can give -1e-12 for identical sets


def kernel_distance(
    features_a: Any,
    features_b: Any,
    *,
    num_subsets: int = 10,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Kernel distance (KID): unbiased squared MMD with a cubic polynomial kernel.

    k(x, y) = (x·y / D + 1)³ (Bińkowski et al. 2018, "Demystifying MMD GANs").
    For each of ``num_subsets`` random subsets of m = ``min(subset_size, N, M)``
    rows from each side (without replacement)::

        MMD² = Σ_{i≠j} k(a_i, a_j) / (m(m−1)) + Σ_{i≠j} k(b_i, b_j) / (m(m−1)) − 2 Σ_{i,j} k(a_i, b_j) / m²

    Unlike the Fréchet distance it is unbiased, so small sets give the right
    value on average (it can be slightly negative when the sets match).

    Args:
        features_a: (N, D) features, N ≥ 2.
        features_b: (M, D) features, M ≥ 2.
        num_subsets: How many random subsets to average.
        subset_size: Rows per subset (capped at N and M).
        seed: Seeds the subset choice.

    Returns:
        ``(mean, std)`` of MMD² over the subsets.

    Raises:
        ArtlibError: bad features (as :func:`frechet_distance`) or a
            non-positive ``num_subsets``/``subset_size``.
    """
    a = _as_features(features_a, "features_a")
    b = _as_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ArtlibError(f"features_a and features_b must have the same width; got {a.shape[1]} and {b.shape[1]}.")
    if int(num_subsets) != num_subsets or num_subsets < 1 or int(subset_size) != subset_size or subset_size < 2:
        raise ArtlibError(f"num_subsets must be ≥ 1 and subset_size ≥ 2; got {num_subsets!r} and {subset_size!r}.")
    width = a.shape[1]
    m = int(min(subset_size, len(a), len(b)))
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(int(num_subsets)):
        x = a[rng.choice(len(a), m, replace=False)]  # (m, D)
        y = b[rng.choice(len(b), m, replace=False)]
        k_xx = (x @ x.T / width + 1.0) ** 3  # (m, m)
        k_yy = (y @ y.T / width + 1.0) ** 3
        k_xy = (x @ y.T / width + 1.0) ** 3
        off_diagonal = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        values.append(off_diagonal - 2.0 * k_xy.mean())
    return float(np.mean(values)), float(np.std(values))


# --- novelty: nearest training images ------------------------------------------------------


def nearest_neighbours(
    queries: Any, references: Any, *, k: int = 1, batch_size: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest references (euclidean) of each query, in memory-bounded blocks.

    Images are flattened, so pass images (``N×28×28``, any numeric dtype, used
    as given) or features (``N×D``). Candidates are found with float32 matrix
    products in blocks of ``batch_size`` queries × 8192 references (≤ 32 MB at
    a time, so 60,000 references are fine), then the distances of the best
    candidates are recomputed exactly in float64.

    Args:
        queries: (N, ...) query vectors or images.
        references: (M, ...) reference vectors or images, the same shape after axis 0.
        k: Neighbours per query (1 ≤ k ≤ M).
        batch_size: Queries per block.

    Returns:
        ``(distances, indices)``, each of shape (N, k), nearest first:
        float64 euclidean distances and int64 indices into ``references``.

    Raises:
        ArtlibError: empty inputs, mismatched shapes, NaN/inf, or a bad ``k``.

    Example:
        >>> refs = np.array([[0.0, 0.0], [10.0, 0.0]])
        >>> nearest_neighbours(np.array([[9.0, 1.0]]), refs)[1]
        array([[1]])
    """
    q, r = np.asarray(queries), np.asarray(references)
    if q.ndim < 2 or r.ndim < 2 or len(q) == 0 or len(r) == 0 or q.shape[1:] != r.shape[1:]:
        raise ArtlibError(
            "queries and references must be non-empty batches of the same item shape; "
            f"got shapes {q.shape} and {r.shape}."
        )
    for arr, name in ((q, "queries"), (r, "references")):
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
            raise ArtlibError(f"{name} must hold numbers; got dtype {arr.dtype}.")
        if np.issubdtype(arr.dtype, np.inexact) and not np.all(np.isfinite(arr)):
            raise ArtlibError(f"{name} must not hold NaN or infinite values.")
    if int(k) != k or not 1 <= k <= len(r):
        raise ArtlibError(f"k must be an integer between 1 and the number of references ({len(r)}); got {k!r}.")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ArtlibError(f"batch_size must be a positive integer; got {batch_size!r}.")
    q = q.reshape(len(q), -1)  # (N, ...) → (N, P)
    r = r.reshape(len(r), -1)  # (M, ...) → (M, P)
    k, batch_size, block = int(k), int(batch_size), 8192
    candidates = min(len(r), k + 8)  # float32 rounding can swap near-ties: re-rank a few extra exactly
    center = r.mean(axis=0, dtype=np.float64)  # centring shrinks the norms, and so float32 cancellation
    distances = np.empty((len(q), k))
    indices = np.empty((len(q), k), np.int64)
    for start in range(0, len(q), batch_size):
        q64 = q[start : start + batch_size].astype(np.float64)  # (B, P)
        q32 = (q64 - center).astype(np.float32)
        q_norms = np.einsum("ij,ij->i", q32, q32)[:, None]  # (B, 1)
        best_d = np.full((len(q32), 0), np.inf, np.float32)
        best_i = np.empty((len(q32), 0), np.int64)
        for r_start in range(0, len(r), block):
            r32 = (r[r_start : r_start + block] - center).astype(np.float32)  # (≤8192, P)
            squared = q_norms - 2.0 * (q32 @ r32.T) + np.einsum("ij,ij->i", r32, r32)  # (B, ≤8192)
            best_d = np.concatenate([best_d, squared], axis=1)
            block_i = np.broadcast_to(np.arange(r_start, r_start + len(r32)), squared.shape)
            best_i = np.concatenate([best_i, block_i], axis=1)
            if best_d.shape[1] > candidates:
                keep = np.argpartition(best_d, candidates - 1, axis=1)[:, :candidates]
                best_d = np.take_along_axis(best_d, keep, axis=1)
                best_i = np.take_along_axis(best_i, keep, axis=1)
        best_i = np.sort(best_i, axis=1)  # (B, C); ties then go to the lowest index, like np.argmin
        exact = np.stack(
            [np.linalg.norm(q64 - r[best_i[:, c]].astype(np.float64), axis=1) for c in range(best_i.shape[1])],
            axis=1,
        )  # (B, C) float64
        order = np.argsort(exact, axis=1, kind="stable")[:, :k]
        distances[start : start + batch_size] = np.take_along_axis(exact, order, axis=1)
        indices[start : start + batch_size] = np.take_along_axis(best_i, order, axis=1)
    return distances, indices


def _pixels(images: Any, name: str) -> np.ndarray:
    """Images as float32 (N, 784) pixel vectors in [0, 1]."""
    x = _as_unit_images(images, name)
    return x.reshape(len(x), -1)  # (N, 28, 28, 1) → (N, 784)


def _pixel_neighbours(images: Any, train_images: Any) -> tuple[np.ndarray, np.ndarray]:
    """Nearest training image of each image in pixel space (pixels in [0, 1]): (N,) distances, (N,) indices.

    uint8 training images are searched as they are (0–255, with the queries scaled
    to match): no float copy of 60,000 images is made.
    """
    queries = _pixels(images, "images")
    train = np.asarray(train_images)
    _pixels(train[:1], "train_images")  # the shape and dtype check, with a clear message
    if train.dtype == np.uint8:
        distances, indices = nearest_neighbours(queries * np.float32(255), train.reshape(len(train), -1))
        return distances[:, 0] / 255.0, indices[:, 0]
    distances, indices = nearest_neighbours(queries, _pixels(train, "train_images"))
    return distances[:, 0], indices[:, 0]


def near_copy_threshold(
    train_images: Any,
    reference_images: Any,
    *,
    percentile: float = NEAR_COPY_PERCENTILE,
    max_images: int = _NEAR_COPY_CALIBRATION_SIZE,
    seed: int = 0,
) -> float:
    """The pixel distance below which a sample counts as a near-copy of a training image.

    It is the ``percentile``-th percentile of the distances from real images
    the model never saw (``reference_images``, e.g. the test set; up to
    ``max_images`` of them, chosen with ``seed``) to their nearest training
    image: with the default 1, only 1 % of real unseen images are that close
    to a training image. Distances are euclidean over the 784 pixels in [0, 1].

    Args:
        train_images: ``N×28×28`` training images (uint8 or float in [0, 1]).
        reference_images: ``M×28×28`` real images that are not in the training set.
        percentile: In (0, 100).
        max_images: How many reference images to use at most.
        seed: Chooses them.

    Returns:
        The threshold, a float ≥ 0.

    Raises:
        ArtlibError: bad images or percentile.
    """
    if not 0 < percentile < 100:
        raise ArtlibError(f"percentile must be between 0 and 100; got {percentile!r}.")
    references = _as_unit_images(reference_images, "reference_images")  # (M, 28, 28, 1)
    if len(references) > max_images:
        references = references[np.random.default_rng(seed).choice(len(references), max_images, replace=False)]
    distances, _ = _pixel_neighbours(references, train_images)
    return float(np.percentile(distances, percentile))


class _Memo:
    """Remembers a few expensive results (features of 60,000 training images, the
    near-copy threshold) keyed by the content of their inputs, so that calling
    :func:`sample_report` once per epoch costs only the new samples. Results are
    the same with or without it."""

    def __init__(self, size: int = 6):
        self.size, self.items = size, {}

    @staticmethod
    def fingerprint(array: Any) -> tuple:
        import hashlib

        arr = np.ascontiguousarray(array)
        return arr.shape, str(arr.dtype), hashlib.blake2b(arr.data, digest_size=16).hexdigest()

    def get(self, key: tuple, owner: Any, compute):
        import weakref

        hit = self.items.get(key)
        if hit is not None and (hit[0] is None or hit[0]() is owner):
            return hit[1]
        value = compute()
        if len(self.items) >= self.size:
            self.items.pop(next(iter(self.items)))
        self.items[key] = (None if owner is None else weakref.ref(owner), value)
        return value


_MEMO = _Memo()


def _memo_forward(classifier: Any, images: Any) -> tuple[np.ndarray, np.ndarray]:
    key = ("forward", id(classifier), _Memo.fingerprint(images))
    return _MEMO.get(key, classifier, lambda: _forward(classifier, images, 512))


def sample_report(
    images: Any,
    train_images: Any,
    *,
    classifier: Any = None,
    reference_images: Any = None,
    seed: int = 0,
    near_copy_distance: float | None = None,
) -> dict[str, Any]:
    """Measure a set of generated images: quality, coverage, confidence and novelty.

    * **Quality**: ``"frechet"`` (Fréchet distance on classifier features) and
      ``"kid"`` ± ``"kid_std"`` (kernel distance), both against
      ``reference_images``; lower is closer to real images. The Fréchet
      distance depends on the number of samples: compare equal counts.
    * **Coverage**: ``"class_histogram"``, the share of samples whose most
      probable class is k (a collapsed generator piles up in a few bins);
      ``"class_coverage"``, the share of the 10 classes that are covered: at
      least :data:`COVERED_SHARE` (3 %) of all samples are classified as that
      class with probability ≥ :data:`CONFIDENT_PROBABILITY` (0.5);
      ``"confidence"``, the mean of the highest class probability.
    * **Novelty**: each sample's nearest training image in pixels
      (``"nn_indices_pixel"``, mean distance ``"pixel_nn_distance"``) and in
      classifier features (``"nn_indices_feature"``, ``"feature_nn_distance"``).
      A sample is a **near-copy** when it is closer (in pixels) to a training
      image than all but 1 % of real test images are to theirs
      (:func:`near_copy_threshold`, stored as ``"near_copy_distance"``);
      ``"near_copy_share"`` is the share of near-copies. Real unseen images
      score about 0.01; a generator that memorised its training set scores near 1.

    Args:
        images: The samples, ``N×28×28`` (or ``×1``), uint8 or float in [0, 1]
            (N ≥ 2; a few hundred or more for stable numbers).
        train_images: The images the generator was trained on.
        classifier: Default: :func:`load_fashion_classifier`'s shipped model.
        reference_images: Real images the generator never saw; default the
            Fashion-MNIST test set from :func:`artlib.data.load_fashion_mnist`.
        seed: Seeds KID's subsets and the threshold's calibration images.
        near_copy_distance: Use this pixel distance as the near-copy threshold
            instead of calibrating it on ``reference_images``.

    Returns:
        A dict with the floats ``"frechet"``, ``"kid"``, ``"kid_std"``,
        ``"class_coverage"``, ``"confidence"``, ``"near_copy_share"``,
        ``"near_copy_distance"``, ``"pixel_nn_distance"``, ``"feature_nn_distance"``,
        the int ``"num_samples"``, and the arrays ``"class_histogram"`` (10,),
        ``"nn_indices_pixel"`` (N,), ``"nn_indices_feature"`` (N,),
        ``"nn_distances_pixel"`` (N,) and ``"nn_distances_feature"`` (N,).

    Raises:
        ArtlibError: bad images (shape, dtype, range) or fewer than 2 samples.
        DataError: no classifier given and the shipped one is missing or corrupt.
    """
    samples = _as_unit_images(images)  # (N, 28, 28, 1) float32 in [0, 1]
    if len(samples) < 2:
        raise ArtlibError(f"sample_report needs at least 2 images; got {len(samples)}.")
    train = np.asarray(train_images)
    _pixels(train[:1], "train_images")  # check the shape early, with a clear message
    _pixels(np.asarray(reference_images)[:1] if reference_images is not None else train[:1], "reference_images")
    if classifier is None:
        classifier = load_fashion_classifier(verbose=False)
    if reference_images is None:
        from artlib import data

        (_, _), (reference_images, _) = data.load_fashion_mnist(verbose=False)
    reference = np.asarray(reference_images)

    sample_features, probabilities = _forward(classifier, samples, 512)
    train_features = _memo_forward(classifier, train)[0]
    reference_features = _memo_forward(classifier, reference)[0]
    kid, kid_std = kernel_distance(sample_features, reference_features, seed=seed)

    confident = probabilities.max(axis=1) >= CONFIDENT_PROBABILITY  # (N,)
    predicted = probabilities.argmax(axis=1)  # (N,)
    histogram = np.bincount(predicted, minlength=10) / len(samples)  # (10,)
    confident_share = np.bincount(predicted[confident], minlength=10) / len(samples)  # (10,)

    if near_copy_distance is None:
        key = ("threshold", _Memo.fingerprint(train), _Memo.fingerprint(reference), seed)
        near_copy_distance = _MEMO.get(key, None, lambda: near_copy_threshold(train, reference, seed=seed))
    pixel_d, pixel_i = _pixel_neighbours(samples, train)  # (N,), (N,)
    feature_d, feature_i = nearest_neighbours(sample_features, train_features)  # (N, 1), (N, 1)
    return {
        "num_samples": len(samples),
        "frechet": frechet_distance(sample_features, reference_features),
        "kid": kid,
        "kid_std": kid_std,
        "class_coverage": float(np.mean(confident_share >= COVERED_SHARE)),
        "confidence": float(probabilities.max(axis=1).mean()),
        "class_histogram": histogram,
        "near_copy_share": float(np.mean(pixel_d < near_copy_distance)),
        "near_copy_distance": float(near_copy_distance),
        "pixel_nn_distance": float(pixel_d.mean()),
        "feature_nn_distance": float(feature_d.mean()),
        "nn_indices_pixel": pixel_i,
        "nn_indices_feature": feature_i[:, 0],
        "nn_distances_pixel": pixel_d,
        "nn_distances_feature": feature_d[:, 0],
    }


def neighbour_rows(
    images: Any,
    train_images: Any,
    report: dict[str, Any] | None = None,
    *,
    count: int = 8,
    order: str = "first",
) -> dict[str, np.ndarray]:
    """Rows for ``artlib.plotting.compare_rows``: samples above their nearest training images.

    Example:
        >>> report = sample_report(samples, x_train)  # doctest: +SKIP
        >>> plotting.compare_rows(neighbour_rows(samples, x_train, report, order="closest"))  # doctest: +SKIP

    Args:
        images: The samples, as given to :func:`sample_report`.
        train_images: The training images, as given to :func:`sample_report`.
        report: Its result; without one, only the pixel-space neighbours are
            searched (no classifier needed).
        count: How many samples (columns) to show.
        order: ``"first"`` (the first ``count`` samples), ``"closest"`` (the most
            copy-like: smallest pixel distance first) or ``"farthest"``.

    Returns:
        ``{"sample": (count, 28, 28), "nearest in pixels": …, "nearest in features": …}``
        (the last row only with a ``report``), float32 pixels in [0, 1].

    Raises:
        ArtlibError: bad images, ``count < 1`` or an unknown ``order``.
    """
    samples = _as_unit_images(images)[..., 0]  # (N, 28, 28)
    train = np.asarray(train_images)
    if int(count) != count or count < 1:
        raise ArtlibError(f"count must be a positive integer; got {count!r}.")
    if report is None:
        (pixel_d, pixel_i), feature_i = _pixel_neighbours(samples, train), None
    else:
        pixel_d, pixel_i = report["nn_distances_pixel"], report["nn_indices_pixel"]
        feature_i = report["nn_indices_feature"]
        if len(pixel_i) != len(samples):
            raise ArtlibError(f"report is for {len(pixel_i)} samples but images holds {len(samples)}.")
    if order == "first":
        chosen = np.arange(len(samples))
    elif order in ("closest", "farthest"):
        chosen = np.argsort(pixel_d, kind="stable")
        chosen = chosen if order == "closest" else chosen[::-1]
    else:
        raise ArtlibError(f"order must be 'first', 'closest' or 'farthest'; got {order!r}.")
    chosen = chosen[: int(count)]
    rows = {
        "sample": samples[chosen],
        "nearest in pixels": _as_unit_images(train[pixel_i[chosen]], "train_images")[..., 0],
    }
    if feature_i is not None:
        rows["nearest in features"] = _as_unit_images(train[feature_i[chosen]], "train_images")[..., 0]
    return rows
