"""Bad images where they enter: arrays passed to the Python API, and bad files given to each command.

The files themselves (every format, truncated, bombs, odd modes) are catalogued in test_imageio.py;
here each image-taking entry point is shown to run the same checks before it does any work:
a NaN, an infinite or out-of-range pixel, a dtype that is not uint8 or float, a rank, an empty
axis or a channel count that is not an image gives an ``ImageError``, and a bad file given to a
command gives exit code 2 and one line on stderr naming the file.
"""

from __future__ import annotations

import numpy as np
import pytest

from artlib import imageio, style
from artlib.arbitrary_style.model import ArbitraryStyle
from artlib.autoencoder.photo import denoise_photo
from artlib.cli import main
from artlib.errors import ImageError
from artlib.fast_style.content import load_content_photos
from artlib.fast_style.render import stylize_batch

SIDE = 16


def _image(value, dtype=np.float32, shape=(SIDE, SIDE, 3)) -> np.ndarray:
    return np.full(shape, value, dtype)


# Each entry point is called with no model: the image check comes first, so a missing check
# shows up as a failure of another kind (the model's AttributeError/TypeError), not a pass.
ENTRY_POINTS = {
    "imageio.as_batch": lambda x: imageio.as_batch(x[np.newaxis], name="photo", channels=3),
    "style.load_style_image": lambda x: style.load_style_image(x, max_dim=None),  # stylize's first step
    "fast_style.stylize_batch": lambda x: stylize_batch(None, x[np.newaxis]),
    "fast_style.load_content_photos": lambda x: load_content_photos([x]),  # a training's photos
    "ArbitraryStyle.stylize": lambda x: ArbitraryStyle.stylize(None, x, "pattern:swirls"),
    "denoise_photo": lambda x: denoise_photo(None, x),
}

SHAPE = r"shape|at least"  # the shape errors: a rank, an empty axis or a channel count
BAD_ARRAYS = {
    "nan": (_image(np.nan), "NaN or infinite"),
    "plus-inf": (_image(np.inf), "NaN or infinite"),
    "minus-inf": (_image(-np.inf, np.float64), "NaN or infinite"),
    "one-nan-pixel": (_image(0.5) + np.pad([[[np.nan]]], ((3, SIDE - 4), (5, SIDE - 6), (1, 1))),
                      "NaN or infinite"),
    "above-one": (_image(1.5), r"pixels in \[0, 1\].*Pass uint8 images"),
    "below-zero": (_image(-0.5), r"pixels in \[0, 1\].*\(images \+ 1\) / 2"),
    "0-255-floats": (_image(255.0, np.float64), r"pixels in \[0, 1\]"),
    "bool": (_image(True, bool), "got dtype bool"),
    "complex": (_image(0.5, np.complex64), "got dtype complex64"),
    "object": (_image(0.5, object), "got dtype object"),
    "string": (_image("a", "<U1"), "got dtype <U1"),
    "int64": (_image(1, np.int64), "got dtype int64. Convert it"),
    "uint16": (_image(300, np.uint16), "got dtype uint16. Convert it"),
    "0-d": (np.array(0.5, np.float32), SHAPE),
    "1-d": (np.zeros(SIDE, np.float32), SHAPE),
    "5-d": (np.zeros((1, 1, SIDE, SIDE, 3), np.float32), SHAPE),
    "zero-height": (np.zeros((0, SIDE, 3), np.float32), SHAPE),
    "zero-width": (np.zeros((SIDE, 0, 3), np.float32), SHAPE),
    "zero-channels": (np.zeros((SIDE, SIDE, 0), np.float32), SHAPE),
    "2-channels": (np.zeros((SIDE, SIDE, 2), np.float32), SHAPE),
    "5-channels": (np.zeros((SIDE, SIDE, 5), np.float32), SHAPE),
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("case", list(BAD_ARRAYS))
def test_bad_arrays_raise_an_image_error_at_every_entry_point(entry, case):
    array, words = BAD_ARRAYS[case]
    with pytest.raises(ImageError, match=words) as info:
        ENTRY_POINTS[entry](array.copy())
    assert "\n" not in str(info.value)


def test_bad_arrays_cover_what_the_checks_accept():
    """The cases above differ from a good image in one way each: the good one passes."""
    for good in (_image(0.5), _image(128, np.uint8), _image(1.0, np.float64)):
        assert imageio.as_batch(good[np.newaxis], channels=3).shape == (1, SIDE, SIDE, 3)
        loaded = style.load_style_image(good, max_dim=None)
        assert loaded.shape == (SIDE, SIDE, 3) and loaded.dtype == np.float32


@pytest.mark.parametrize("gray", [np.full((SIDE, SIDE), 0.25), np.full((SIDE, SIDE, 1), 64, np.uint8)])
def test_grayscale_arrays_become_rgb(gray):
    image = style.load_style_image(gray, max_dim=None)
    assert image.shape == (SIDE, SIDE, 3)
    np.testing.assert_allclose(image, 0.25 if gray.dtype != np.uint8 else 64 / 255, atol=1e-6)


def test_float_overshoot_is_clipped_only_where_documented():
    """as_image_batch clips float arithmetic's overshoot up to 1e-4; as_batch refuses any without a tolerance."""
    image = _image(0.5)
    image[0, 0] = (1 + 5e-5, -5e-5, 1.0)
    clipped = style.load_style_image(image, max_dim=None)
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    with pytest.raises(ImageError, match="pixels in"):
        imageio.as_batch(image[np.newaxis])
    image[0, 0, 0] = 1 + 2e-4
    with pytest.raises(ImageError, match="pixels in"):
        style.load_style_image(image, max_dim=None)


@pytest.mark.parametrize("images, words", [
    ([[[0.1, 0.2], [0.3]]], "cannot make into one"),  # ragged nested lists
    ([], "non-empty batch"),
    (np.zeros((3, 0, 8, 3), np.uint8), "non-empty batch"),  # uint8 used to pass with no pixels at all
    (None, "non-empty batch"),
])
def test_as_batch_rejects_lists_and_empties(images, words):
    with pytest.raises(ImageError, match=words) as info:
        imageio.as_batch(images, name="my images", channels=3)
    assert str(info.value).startswith("my images ")


# ----------------------------------------------------------------------------- the commands

BAD_FILES = {
    "svg.png": b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"/>',
    "truncated.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x40",
    "empty.png": b"",
    "page.jpg": b"<!DOCTYPE html><html><body>404 Not Found</body></html>",
}
COMMANDS = {
    "denoise": lambda image, out: ["denoise", image, "-o", out],
    "stylize": lambda image, out: ["stylize", image, "pattern:swirls", "-o", out],
    "fast-style apply": lambda image, out: ["fast-style", "apply", "swirls", image, "-o", out],
    "arbitrary-style apply": lambda image, out: ["arbitrary-style", "apply", image, "--style", "pattern:swirls",
                                                 "-o", out],
    "translate apply": lambda image, out: ["translate", "apply", image, "-o", out],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_names_a_bad_image_in_one_line(command, tmp_path, capsys):
    """In-process (``main``), each command on each bad file: exit code 2, one line, nothing written."""
    out = tmp_path / "out"
    for name, data in BAD_FILES.items():
        image = tmp_path / name
        image.write_bytes(data)
        assert main(COMMANDS[command](str(image), str(out / "result.png"))) == 2, name
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1 and captured.err.startswith("error: "), captured.err
        assert f"Cannot load image '{image}'" in captured.err, captured.err
        assert not out.exists()


def test_ragged_lists_are_an_image_error_naming_the_input_at_every_entry_point():
    from artlib import imageio, style
    from artlib.autoencoder import denoise_photo
    from artlib.errors import ImageError

    ragged = [[0.1, 0.2, 0.3], [0.4, 0.5]]
    for call, name in ((lambda: imageio.as_batch(ragged, name="my images"), "my images"),
                       (lambda: style.load_style_image(ragged), "the image"),
                       (lambda: denoise_photo(None, ragged), "the image to denoise")):
        with pytest.raises(ImageError, match=f"{name} must be an array of images of one size"):
            call()
