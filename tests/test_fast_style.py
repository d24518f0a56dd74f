"""Tests for artlib.fast_style: the network's shapes and size, the loss against its terms, a loss
that falls, training moves toward the style, save/load, exact resume (with another seed given),
rendering (GIF, folder, frame rate), bad values, and the CLI on bad input.

Exact resume needs op determinism, which is process-wide, so that scenario runs this file as a
script in a subprocess (through ``conftest.run_python``, as tests/test_training.py does)::

    python tests/test_fast_style.py resume <directory>
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import run_python

HERE = Path(__file__).resolve()
SIZE = 48  # training crops in these tests


def tiny_extractor():
    from artlib import style

    # Shallow layers only: cheap, and enough to carry a texture's colours and grain.
    return style.FeatureExtractor("random", content_layers=("block2_conv1",),
                                  style_layers=("block1_conv1", "block2_conv1"), verbose=False)


@pytest.fixture(scope="module")
def extractor():
    return tiny_extractor()


@pytest.fixture(scope="module")
def style_image():
    from artlib import patterns

    return patterns.make_pattern("swirls", SIZE, seed=0)


@pytest.fixture(scope="module")
def photos():
    from artlib import fast_style

    return fast_style.load_content_photos(["astronaut", "rocket"], max_dim=2 * SIZE)


# ----------------------------------------------------------------------------- the network
def test_network_keeps_any_size_and_starts_as_the_identity():
    from artlib import fast_style

    network = fast_style.build_transformer(width=4, num_blocks=1)
    images = np.random.default_rng(0).uniform(0, 1, (2, 37, 53, 3)).astype(np.float32)
    out = network(images).numpy()
    assert out.shape == (2, 37, 53, 3) and out.dtype == np.float32
    # The last convolution starts at zero: the output is the input (clipped to [0.01, 0.99]).
    np.testing.assert_allclose(out, np.clip(images, 0.01, 0.99), atol=1e-5)
    assert network.get_layer("down1_conv").strides == (2, 2)
    assert isinstance(network.get_layer("up0_resize"), __import__("keras").layers.UpSampling2D)


def test_match_colours_gives_each_image_the_styles_statistics():
    from artlib import fast_style
    from artlib.errors import ArtlibError

    rng = np.random.default_rng(0)
    style_image = np.clip(rng.normal([0.2, 0.4, 0.7], [0.05, 0.1, 0.08], (40, 30, 3)), 0, 1)
    means, stds = fast_style.colour_statistics(style_image)
    np.testing.assert_allclose(means, style_image.reshape(-1, 3).mean(0), atol=1e-9)  # NumPy's
    np.testing.assert_allclose(stds, style_image.reshape(-1, 3).std(0), atol=1e-9)
    layer = fast_style.MatchColours(means, stds)
    images = rng.uniform(0, 1, (2, 37, 53, 3)).astype(np.float32) * [1.0, 0.5, 0.2]  # other colours
    out = layer(images).numpy()
    assert out.shape == images.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    for image, result in zip(images, out):  # per image and channel: the style's mean and spread
        np.testing.assert_allclose(result.reshape(-1, 3).mean(0), means, atol=2e-3)
        np.testing.assert_allclose(result.reshape(-1, 3).std(0), stds, rtol=2e-2)
        # a per-channel affine map of the image (the reference), so the picture's layout stays
        expected = (image - image.reshape(-1, 3).mean(0)) / np.sqrt(image.reshape(-1, 3).var(0) + 1e-4)
        np.testing.assert_allclose(result, np.clip(expected * stds + means, 0, 1), atol=1e-4)
    shift = fast_style.MatchColours(means, stds, spread=False)(images).numpy()  # the means only
    for image, result in zip(images, shift):
        np.testing.assert_allclose(result, np.clip(image - image.reshape(-1, 3).mean(0) + means, 0, 1), atol=1e-5)
    flat = layer(np.full((1, 8, 8, 3), 0.3, np.float32)).numpy()  # no spread: the style's mean colour
    np.testing.assert_allclose(flat, np.broadcast_to(means, flat.shape), atol=1e-5)
    network = fast_style.build_transformer(4, 1, style_colours=(means, stds))
    assert network.layers[-1].name == "match_colours" and network.count_params() == expected_params(4, 1, 5)
    np.testing.assert_allclose(network(images).numpy(), layer(np.clip(images, 0.01, 0.99)).numpy(), atol=1e-4)
    for bad in (np.zeros((4, 4)), np.full((4, 4, 3), np.nan), np.zeros((4, 4, 4))):
        with pytest.raises(ArtlibError, match="H×W×3"):
            fast_style.colour_statistics(bad)
    with pytest.raises(ArtlibError, match="three"):
        fast_style.MatchColours([0.5, 0.5], [0.1, 0.1])
    trained = fast_style.build_transformer(4, 1, seed=2)  # appended after training, as the shipped ones are
    appended = fast_style.append_match_colours(trained, style_image, spread=False)
    assert appended.layers[-1].get_config()["spread"] is False and appended.count_params() == trained.count_params()
    expected = fast_style.MatchColours(means, stds, spread=False)(trained(images)).numpy()
    np.testing.assert_allclose(appended(images).numpy(), expected, atol=1e-6)
    with pytest.raises(ArtlibError, match="already ends in MatchColours"):
        fast_style.append_match_colours(appended, style_image)


def expected_params(width: int, num_blocks: int, edge_kernel: int) -> int:
    """The parameter count of the documented architecture, layer by layer."""
    conv = lambda k, c_in, c_out: k * k * c_in * c_out + c_out  # noqa: E731 - kernel + bias
    norm = lambda c: 2 * c  # noqa: E731 - instance norm: scale + offset per channel
    w = width
    total = conv(edge_kernel, 3, w) + norm(w) + conv(3, w, 2 * w) + norm(2 * w) + conv(3, 2 * w, 4 * w) + norm(4 * w)
    total += num_blocks * 2 * (conv(3, 4 * w, 4 * w) + norm(4 * w))
    total += conv(3, 4 * w, 2 * w) + norm(2 * w) + conv(3, 2 * w, w) + norm(w)
    return total + conv(edge_kernel, w, 3)


def test_network_width_and_blocks_are_configurable():
    from artlib import fast_style
    from artlib.errors import ArtlibError

    small, large = fast_style.build_transformer(4, 1), fast_style.build_transformer(8, 2)
    assert small.count_params() == expected_params(4, 1, fast_style.DEFAULT_EDGE_KERNEL)
    assert large.count_params() == expected_params(8, 2, fast_style.DEFAULT_EDGE_KERNEL)
    assert fast_style.build_transformer(32, 5, edge_kernel=9).count_params() == expected_params(32, 5, 9)
    assert len([l for l in large.layers if l.name.endswith("_add") and l.name.startswith("res")]) == 2
    paper_ends = fast_style.build_transformer(4, 1, edge_kernel=9)
    assert paper_ends.get_layer("down0_conv").kernel_size == (9, 9)
    assert paper_ends.get_layer("out_conv").kernel_size == (9, 9)
    assert small.get_layer("out_conv").kernel_size == (fast_style.DEFAULT_EDGE_KERNEL,) * 2
    assert paper_ends(np.zeros((1, 13, 21, 3), np.float32)).shape == (1, 13, 21, 3)
    assert fast_style.build_transformer(4, 0)(np.zeros((1, 8, 8, 3), np.float32)).shape == (1, 8, 8, 3)
    for bad, message in ((dict(width=0), "width.*0"), (dict(width=2.5), "width.*2.5"),
                         (dict(num_blocks=-1), "num_blocks.*-1"), (dict(edge_kernel=4), "edge_kernel.*odd.*4"),
                         (dict(edge_kernel=0), "edge_kernel.*0")):
        with pytest.raises(ArtlibError, match=message):
            fast_style.build_transformer(**{"width": 4, "num_blocks": 1, **bad})


def test_reflection_padding_mirrors_the_border():
    from artlib import fast_style

    x = np.arange(12, dtype=np.float32).reshape(1, 3, 4, 1)
    padded = fast_style.ReflectionPadding2D(1)(x).numpy()[0, ..., 0]
    assert padded.shape == (5, 6)
    np.testing.assert_array_equal(padded[1:-1, 1:-1], x[0, ..., 0])
    np.testing.assert_array_equal(padded[0, 1:-1], x[0, 1, :, 0])  # row -1 mirrors row 1
    np.testing.assert_array_equal(padded[1:-1, 0], x[0, :, 1, 0])


def test_save_and_load_give_identical_outputs(tmp_path):
    import keras

    from artlib import fast_style
    from artlib.errors import ArtlibError, DataError

    network = fast_style.build_transformer(width=4, num_blocks=1, seed=3, style_colours=([0.2, 0.5, 0.6], [0.1] * 3))
    for v in network.trainable_variables:  # make the zero-initialized output layer matter
        v.assign(v + 0.05 * np.random.default_rng(len(v.shape)).standard_normal(v.shape).astype(np.float32))
    path = fast_style.save_network(network, tmp_path / "net.keras")
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert fast_style.load_network(path).count_params() == network.count_params()
    x = np.random.default_rng(1).uniform(0, 1, (1, 29, 31, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded(x).numpy(), network(x).numpy())
    assert loaded.get_layer("match_colours").get_config()["mean"] == [0.2, 0.5, 0.6]  # the palette travels
    untrained_like = fast_style.MatchColours([0.2, 0.5, 0.6], [0.1] * 3)(np.clip(x, 0.01, 0.99)).numpy()
    assert not np.allclose(network(x).numpy(), untrained_like, atol=1e-3)  # not what the untrained one gives
    with pytest.raises(ArtlibError, match="exists"):
        fast_style.save_network(network, path)
    assert fast_style.load_recipe(path) is None  # saved without one
    recipe = {"style": "pattern:waves", "features": "hed-vgg16", "style_layers": ["block1_conv2"], "style_size": 96}
    fast_style.save_network(network, path, force=True, recipe=recipe)
    assert fast_style.load_recipe(path) == recipe and path.with_suffix(".json").is_file()
    assert fast_style.load_recipe("swirls")["features"] == "hed-vgg16"  # the shipped one has its recipe
    (tmp_path / "bad.keras").write_bytes(b"not a zip file")
    with pytest.raises(DataError, match="bad.keras"):
        fast_style.load_network(tmp_path / "bad.keras")
    with pytest.raises(DataError, match="not found"):
        fast_style.load_network(tmp_path / "missing.keras")


def test_shipped_networks_load_and_paint():
    from artlib import config, data, fast_style

    shipped = fast_style.shipped_styles()
    assert "swirls" in shipped and fast_style.SHIPPED_DIR == config.PRETRAINED_DIR
    photo = data.load_sample_photo("chelsea", max_dim=64)  # held out from training
    for name, path in shipped.items():
        assert path.stat().st_size < 2_000_000
        network = fast_style.load_network(name)
        recipe = fast_style.load_recipe(name)
        assert fast_style.load_network(recipe["style"]).count_params() == network.count_params()  # pattern:/painting:
        # The shipped networks are the default architecture (data/README.md), trained: not the identity.
        assert network.count_params() == expected_params(fast_style.DEFAULT_WIDTH, fast_style.DEFAULT_BLOCKS,
                                                         fast_style.DEFAULT_EDGE_KERNEL)
        # Each ends in MatchColours (no weights), as its recipe says: waves trained with it, the others with
        # it appended after training (the means only).
        last = network.layers[-1]
        assert last.name == "match_colours", name
        assert recipe.get("match_colours", False) is ("appended_after_training" not in recipe), name
        assert last.get_config()["spread"] is recipe.get("match_colours", False), name
        out = fast_style.stylize_image(network, photo)
        assert out.shape == photo.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
        assert np.abs(out - photo).mean() > 0.1, name  # measured 0.26 for swirls


# ----------------------------------------------------------------------------- data and training
def test_loss_layers_follow_the_weights(tmp_path):
    from artlib import fast_style, style

    random = fast_style.loss_extractor("random", verbose=False)
    assert random.is_random and random.content_layers == fast_style.FAST_RANDOM_CONTENT_LAYERS == ("block3_conv1",)
    assert random.style_layers == fast_style.FAST_RANDOM_STYLE_LAYERS == style.RANDOM_STYLE_LAYERS
    path = random.save_weights(tmp_path / "vgg.weights.h5")  # stands in for trained weights
    trained = fast_style.loss_extractor(str(path), verbose=False)
    assert not trained.is_random and trained.style_layers == fast_style.FAST_STYLE_LAYERS
    assert trained.content_layers == fast_style.FAST_CONTENT_LAYERS == ("block3_conv3",)
    chosen = fast_style.loss_extractor("random", ("block2_conv1",), ("block1_conv1",), verbose=False)
    assert chosen.style_layers == ("block1_conv1",) and chosen.content_layers == ("block2_conv1",)


def test_content_batches_are_deterministic_per_epoch(photos):
    from artlib import fast_style

    batches = fast_style.ContentBatches(photos, 32, 3, steps_per_epoch=4, seed=5, epoch=1)
    assert len(batches) == 4 and batches[2].shape == (3, 32, 32, 3) and batches[2].dtype == np.float32
    again = fast_style.ContentBatches(photos, 32, 3, steps_per_epoch=4, seed=5, epoch=1)
    np.testing.assert_array_equal(batches[2], again[2])
    other = fast_style.ContentBatches(photos, 32, 3, steps_per_epoch=4, seed=5, epoch=2)
    assert not np.array_equal(batches[2], other[2])
    reseeded = fast_style.ContentBatches(photos, 32, 3, steps_per_epoch=4, seed=6, epoch=1)
    assert not np.array_equal(batches[2], reseeded[2])
    crops = batches[0].reshape(3, -1)
    assert not np.array_equal(crops[0], crops[1]) and not np.array_equal(crops[1], crops[2])  # three crops
    with pytest.raises(IndexError):
        batches[4]


def test_held_out_photos_are_the_ones_of_artlib_data():
    from artlib import autoencoder, data, fast_style

    assert fast_style.EVAL_PHOTOS is data.HELD_OUT_PHOTOS and autoencoder.HELD_OUT_PHOTOS is data.HELD_OUT_PHOTOS
    assert set(data.HELD_OUT_PHOTOS) <= set(data.SAMPLE_PHOTOS)
    assert fast_style.TRAIN_PHOTOS == tuple(p for p in data.SAMPLE_PHOTOS if p not in data.HELD_OUT_PHOTOS)


def test_opencv_doc_photos_join_the_default_content_where_installed_and_are_an_error_where_named_but_missing(
        tmp_path, monkeypatch, capsys):
    from PIL import Image

    from artlib import data, fast_style, imageio
    from artlib.errors import DataError

    assert "starry_night.jpg" not in data.OPENCV_DOC_PHOTOS and len(set(data.OPENCV_DOC_PHOTOS)) == 23
    monkeypatch.setattr(data, "OPENCV_DOC_DIR", tmp_path)  # not installed
    assert fast_style.default_content() == fast_style.TRAIN_PHOTOS
    assert "scikit-image's 10 only (Debian's opencv-doc is not installed; `sudo apt install opencv-doc`" in \
        capsys.readouterr().out
    with pytest.raises(DataError, match=f"'{tmp_path}' is missing.*apt install opencv-doc"):
        fast_style.load_content_photos([fast_style.OPENCV_DOC])
    rng = np.random.default_rng(0)
    for name in data.OPENCV_DOC_PHOTOS:  # small stand-ins, each its own colours
        Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(tmp_path / name)
    assert fast_style.default_content(verbose=False) == (*fast_style.TRAIN_PHOTOS, "opencv-doc")
    assert capsys.readouterr().out == ""
    fast_style.default_content()
    assert f"scikit-image's 10 and Debian opencv-doc's 23 ({tmp_path})" in capsys.readouterr().out
    photos = fast_style.load_content_photos(["astronaut", "opencv-doc"], max_dim=32)
    assert len(photos) == 24 and photos[0].shape == (32, 32, 3)
    for photo, name in zip(photos[1:], data.OPENCV_DOC_PHOTOS):  # all of them, in order
        np.testing.assert_array_equal(photo, imageio.load_image(tmp_path / name, max_dim=32))
    (tmp_path / "messi5.jpg").unlink()
    with pytest.raises(DataError, match="1 of its photos are missing .* messi5.jpg"):
        fast_style.load_content_photos(["opencv-doc"])
    assert fast_style.default_content(verbose=False) == fast_style.TRAIN_PHOTOS  # all or none


def test_content_photos_may_be_arrays_and_anything_else_is_refused_by_name():
    from artlib import fast_style
    from artlib.errors import ArtlibError, ImageError

    rng = np.random.default_rng(0)
    wide = rng.integers(0, 256, (30, 60, 3), dtype=np.uint8)
    small = rng.random((10, 12, 3), dtype=np.float32)
    named, shrunk, kept = fast_style.load_content_photos(["astronaut", wide, small], max_dim=20)
    assert named.shape == (20, 20, 3) and shrunk.shape == (10, 20, 3) and kept.shape == (10, 12, 3)
    assert shrunk.dtype == kept.dtype == np.float32 and 0 <= shrunk.min() and shrunk.max() <= 1
    np.testing.assert_allclose(shrunk.mean(), wide.mean() / 255, atol=0.02)  # uint8 scaled, not 0–255
    np.testing.assert_array_equal(kept, small)  # as load_image: a smaller photo is not enlarged
    (gray,) = fast_style.load_content_photos([small[..., 0]], max_dim=20)  # gray becomes RGB, as a gray file does
    np.testing.assert_array_equal(gray, np.repeat(small[..., :1], 3, axis=-1))
    for bad, message in ((small * 255, r"content photo 1 must hold pixels in \[0, 1\]"),
                         (small[..., :2], "content photo 1"), (np.full((4, 4, 3), np.nan, np.float32), "NaN"),
                         (np.stack([small, small]), "content photo 1 must be one image, not a batch of 2")):
        with pytest.raises(ImageError, match=message):
            fast_style.load_content_photos(["astronaut", bad], max_dim=20)
    for bad in (7, None, b"astronaut"):
        with pytest.raises(ArtlibError, match=f"content photo 0 must be a sample name, a path, a URL or an "
                                              f"H×W×3 array, not {type(bad).__name__}"):
            fast_style.load_content_photos([bad])


def test_perceptual_loss_is_its_weighted_terms(extractor, style_image, photos):
    import tensorflow as tf

    from artlib import fast_style, style
    from artlib.errors import ArtlibError

    content = tf.constant(fast_style.ContentBatches(photos, SIZE, 1, steps_per_epoch=1)[0])  # 1×S×S×3
    outputs = tf.constant(np.clip(content.numpy() + 0.1 * np.random.default_rng(0).standard_normal(content.shape),
                                  0, 1).astype(np.float32))
    own = extractor(content)
    own_grams = {n: style.gram_matrix(own[n]) for n in extractor.style_layers}
    # An output equal to its input, with its own Gram matrices as the target: content and style are 0.
    same = fast_style.perceptual_loss(extractor, content, content, own_grams, content_weight=1.0,
                                      style_weight=1.0, tv_weight=2.0)
    assert float(same["content"]) == 0 and float(same["style"]) < 1e-10
    np.testing.assert_allclose(float(same["tv"]), 2.0 * float(style.total_variation_loss(content, "l2")), rtol=1e-6)
    target = {n: style.gram_matrix(g) for n, g in extractor(style_image[np.newaxis]).items()
              if n in extractor.style_layers}
    terms = fast_style.perceptual_loss(extractor, outputs, content, target, content_weight=3.0, style_weight=5.0,
                                       tv_weight=7.0)
    features = extractor(outputs)
    expected = {
        "content": 3.0 * float(style.content_loss(features, own, {"block2_conv1": 1.0})),
        "style": 5.0 * float(style.style_loss({n: style.gram_matrix(features[n]) for n in extractor.style_layers},
                                              target, {n: 0.5 for n in extractor.style_layers})),
        "tv": 7.0 * float(style.total_variation_loss(outputs, "l2")),
    }
    for name, value in expected.items():
        np.testing.assert_allclose(float(terms[name]), value, rtol=1e-5, err_msg=name)
    np.testing.assert_allclose(float(terms["total"]), sum(expected.values()), rtol=1e-5)
    # the style term as the judged distance: the same content and TV, the style term not squared
    measured = fast_style.perceptual_loss(extractor, outputs, content, target, content_weight=3.0, style_weight=5.0,
                                          tv_weight=7.0, style_term="distance")
    distance = 5.0 * float(style.style_distance_loss({n: style.gram_matrix(features[n])
                                                      for n in extractor.style_layers},
                                                     target, {n: 0.5 for n in extractor.style_layers}))
    np.testing.assert_allclose(float(measured["style"]), distance, rtol=1e-5)
    assert abs(float(measured["style"]) - float(terms["style"])) > 1e-3 * float(terms["style"])  # another term
    for name in ("content", "tv"):
        np.testing.assert_allclose(float(measured[name]), expected[name], rtol=1e-5, err_msg=name)
    with pytest.raises(ArtlibError, match="style_term must be one of 'squared', 'distance'; got 'gram'"):
        fast_style.perceptual_loss(extractor, outputs, content, target, content_weight=1.0, style_weight=1.0,
                                   tv_weight=1.0, style_term="gram")


def test_steps_lower_the_loss_and_move_the_zero_output_layer(extractor, style_image, photos):
    import keras

    from artlib import fast_style

    network = fast_style.build_transformer(width=4, num_blocks=1)
    optimizer = keras.optimizers.Adam(1e-2)
    step = fast_style.make_train_step(network, optimizer, extractor, style_image)
    before = [v.numpy().copy() for v in network.trainable_variables]
    batch = fast_style.ContentBatches(photos, SIZE, 2, steps_per_epoch=1)[0]
    terms = [step(batch) for _ in range(8)]
    assert set(terms[0]) == {"total", "content", "style", "tv"}
    totals = [float(t["total"]) for t in terms]
    assert all(np.isfinite(totals)) and totals[-1] < 0.8 * totals[0], totals  # the same batch: it learns
    changed = [not np.array_equal(b, v.numpy()) for b, v in zip(before, network.trainable_variables)]
    assert changed[-2]  # the output convolution's kernel, zero at the start, has moved


@pytest.mark.slow
def test_training_moves_the_output_toward_the_style(tmp_path, extractor, style_image):
    from artlib import data, fast_style, style

    result = fast_style.train(style_image, num_steps=20, run_dir=tmp_path / "run", image_size=SIZE,
                              batch_size=2, width=8, num_blocks=1, learning_rate=1e-3,
                              content=["astronaut", "rocket"], extractor=extractor, quiet=True, verbose=False)
    photo = data.load_sample_photo("chelsea", max_dim=64)  # held out: never seen in training
    before = style.evaluate(np.clip(photo, 0.01, 0.99), photo, [style_image], extractor)
    after = style.evaluate(fast_style.stylize_image(result.network, photo), photo, [style_image], extractor)
    # Measured: 0.94 -> 0.52 (the untrained network is the identity, so "before" is the photo).
    assert after["style_distance"] < 0.8 * before["style_distance"], (before, after)
    assert len(result.history["step"]) == 20 and result.settings["content"] == ["astronaut", "rocket"]
    assert (result.final_step, result.stopped, result.run_dir) == (20, "done", tmp_path / "run")  # a TrainResult
    assert (tmp_path / "run" / "checkpoints").is_dir() and (tmp_path / "run" / "tensorboard").is_dir()


def scenario_resume(out: Path) -> None:
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    from artlib import fast_style, patterns

    extractor = tiny_extractor()
    style_image = patterns.make_pattern("mosaic", 32, seed=0)

    def run(run_dir: str, num_steps: int, seed: int, match_colours: bool = True):
        return fast_style.train(style_image, num_steps=num_steps, run_dir=out / run_dir, image_size=32,
                                batch_size=2, width=4, num_blocks=1, content=["astronaut"], steps_per_epoch=3,
                                save_every=2, extractor=extractor, seed=seed, match_colours=match_colours,
                                quiet=True, verbose=False)

    straight = run("straight", 5, seed=0)
    first = run("resumed", 2, seed=0)
    # Fresh network and optimizer, restored from ckpt-2, crossing an epoch. The other seed must be
    # ignored (the run keeps its own): a train() that started over would train steps 1-5 from
    # another initialization on other crops. So must match_colours=False: its network would lack the
    # last layer, which has no weights to compare, so the outputs are compared too.
    resumed = run("resumed", 5, seed=7, match_colours=False)
    steps = [first.history["step"], resumed.history["step"], [resumed.settings["seed"]]]
    np.savez(out / "weights.npz", *[v.numpy() for r in (straight, resumed) for v in r.network.variables])
    photo = np.random.default_rng(0).uniform(0, 1, (1, 20, 28, 3)).astype(np.float32)
    np.savez(out / "outputs.npz", *[r.network(photo).numpy() for r in (straight, resumed)])
    np.savez(out / "steps.npz", *[np.array(s) for s in steps])


@pytest.mark.slow
def test_resume_is_bitwise_exact(tmp_path):
    run_python(HERE, "resume", tmp_path, check=True)
    arrays = list(np.load(tmp_path / "weights.npz").values())
    straight, resumed = arrays[: len(arrays) // 2], arrays[len(arrays) // 2:]
    assert len(straight) > 10
    for i, (a, b) in enumerate(zip(straight, resumed)):
        assert np.array_equal(a, b), f"variable {i} differs after resume"
    first, second, seed = (list(a) for a in np.load(tmp_path / "steps.npz").values())
    assert first == [1, 2] and second == [3, 4, 5] and seed == [0]  # resumed after ckpt-2, with the run's seed
    settings = __import__("json").loads((tmp_path / "resumed" / "settings.json").read_text())
    assert settings["seed"] == 0 and settings["image_size"] == 32 and settings["steps_per_epoch"] == 3
    assert settings["match_colours"] is True and settings["content"] == ["astronaut"]  # the recipe says what it saw
    straight_out, resumed_out = np.load(tmp_path / "outputs.npz").values()
    np.testing.assert_array_equal(straight_out, resumed_out)


def test_a_given_network_decides_match_colours_and_must_fit_a_resumed_run(tmp_path, extractor, style_image):
    import json

    from artlib import fast_style
    from artlib.errors import ArtlibError, CheckpointError

    def run(num_steps: int, network):
        return fast_style.train(style_image, num_steps=num_steps, run_dir=tmp_path, image_size=32, batch_size=2,
                                width=4, num_blocks=1, content=["astronaut"], extractor=extractor, quiet=True,
                                verbose=False, network=network)

    palette = fast_style.colour_statistics(style_image)
    first = run(1, fast_style.build_transformer(4, 1, style_colours=palette))  # match_colours not passed
    assert first.settings["match_colours"] is True
    assert json.loads((tmp_path / "settings.json").read_text())["match_colours"] is True
    with pytest.raises(CheckpointError, match="match_colours=True.*does not end in MatchColours"):
        run(2, fast_style.build_transformer(4, 1))
    for other, said in ((dict(style_source="pattern:swirls"), "style: 'array' -> 'pattern:swirls'"),
                        (dict(style_weight=5.0), "style_weight: 20.0 -> 5.0"),
                        (dict(style_term="distance"), "style_term: 'squared' -> 'distance'"),
                        (dict(width=8, network=None), "width: 4 -> 8")):  # each had been taken silently
        with pytest.raises(CheckpointError, match=rf"holds a run with other settings \({re.escape(said)}\)"):
            fast_style.train(**{**dict(style_source=style_image, num_steps=2, run_dir=tmp_path, image_size=32,
                                       batch_size=2, width=4, num_blocks=1, content=["astronaut"],
                                       extractor=extractor, quiet=True, verbose=False,
                                       network=fast_style.build_transformer(4, 1, style_colours=palette)), **other})
    # A run from before style_term was recorded trained with the squared term: the distance is refused there too.
    saved = json.loads((tmp_path / "settings.json").read_text())
    del saved["style_term"]
    (tmp_path / "settings.json").write_text(json.dumps(saved))
    with pytest.raises(CheckpointError, match=re.escape("other settings (style_term: 'squared' -> 'distance')")):
        fast_style.train(style_image, num_steps=2, run_dir=tmp_path, image_size=32, batch_size=2, width=4,
                         num_blocks=1, content=["astronaut"], extractor=extractor, quiet=True, verbose=False,
                         network=fast_style.build_transformer(4, 1, style_colours=palette), style_term="distance")
    with pytest.raises(ArtlibError, match="style_colours"):
        fast_style.build_transformer(4, 1, style_colours=(0.5, 0.5, 0.5))
    with pytest.raises(ArtlibError, match="finite"):
        fast_style.build_transformer(4, 1, style_colours=([0.5, np.nan, 0.5], [0.1] * 3))


def test_a_run_from_before_match_colours_resumes_without_the_layer(tmp_path, extractor, style_image):
    import json

    from artlib import fast_style

    def run(num_steps: int, **options):
        return fast_style.train(style_image, num_steps=num_steps, run_dir=tmp_path, image_size=32, batch_size=2,
                                width=4, num_blocks=1, content=["astronaut"], extractor=extractor, quiet=True,
                                verbose=False, **options)

    assert run(1, match_colours=False).network.layers[-1].name == "crop"
    settings = json.loads((tmp_path / "settings.json").read_text())
    del settings["match_colours"]  # as written before the setting existed
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    resumed = run(2, match_colours=True)  # the run's own network had no such layer
    assert resumed.settings["match_colours"] is False and resumed.network.layers[-1].name == "crop"
    assert resumed.history["step"] == [2]


# ----------------------------------------------------------------------------- rendering
def _gif(path: Path) -> tuple[np.ndarray, list[int], int | None]:
    """A GIF's frames (N×H×W×3 uint8), each frame's duration and its loop count (None: plays once)."""
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        frames = [(np.asarray(f.convert("RGB")), f.info["duration"]) for f in ImageSequence.Iterator(im)]
        return np.stack([f for f, _ in frames]), [d for _, d in frames], im.info.get("loop")


def test_gif_frames_durations_and_loop_are_kept(tmp_path):
    from PIL import Image

    from artlib import fast_style
    from artlib.errors import ArtlibError, ImageError

    arrays = [np.full((20, 24, 3), 40 * (i + 1), np.uint8) for i in range(3)]
    frames = [Image.fromarray(a) for a in arrays]
    frames[0].save(tmp_path / "in.gif", save_all=True, append_images=frames[1:], duration=[50, 120, 200], loop=3)
    network = fast_style.build_transformer(width=4, num_blocks=1)  # the identity (clipped to [0.01, 0.99])
    (written,) = fast_style.apply(network, [tmp_path / "in.gif"], tmp_path / "out")
    assert written == tmp_path / "out" / "in.gif"
    pixels, durations, loop = _gif(written)
    assert pixels.shape == (3, 20, 24, 3) and durations == [50, 120, 200] and loop == 3
    expected = np.round(fast_style.stylize_batch(network, np.stack(arrays)) * 255)
    np.testing.assert_allclose(pixels, expected, atol=1)  # the painted frames, in order
    small = fast_style.stylize_gif(network, tmp_path / "in.gif", tmp_path / "small.gif", max_dim=12)
    pixels, durations, _ = _gif(small)
    assert pixels.shape == (3, 10, 12, 3) and durations == [50, 120, 200]
    with pytest.raises(ArtlibError, match="exists"):
        fast_style.stylize_gif(network, tmp_path / "in.gif", small)
    (tmp_path / "bad.gif").write_bytes(b"GIF89a broken")
    with pytest.raises(ImageError, match="bad.gif"):
        fast_style.stylize_gif(network, tmp_path / "bad.gif", tmp_path / "never.gif")


def test_folder_batch_and_fps(tmp_path):
    from artlib import fast_style, imageio

    folder = tmp_path / "photos"
    for i, shape in enumerate([(20, 30, 3), (33, 17, 3)]):
        imageio.save_image(folder / f"p{i}.png", np.full(shape, 0.2 * (i + 1), np.float32))
    network = fast_style.build_transformer(width=4, num_blocks=1)
    written = fast_style.apply(network, [folder], tmp_path / "out")
    assert sorted(p.name for p in written) == ["p0.png", "p1.png"]
    assert imageio.load_image(written[1]).shape == (33, 17, 3)
    batch = np.random.default_rng(0).uniform(0, 1, (5, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(fast_style.stylize_batch(network, batch, batch_size=2),
                               network(batch).numpy(), atol=1e-6)
    np.testing.assert_allclose(fast_style.stylize_batch(network, batch, jit_compile=True),
                               network(batch).numpy(), atol=1e-5)


def test_apply_refuses_two_inputs_with_one_output_and_an_existing_one_before_painting_any(tmp_path):
    from artlib import fast_style, imageio
    from artlib.errors import ArtlibError

    photo = np.full((20, 24, 3), 0.5, np.float32)
    for name in ("a.png", "a.jpg", "b.png", "folder/a.png"):
        imageio.save_image(tmp_path / "in" / name, photo)
    network = fast_style.build_transformer(width=4, num_blocks=1)
    out = tmp_path / "out"
    for inputs in (["a.png", "a.jpg"], ["b.png", "a.png", "folder"]):  # a.png's output is a.jpg's, or the folder's
        with pytest.raises(ArtlibError, match=r"'.*a\.(png|jpg)' and '.*a\.(png|jpg)' would both be written to "
                                              r"'.*out/a\.png'; rename one"):
            fast_style.apply(network, [tmp_path / "in" / i for i in inputs], out, force=True)
        assert not out.exists()  # nothing painted, nothing overwritten
    out.mkdir()
    imageio.save_image(out / "b.png", np.zeros((4, 4)))
    with pytest.raises(ArtlibError, match="b.png' exists; pass --force"):
        fast_style.apply(network, [tmp_path / "in" / "a.png", tmp_path / "in" / "b.png"], out)
    assert sorted(p.name for p in out.iterdir()) == ["b.png"]  # a.png was not painted first


def test_an_unreadable_input_stops_apply_before_anything_is_painted(tmp_path):
    """A folder with one broken photo: nothing written (before, the photos sorted ahead of it were painted, and
    the same command, run again once the photo was fixed, refused their outputs as existing)."""
    from artlib import fast_style, imageio
    from artlib.errors import ImageError

    folder = tmp_path / "class"
    for name in ("a.png", "c.png"):
        imageio.save_image(folder / name, np.full((20, 24, 3), 0.5, np.float32))
    good = (folder / "a.png").read_bytes()
    (folder / "b.png").write_bytes(good[:len(good) // 2])  # truncated
    (tmp_path / "bad.gif").write_bytes(b"GIF89a broken")
    network = fast_style.build_transformer(width=4, num_blocks=1)
    out = tmp_path / "out"
    for call, name in ((lambda: fast_style.apply(network, [folder], out), "b.png"),
                       (lambda: fast_style.stylize_folder(network, folder, out), "b.png"),
                       (lambda: fast_style.apply(network, [folder / "a.png", tmp_path / "bad.gif"], out), "bad.gif")):
        with pytest.raises(ImageError, match=name):
            call()
        assert not out.exists()
    (folder / "b.png").write_bytes(good)
    assert [p.name for p in fast_style.stylize_folder(network, folder, out)] == ["a.png", "b.png", "c.png"]


def test_a_network_may_be_named_one_input_need_not_be_in_a_list_and_a_missing_folder_says_so(tmp_path):
    from artlib import fast_style, imageio
    from artlib.errors import ArtlibError, DataError

    photo = np.random.default_rng(0).uniform(0, 1, (20, 24, 3)).astype(np.float32)
    np.testing.assert_array_equal(fast_style.stylize_image("waves", photo),  # a shipped style's name, as apply takes
                                  fast_style.stylize_image(fast_style.load_network("waves"), photo))
    for bad in (None, 3, ["waves"]):
        for call in (lambda: fast_style.stylize_image(bad, photo), lambda: fast_style.load_network(bad)):
            with pytest.raises(ArtlibError, match="network must be a Keras model, a .keras path or a shipped style "
                                                  rf"name \(.*waves.*\); got {type(bad).__name__}"):
                call()
    network = fast_style.build_transformer(width=4, num_blocks=1)
    from PIL import Image

    np.testing.assert_array_equal(fast_style.stylize_image(network, Image.fromarray(imageio.to_uint8(photo))),
                                  fast_style.stylize_image(network, imageio.to_uint8(photo)))  # a PIL image too
    imageio.save_image(tmp_path / "p.png", photo)
    for one in (str(tmp_path / "p.png"), tmp_path / "p.png"):  # one file: not read letter by letter
        assert fast_style.apply(network, one, tmp_path / "out", force=True) == [tmp_path / "out" / "p.png"]
    with pytest.raises(DataError, match="folder '.*nowhere' does not exist"):
        fast_style.stylize_folder(network, tmp_path / "nowhere", tmp_path / "out")
    with pytest.raises(DataError, match="folder '.*p.png' is a file"):
        fast_style.stylize_folder(network, tmp_path / "p.png", tmp_path / "out")


@pytest.mark.parametrize("jit_compile", [False, True])
def test_measure_fps_counts_images_over_timed_seconds(monkeypatch, jit_compile):
    from artlib import fast_style
    from artlib.fast_style import render

    clock = iter([10.0, 12.5])  # start, end: 2.5 s for the timed passes (warm-up is not timed)
    monkeypatch.setattr(render.time, "perf_counter", lambda: next(clock))
    network = fast_style.build_transformer(width=4, num_blocks=1)
    assert fast_style.measure_fps(network, (12, 20), batch_size=3, frames=5, warmup=2,
                                  jit_compile=jit_compile) == pytest.approx(5 * 3 / 2.5)


def test_bad_values_raise_an_artlib_error_naming_them(tmp_path, photos, style_image):
    from artlib import fast_style
    from artlib.errors import ArtlibError, ImageError

    network = fast_style.build_transformer(width=4, num_blocks=1)
    run = dict(run_dir=tmp_path / "run", extractor=None, quiet=True, verbose=False)
    for bad, message in ((dict(num_steps=0), "num_steps.*0"), (dict(image_size=0), "image_size.*0"),
                         (dict(batch_size=-2), "batch_size.*-2"), (dict(width=0), "width.*0"),
                         (dict(steps_per_epoch=0), "steps_per_epoch.*0"), (dict(save_every=0), "save_every.*0"),
                         (dict(style_size=0), "style_size.*0"), (dict(learning_rate=0), "learning_rate.*0"),
                         (dict(seed=-1), "seed.*-1")):
        with pytest.raises(ArtlibError, match=message):
            fast_style.train(style_image, **{**run, **bad})
    assert not (tmp_path / "run").exists()  # nothing written for a bad call
    for call, message in ((lambda: fast_style.ContentBatches(photos, 0, 2), "image_size.*0"),
                          (lambda: fast_style.ContentBatches(photos, 32, 0), "batch_size.*0"),
                          (lambda: fast_style.ContentBatches(photos, 32, 2, steps_per_epoch=0), "steps_per_epoch"),
                          (lambda: fast_style.load_content_photos(["astronaut"], max_dim=0), "max_dim.*0"),
                          (lambda: fast_style.stylize_batch(network, np.zeros((1, 8, 8, 3)), batch_size=0),
                           "batch_size.*0"),
                          (lambda: fast_style.stylize_image(network, np.zeros((8, 8, 3)), max_dim=0), "max_dim.*0"),
                          (lambda: fast_style.measure_fps(network, 0), "size.*0"),
                          (lambda: fast_style.measure_fps(network, 16, frames=0), "frames.*0"),
                          (lambda: fast_style.apply(network, [], tmp_path, max_dim=-5), "max_dim.*-5")):
        with pytest.raises(ArtlibError, match=message):
            call()
    with pytest.raises(ImageError, match="too small"):
        fast_style.ContentBatches(photos, 4 * SIZE, 2)
    with pytest.raises(ImageError, match=r"shape \(2, 8, 8\)"):
        fast_style.stylize_batch(network, np.zeros((2, 8, 8), np.float32))  # gray without a channel axis: 1 ≠ 3
    with pytest.raises(ImageError, match="4×4"):
        fast_style.stylize_batch(network, np.zeros((1, 3, 8, 3), np.float32))


def test_video_without_a_reader_says_what_to_install(tmp_path):
    from artlib import fast_style
    from artlib.errors import ArtlibError

    (tmp_path / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    network = fast_style.build_transformer(width=4, num_blocks=1)
    with pytest.raises(ArtlibError, match=r"cannot read video '.*clip.mp4' .*pip install 'imageio\[ffmpeg\]'"):
        fast_style.apply(network, [tmp_path / "clip.mp4"], tmp_path / "out")


# ----------------------------------------------------------------------------- the quality number
def test_compare_with_optimization_judges_the_network_and_the_optimization_alike(extractor, style_image):
    from artlib import data, fast_style, style

    network = fast_style.build_transformer(width=4, num_blocks=1)  # untrained: the identity (clipped)
    photos = {name: data.load_sample_photo(name, max_dim=32) for name in ("chelsea", "coffee")}
    # The optimization runs on features of its own; both results are judged by `extractor` alone.
    own = style.FeatureExtractor("random", seed=1, content_layers=("block2_conv1",), style_layers=("block1_conv1",),
                                 verbose=False)
    rows = fast_style.compare_with_optimization(network, photos, style_image, extractor, extractor=own,
                                                max_dim=32, steps=5, timed=True)
    assert [row["name"] for row in rows] == ["chelsea", "coffee"]
    for row, photo in zip(rows, photos.values()):
        assert row["painted"].shape == photo.shape and max(row["optimized"].shape[:2]) == 32
        np.testing.assert_allclose(row["painted"], np.clip(photo, 0.01, 0.99), atol=1e-5)  # what the network paints
        for image, key in ((row["painted"], "distance_network"), (row["optimized"], "distance_optimized")):
            assert row[key] == pytest.approx(style.evaluate(image, photo, [style_image], extractor)["style_distance"])
        assert row["distance_network"] == pytest.approx(row["distance_photo"], rel=0.05)  # the photo, barely clipped
        assert row["distance_optimized"] < 0.9 * row["distance_photo"]  # optimization moved towards the style
        assert row["ratio"] == pytest.approx(row["distance_network"] / row["distance_optimized"])
        assert row["ssim_network"] == pytest.approx(1, abs=0.01) and 0 < row["ssim_optimized"] < 0.99
        assert row["seconds_optimized"] > 0 and row["seconds_network"] > 0
    summary = fast_style.summarize(rows)
    assert summary["ratio"] == pytest.approx(np.mean([row["ratio"] for row in rows]))
    assert summary["ratio_worst"] == max(row["ratio"] for row in rows) > 1  # the identity is no style network
    assert summary["target_met"] is False
    table = fast_style.format_table(rows)
    assert "chelsea" in table and "coffee" in table and f"worst {summary['ratio_worst']:.2f}" in table
    figure = fast_style.picture_rows(rows, "a · b · c")
    assert list(figure) == ["chelsea: a · b · c", "coffee: a · b · c"]
    assert all(got is want for got, want in zip(figure["coffee: a · b · c"], (rows[1]["photo"], rows[1]["optimized"],
                                                                             rows[1]["painted"])))
    untimed = fast_style.compare_with_optimization(network, {"chelsea": photos["chelsea"]}, style_image, extractor,
                                                   extractor=extractor, max_dim=32, steps=1)
    assert untimed[0]["seconds_optimized"] is None and untimed[0]["seconds_network"] is None


def test_the_judge_is_the_recipes_loss_and_bad_quality_inputs_are_errors(extractor, style_image):
    from artlib import fast_style
    from artlib.errors import ArtlibError

    recipe = fast_style.load_recipe("waves")
    judge, judged_style = fast_style.judge_for(recipe, style_size=64)
    assert judge.style_layers == tuple(recipe["style_layers"])
    assert judge.content_layers == tuple(recipe["content_layers"])
    assert max(judged_style.shape[:2]) == 64
    with pytest.raises(ArtlibError, match="names no style"):
        fast_style.judge_for({"features": "random"})
    network = fast_style.build_transformer(width=4, num_blocks=1)
    with pytest.raises(ArtlibError, match="at least one photo"):
        fast_style.compare_with_optimization(network, {}, style_image, extractor, extractor=extractor)
    with pytest.raises(ArtlibError, match="at least one"):
        fast_style.summarize([])


# ----------------------------------------------------------------------------- the CLI
def test_cli_bad_input_exits_2(tmp_path, capsys):
    from artlib import fast_style
    from artlib.__main__ import main

    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    network = tmp_path / "net.keras"
    fast_style.save_network(fast_style.build_transformer(4, 1), network)
    photo = tmp_path / "photo.png"
    from artlib import imageio

    imageio.save_image(photo, np.full((16, 16, 3), 0.5, np.float32))
    cases = [
        ["fast-style", "train", str(tmp_path / "broken.png"), "-o", str(tmp_path / "m.keras"), "--steps", "1"],
        ["fast-style", "train", "pattern:no_such_pattern", "-o", str(tmp_path / "m.keras"), "--steps", "1"],
        ["fast-style", "train", "pattern:swirls", "-o", str(tmp_path / "m.h5")],
        ["fast-style", "train", "pattern:swirls", "-o", str(network)],  # exists, no --force
        ["fast-style", "apply", str(tmp_path / "missing.keras"), str(photo), "-o", str(tmp_path / "o")],
        ["fast-style", "apply", str(tmp_path / "broken.png"), str(photo), "-o", str(tmp_path / "o")],
        ["fast-style", "apply", str(network), str(tmp_path / "nothing.png"), "-o", str(tmp_path / "o")],
        ["fast-style", "apply", str(network), str(tmp_path / "broken.png"), "-o", str(tmp_path / "o")],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, (argv, err)
    assert main(["fast-style", "apply", str(network), str(photo), "-o", str(tmp_path / "o")]) == 0
    assert imageio.load_image(tmp_path / "o" / "photo.png").shape == (16, 16, 3)
    assert main(["fast-style", "apply", str(network), str(photo), "-o", str(tmp_path / "o")]) == 2  # exists
    assert main(["fast-style", "apply", str(network), str(photo), "-o", str(tmp_path / "o"), "--force"]) == 0


def test_cli_blocks_may_be_zero_but_not_negative(tmp_path, capsys):
    from artlib.cli import build_parser, main

    train = ["fast-style", "train", "pattern:swirls", "-o", str(tmp_path / "m.keras")]
    assert build_parser().parse_args([*train, "--blocks", "0"]).blocks == 0  # the library allows 0 blocks
    with pytest.raises(SystemExit) as exit_info:
        main([*train, "--blocks", "-1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err, err
    assert "--blocks" in err and "-1 must be a whole number from 0 to 64" in err, err
    for option, value, wanted in (("--blocks", "65", "from 0 to 64"), ("--edge-kernel", "33", "from 1 to 31"),
                                  ("--size", "4", "from 8 to 8,192"), ("--style-size", "7", "from 8 to 8,192")):
        with pytest.raises(SystemExit):
            main([*train, option, value])
        err = capsys.readouterr().err.strip()
        assert f"{option}: {value} must be a whole number {wanted}" in err and "\n" not in err, err
    assert not (tmp_path / "m.keras").exists()


if __name__ == "__main__":
    {"resume": scenario_resume}[sys.argv[1]](Path(sys.argv[2]))
