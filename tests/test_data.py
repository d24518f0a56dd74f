"""artlib.data: the Fashion-MNIST source chain, idx checks, sample photos, tf.data batching."""

import gzip
import hashlib
import re
import struct

import numpy as np
import pytest

from artlib import config, data
from artlib.errors import ArtlibError, DataError, ImageError
from artlib.data import FASHION_MNIST_FILES, Source


def write_idx(path, array, *, compress=True):
    header = struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload, mtime=0) if compress else payload)


def make_fixture(folder, n_train=20, n_test=10, fill=0):
    """A tiny but well-formed Fashion-MNIST folder; every image is filled with ``fill``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(fill)
    arrays = {
        "x_train": np.full((n_train, 28, 28), fill, np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": np.full((n_test, 28, 28), fill, np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    for key, array in arrays.items():
        write_idx(folder / FASHION_MNIST_FILES[key], array)
    return arrays


def test_first_complete_source_wins_and_is_reported(tmp_path, capsys):
    make_fixture(tmp_path / "debian", fill=1)
    make_fixture(tmp_path / "shipped", fill=2)
    sources = [Source("keras-cache", tmp_path / "no-cache"), Source("debian", tmp_path / "debian"),
               Source("shipped-subset", tmp_path / "shipped")]
    result = data.load_fashion_mnist(sources=sources)
    (x_train, y_train), (x_test, y_test) = result
    assert result.source.name == "debian"
    assert x_train.dtype == np.uint8 and x_train.shape == (20, 28, 28)
    assert y_train.shape == (20,) and x_test.shape == (10, 28, 28) and y_test.shape == (10,)
    assert (x_train == 1).all()
    out = capsys.readouterr().out
    assert "Debian package" in out and "20 train + 10 test" in out and out.count("\n") == 1


def test_no_cache_no_debian_falls_to_the_shipped_subset(tmp_path, capsys):
    make_fixture(tmp_path / "shipped", fill=3)
    sources = [Source("keras-cache", tmp_path / "a"), Source("debian", tmp_path / "b"),
               Source("shipped-subset", tmp_path / "shipped")]
    result = data.load_fashion_mnist(sources=sources)
    assert result.source.name == "shipped-subset"
    assert "subset" in capsys.readouterr().out


def test_the_real_shipped_subset_is_balanced_and_matches_its_description():
    result = data.load_fashion_mnist(sources=[Source("shipped-subset", data.SHIPPED_DIR)], verbose=False)
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.shape == (6000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert np.bincount(y_train).tolist() == [600] * 10
    assert np.bincount(y_test).tolist() == [100] * 10
    assert 50 < x_train.mean() < 100  # real garments, not blank images
    assert data.SHIPPED_DIR == config.SHIPPED_DIR / "fashion-mnist-subset"
    assert data.default_sources()[-1] == Source("shipped-subset", data.SHIPPED_DIR)


def _readme_table() -> dict[str, tuple[int, str]]:
    """``data/README.md``'s rows ``| `file` | bytes | `sha256` |``, by path under the shipped folder."""
    text = (config.SHIPPED_DIR / "README.md").read_text(encoding="utf-8")
    rows, section = {}, ""
    for line in text.splitlines():
        heading = re.match(r"## `([^`]+)/`", line)
        if heading:
            section = heading.group(1) + "/"
        row = re.match(r"\| `([^`]+)` \| ([\d,]+) \| `([0-9a-f]{64})` \|", line)
        if row:
            name = row.group(1) if "/" in row.group(1) else section + row.group(1)
            rows[name] = (int(row.group(2).replace(",", "")), row.group(3))
    return rows


def test_every_shipped_file_matches_its_size_and_sha256_in_the_readme():
    table = _readme_table()
    shipped = sorted(str(p.relative_to(config.SHIPPED_DIR)).replace("\\", "/")
                     for folder in ("pretrained", "fashion-mnist-subset", "paintings")
                     for p in (config.SHIPPED_DIR / folder).rglob("*") if p.is_file())
    assert shipped and sorted(table) == shipped  # every file is described, and nothing else
    for name, (size, sha256) in table.items():
        content = (config.SHIPPED_DIR / name).read_bytes()
        assert (len(content), hashlib.sha256(content).hexdigest()) == (size, sha256), name


def test_explicit_path_and_env_var_come_first(tmp_path, monkeypatch):
    make_fixture(tmp_path / "mine", fill=4)
    monkeypatch.setenv("ARTLIB_DATA_DIR", str(tmp_path / "mine"))
    sources = data.default_sources()
    assert sources[0] == Source("ARTLIB_DATA_DIR", tmp_path / "mine")
    assert data.load_fashion_mnist(verbose=False).source.name == "ARTLIB_DATA_DIR"
    assert data.default_sources(tmp_path / "other")[0] == Source("path", tmp_path / "other")
    assert data.load_fashion_mnist(tmp_path / "mine", verbose=False).source == Source("path", tmp_path / "mine")
    for typo in (tmp_path / "mien", tmp_path):  # missing, or a folder without the files
        with pytest.raises(DataError, match=f"{typo} holds no Fashion-MNIST .*train-images-idx3-ubyte.gz"):
            data.load_fashion_mnist(typo, verbose=False)  # not the ARTLIB_DATA_DIR copy, nor any other
    (tmp_path / "notes.txt").write_text("a file")
    for typo in (tmp_path / "mien", tmp_path, tmp_path / "notes.txt"):  # the variable wrong: had been skipped
        monkeypatch.setenv("ARTLIB_DATA_DIR", str(typo))
        with pytest.raises(DataError, match=f"{typo}\\) holds no Fashion-MNIST .*; point ARTLIB_DATA_DIR at the "
                                            "folder that does, or unset it"):
            data.load_fashion_mnist(verbose=False)
        assert data.describe_fashion_mnist_source().startswith("problem: ")


def test_offline_skips_the_download_and_online_tries_it(monkeypatch):
    monkeypatch.setenv("ARTLIB_OFFLINE", "1")
    assert "download" not in [s.name for s in data.default_sources()]
    monkeypatch.setenv("ARTLIB_OFFLINE", "0")
    assert "download" in [s.name for s in data.default_sources()]


def test_failed_download_says_so_and_falls_back(tmp_path, monkeypatch, capsys):
    def no_network():
        raise OSError("network unreachable")

    monkeypatch.setattr(data, "_download", no_network)
    make_fixture(tmp_path / "shipped")
    result = data.load_fashion_mnist(sources=[Source("download"), Source("shipped-subset", tmp_path / "shipped")])
    assert result.source.name == "shipped-subset"
    assert "download failed (network unreachable)" in capsys.readouterr().out


def test_a_fault_in_the_download_code_is_raised_not_taken_for_a_network_failure(tmp_path, monkeypatch):
    def broken():
        raise TypeError("a bug, not the network")

    monkeypatch.setattr(data, "_download", broken)
    make_fixture(tmp_path / "shipped")
    with pytest.raises(TypeError, match="a bug"):
        data.load_fashion_mnist(sources=[Source("download"), Source("shipped-subset", tmp_path / "shipped")])


def test_the_download_route_is_a_source_like_the_others(monkeypatch):
    fake = ((np.zeros((3, 28, 28), np.uint8), np.zeros(3, np.uint8)), (np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.uint8)))
    monkeypatch.setattr(data, "_download", lambda: fake)
    result = data.load_fashion_mnist(sources=[Source("download")], verbose=False)
    assert result.source.name == "download" and result[0][0].shape == (3, 28, 28)


def test_a_partial_folder_is_an_error_naming_the_missing_file(tmp_path):
    make_fixture(tmp_path / "partial")
    (tmp_path / "partial" / FASHION_MNIST_FILES["y_test"]).unlink()
    make_fixture(tmp_path / "shipped")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        data.load_fashion_mnist(sources=[Source("debian", tmp_path / "partial"),
                                         Source("shipped-subset", tmp_path / "shipped")])


@pytest.mark.parametrize(
    "corrupt",
    ["truncated-gzip", "not-gzip", "empty", "wrong-magic", "short-payload", "extra-bytes", "wrong-image-size",
     "label-out-of-range", "count-mismatch"],
)
def test_corrupt_files_are_errors_that_name_the_file(tmp_path, corrupt):
    folder = tmp_path / "bad"
    make_fixture(folder)
    images = folder / FASHION_MNIST_FILES["x_train"]
    labels = folder / FASHION_MNIST_FILES["y_train"]
    target = images
    if corrupt == "truncated-gzip":
        images.write_bytes(images.read_bytes()[:40])
    elif corrupt == "not-gzip":
        images.write_bytes(b"<html>not found</html>")
    elif corrupt == "empty":
        images.write_bytes(b"")
    elif corrupt == "wrong-magic":
        write_idx(images, np.zeros((20, 28, 28), np.uint8))
        raw = bytearray(gzip.decompress(images.read_bytes()))
        raw[2] = 0x0D  # float32 instead of uint8
        images.write_bytes(gzip.compress(bytes(raw)))
    elif corrupt == "short-payload":
        raw = gzip.decompress(images.read_bytes())
        images.write_bytes(gzip.compress(raw[:-100]))
    elif corrupt == "extra-bytes":
        raw = gzip.decompress(images.read_bytes())
        images.write_bytes(gzip.compress(raw + b"\0" * 10))
    elif corrupt == "wrong-image-size":
        write_idx(images, np.zeros((20, 32, 32), np.uint8))
    elif corrupt == "label-out-of-range":
        write_idx(labels, np.full(20, 12, np.uint8))
        target = labels
    elif corrupt == "count-mismatch":
        write_idx(labels, np.zeros(19, np.uint8))
        target = folder
    with pytest.raises(DataError, match=str(target).replace("\\", "\\\\")):
        data.load_fashion_mnist(sources=[Source("debian", folder)], verbose=False)


def test_nothing_found_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="not found anywhere"):
        data.load_fashion_mnist(sources=[Source("debian", tmp_path / "none")], verbose=False)


def test_a_folder_that_cannot_be_searched_is_a_data_error(tmp_path, monkeypatch):
    """No permission to look inside ARTLIB_DATA_DIR (root is not refused, so the refusal is simulated)."""
    from pathlib import Path

    folder = tmp_path / "locked"
    folder.mkdir()
    is_file = Path.is_file

    def refused(path):
        if path.parent == folder:
            raise PermissionError(13, "Permission denied")
        return is_file(path)

    monkeypatch.setattr(Path, "is_file", refused)
    with pytest.raises(DataError, match=r"locked\) cannot be read \(Permission denied\); check its permissions"):
        data.load_fashion_mnist(sources=[Source("ARTLIB_DATA_DIR", folder)], verbose=False)


def test_an_idx_file_that_cannot_be_opened_asks_for_its_permissions_not_a_new_copy(tmp_path, monkeypatch):
    make_fixture(tmp_path / "mine")

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(data.gzip, "open", refused)
    with pytest.raises(DataError, match=r"ubyte.gz cannot be read \(Permission denied\); check its permissions"):
        data.load_fashion_mnist(tmp_path / "mine", verbose=False)


def test_describe_source_matches_what_load_uses(tmp_path, monkeypatch):
    make_fixture(tmp_path / "mine")
    monkeypatch.setenv("ARTLIB_DATA_DIR", str(tmp_path / "mine"))
    said = data.describe_fashion_mnist_source()
    assert said == str(data.load_fashion_mnist(verbose=False).source) and not said.startswith("problem")
    monkeypatch.setenv("ARTLIB_DATA_DIR", str(tmp_path / "empty"))  # a folder named that holds none: refused by both
    (tmp_path / "empty").mkdir()
    assert data.describe_fashion_mnist_source().startswith("problem: ARTLIB_DATA_DIR")
    with pytest.raises(DataError, match="holds no Fashion-MNIST"):
        data.load_fashion_mnist(verbose=False)


def test_sample_photo_is_float_rgb_scaled_from_scikit_image():
    import skimage.data

    camera = skimage.data.camera()  # 512×512 grayscale uint8
    full = data.load_sample_photo("camera")
    assert full.dtype == np.float32 and full.shape == (512, 512, 3)
    np.testing.assert_array_equal(full, np.repeat(camera[..., None], 3, axis=-1) / np.float32(255))
    small = data.load_sample_photo("camera", max_dim=64)  # antialiased: the mean brightness is kept
    assert small.shape == (64, 64, 3)
    assert abs(small.mean() - full.mean()) < 0.01
    np.testing.assert_array_equal(data.load_sample_photo("camera", max_dim=1000), full)  # never enlarged
    with pytest.raises(ArtlibError, match="mona-lisa.*astronaut"):
        data.load_sample_photo("mona-lisa")
    with pytest.raises(ArtlibError, match="max_dim"):
        data.load_sample_photo("camera", max_dim=0)


def test_every_sample_photo_is_bundled_with_scikit_image():
    import skimage.data

    assert len(set(data.SAMPLE_PHOTOS)) == len(data.SAMPLE_PHOTOS)
    for name in data.SAMPLE_PHOTOS:
        pixels = getattr(skimage.data, name)()  # bundled: no download (the tests are offline)
        assert pixels.dtype == np.uint8 and pixels.ndim in (2, 3) and min(pixels.shape[:2]) >= 256, name


def test_make_dataset_batches_scales_and_adds_a_channel():
    images = np.arange(10 * 28 * 28, dtype=np.int64).reshape(10, 28, 28) % 256
    labels = np.arange(10)
    ds = data.make_dataset(images.astype(np.uint8), labels, batch_size=4, seed=1)
    batches = list(ds.as_numpy_iterator())
    assert [b[0].shape for b in batches] == [(4, 28, 28, 1), (4, 28, 28, 1), (2, 28, 28, 1)]
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    assert x.dtype == np.float32 and x.max() <= 1.0
    assert sorted(y.tolist()) == list(range(10)) and y.tolist() != list(range(10))  # shuffled, nothing lost
    np.testing.assert_allclose(x[:, :, :, 0] * 255, images[y], atol=1e-4)  # pairs stay together
    again = np.concatenate([b[1] for b in data.make_dataset(images.astype(np.uint8), labels, batch_size=4, seed=1)
                            .as_numpy_iterator()])
    assert again.tolist() == y.tolist()  # same seed, same order
    with pytest.raises(ArtlibError, match="10 images but 3 labels"):
        data.make_dataset(images, labels[:3])
    with pytest.raises(ArtlibError, match="batch_size.*0"):
        data.make_dataset(images.astype(np.uint8), batch_size=0)
    with pytest.raises(ImageError, match="Pass uint8 images"):
        data.make_dataset(images.astype(np.float32))  # 0..255 as floats: not pixels in [0, 1]
    floats = next(data.make_dataset(images / 255.0, batch_size=10, shuffle=False).as_numpy_iterator())
    np.testing.assert_allclose(floats[..., 0], images / 255.0, atol=1e-6)  # floats pass through, in order


def test_vgg19_weights_are_found_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ARTLIB_CACHE_DIR", str(tmp_path))
    assert data.find_vgg19_weights() is None
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / data.VGG19_WEIGHTS_FILE).write_bytes(b"x")
    assert data.find_vgg19_weights() == tmp_path / "models" / data.VGG19_WEIGHTS_FILE


def test_config_choose_follows_fast_mode(monkeypatch):
    monkeypatch.delenv("ARTLIB_MODE", raising=False)
    monkeypatch.setenv("ARTLIB_FAST", "1")
    assert config.choose(full=30, fast=1) == 1
    monkeypatch.setenv("ARTLIB_FAST", "0")
    assert config.choose(full=30, fast=1) == 30


# ----------------------------------------------------------------------------- classes by number or name
def test_classes_by_number_or_name_in_one_place():
    import argparse

    from artlib import classes
    from artlib.cli.common import class_label

    assert classes.class_list(["sneaker", 9, "0", "trouser"]) == [0, 1, 7, 9]
    assert classes.class_list(np.array([3, 1])) == [1, 3]
    for bad, message in ((["top", 0], "different"), ([], "non-empty"), ("sneaker", "non-empty"), ([11], "unknown"),
                         ([True], "unknown"), (None, "non-empty")):
        with pytest.raises(ArtlibError, match=message):
            classes.class_list(bad)
    assert class_label("Ankle boot") == 9 and class_label(" 7 ") == 7 and class_label("t-shirt") == 0
    for bad in ("10", "-1", "boot", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="unknown Fashion-MNIST class .*0 T-shirt/top"):
            class_label(bad)


def test_painting_path_names_the_file_load_painting_reads_and_refuses_unknown_names():
    from artlib import data, imageio
    from artlib.errors import ArtlibError

    for name in data.PAINTINGS:
        path = data.painting_path(name)
        assert path.parent == data.PAINTINGS_DIR and path.is_file()
        np.testing.assert_array_equal(data.load_painting(name, max_dim=64), imageio.load_image(path, max_dim=64))
    with pytest.raises(ArtlibError, match="unknown painting 'mona_lisa'; choose one of starry_night"):
        data.painting_path("mona_lisa")
