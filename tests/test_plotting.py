"""Tests for artlib.plotting: mosaics, figures, atomic saves, GIFs, notebook display."""

import io
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import run_python
from matplotlib.figure import Figure
from PIL import Image

from artlib import plotting
from artlib.errors import ArtlibError, ImageError
from artlib.plotting import compare_rows, grid_array, image_grid, loss_curves, save_figure, save_gif
from artlib.plotting.figures import _moving_average

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _constant_images(values, height=4, width=6):
    """A gray batch (N, H, W) whose image i is filled with values[i]."""
    return np.stack([np.full((height, width), v, np.float32) for v in values])


def _assert_png(path: Path, fig: Figure) -> None:
    """A complete PNG of the figure: the same pixels as the figure drawn again in memory."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        saved = np.asarray(image.convert("RGB"))  # decodes every byte: a truncated file fails here
    with Image.open(io.BytesIO(fig._repr_png_())) as again:  # the same tight bbox, dpi 100
        drawn = np.asarray(again.convert("RGB"))
    assert saved.shape == drawn.shape
    # Two renderings differ only in a few antialiased text pixels; a blank or cut file would not.
    assert np.mean(saved != drawn) < 0.05 and np.abs(saved.astype(int) - drawn).mean() < 2.0
    assert saved.min() < 64  # something dark was drawn, not only the white background


def _only_file(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- grid_array ---------------------------------------------------------------------------


def test_grid_array_places_each_image_in_its_cell():
    values = [0.1, 0.2, 0.3, 0.4, 0.5]
    mosaic = grid_array(_constant_images(values), ncols=3, pad=2, pad_value=1.0)
    assert mosaic.shape == (2 * (4 + 2) + 2, 3 * (6 + 2) + 2, 3)  # 2 rows of 3 cells
    assert mosaic.dtype == np.float32
    covered = np.zeros(mosaic.shape[:2], bool)
    for i, value in enumerate(values):
        row, col = divmod(i, 3)
        top, left = 2 + row * 6, 2 + col * 8
        np.testing.assert_allclose(mosaic[top : top + 4, left : left + 6], value)
        covered[top : top + 4, left : left + 6] = True
    # Everything else (the padding and the empty sixth cell) is pad_value.
    np.testing.assert_allclose(mosaic[~covered], 1.0)
    np.testing.assert_allclose(mosaic[8:12, 18:24], 1.0)  # the empty cell itself


def test_grid_array_without_padding_and_default_columns():
    mosaic = grid_array(_constant_images(np.linspace(0, 1, 10)), pad=0)
    assert mosaic.shape == (3 * 4, 4 * 6, 3)  # ceil(sqrt(10)) = 4 columns, 3 rows
    np.testing.assert_allclose(mosaic[0, 0], 0.0)
    np.testing.assert_allclose(mosaic[4, 0], np.linspace(0, 1, 10)[4])
    np.testing.assert_allclose(mosaic[-1, -1], 1.0)  # empty cells are pad_value


def test_grid_array_zoom_draws_each_pixel_as_a_block():
    images = _constant_images(np.linspace(0, 1, 4))
    small, large = grid_array(images, ncols=2), grid_array(images, ncols=2, zoom=3)
    assert large.shape == (3 * small.shape[0], 3 * small.shape[1], 3)
    np.testing.assert_array_equal(large[::3, ::3], small)  # nearest neighbour: the same pixels, no blur
    np.testing.assert_array_equal(large[1::3, 2::3], small)


def test_grid_array_caps_columns_and_colours_padding():
    mosaic = grid_array(_constant_images([0.0, 0.0]), ncols=10, pad=1, pad_value=(1.0, 0.0, 0.5))
    assert mosaic.shape == (1 + 4 + 1, 2 * (6 + 1) + 1, 3)  # 2 columns, not 10
    np.testing.assert_allclose(mosaic[0, 0], [1.0, 0.0, 0.5])
    np.testing.assert_allclose(mosaic[1, 1], [0.0, 0.0, 0.0])


def test_grid_array_converts_gray_uint8_and_rgba():
    gray = grid_array(_constant_images([0.25, 0.75])[..., None], pad=0)  # (N, H, W, 1)
    assert gray.shape == (4, 12, 3)
    np.testing.assert_allclose(gray[:, :6], 0.25)
    np.testing.assert_allclose(gray[:, 6:], 0.75)

    rgb8 = np.zeros((1, 2, 2, 3), np.uint8)
    rgb8[..., 0] = 255
    np.testing.assert_allclose(grid_array(rgb8, pad=0)[0, 0], [1.0, 0.0, 0.0])

    rgba = np.zeros((2, 2, 4), np.float32)  # one image, black but fully transparent
    np.testing.assert_allclose(grid_array(rgba, pad=0), 1.0)  # drawn over white


def test_grid_array_accepts_one_image_lists_and_tensors():
    tf = pytest.importorskip("tensorflow")
    image = np.random.default_rng(0).random((5, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(grid_array(image, pad=0), image)  # (H, W, 3) is one image
    np.testing.assert_allclose(grid_array([image, image], pad=0)[:, 7:], image)
    np.testing.assert_allclose(grid_array(tf.constant(image[None]), pad=0), image)


def test_grid_array_warns_and_clips_out_of_range():
    with pytest.warns(UserWarning, match=r"\(images \+ 1\) / 2"):
        mosaic = grid_array(np.array([[[-1.0, 0.5, 2.0]]]), pad=0)  # (1, 1, 3): one RGB pixel
    np.testing.assert_allclose(mosaic[0, 0], [0.0, 0.5, 1.0])


@pytest.mark.parametrize(
    "images, kwargs, match",
    [
        (np.zeros((2, 4, 4, 2)), {}, r"\(H, W, 3\)"),
        (np.zeros((2, 2, 4, 4, 3)), {}, "batch of shape"),
        (np.zeros((4,)), {}, "batch of shape"),
        ([], {}, "no images"),
        ([np.zeros((4, 4)), np.zeros((5, 4))], {}, "same height and width"),
        (np.zeros((2, 4, 4)), {"ncols": 0}, "ncols"),
        (np.zeros((2, 4, 4)), {"pad": -1}, "pad"),
        (np.zeros((2, 4, 4)), {"pad_value": 2.0}, "pad_value"),
        (np.zeros((2, 4, 4)), {"zoom": 0}, "zoom must be a positive integer; got 0"),
        (np.zeros((2, 4, 4)), {"zoom": 1.5}, "zoom must be a positive integer"),
        (np.zeros((2, 4, 4), np.int64), {}, "dtype"),
        (np.zeros((2, 0, 4)), {}, "empty"),
    ],
)
def test_grid_array_rejects_bad_input(images, kwargs, match):
    kind = ArtlibError if kwargs else ImageError  # a bad argument, or bad images
    with pytest.raises(kind, match=match):
        grid_array(images, **kwargs)


# --- figures ------------------------------------------------------------------------------


def test_image_grid_returns_figure_with_titles_and_writes_png(tmp_path):
    titles = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"]
    fig = image_grid(np.random.default_rng(0).random((5, 28, 28)), ncols=3, titles=titles,
                     path=tmp_path / "sub" / "grid.png")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 6  # 2 rows of 3; the last panel is blank
    assert [ax.get_title() for ax in fig.axes] == titles + [""]
    assert len(fig.axes[-1].images) == 0
    assert all(ax.get_xticks().size == 0 for ax in fig.axes)  # no axes clutter
    _assert_png(tmp_path / "sub" / "grid.png", fig)
    assert _only_file(tmp_path / "sub") == ["grid.png"]


def test_image_grid_checks_titles_and_panel_count():
    with pytest.raises(ValueError, match="titles has 2 entries for 3 images"):
        image_grid(np.zeros((3, 8, 8)), titles=["a", "b"])
    with pytest.raises(ValueError, match="too many"):
        image_grid(np.zeros((plotting.MAX_PANELS + 1, 5, 5)))


def test_compare_rows_labels_each_row_and_writes_png(tmp_path):
    clean = np.random.default_rng(1).random((4, 16, 16, 3))
    rows = {"clean": clean, "noisy": np.clip(clean + 0.3, 0, 1), "denoised": list(clean[:3])}
    fig = compare_rows(rows, path=tmp_path / "rows.png")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3 * 4
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert [labels[r * 4] for r in range(3)] == ["clean", "noisy", "denoised"]
    assert sum(len(ax.images) for ax in fig.axes) == 4 + 4 + 3
    _assert_png(tmp_path / "rows.png", fig)


def test_compare_rows_any_label_text():
    fig = compare_rows({"": np.zeros((1, 12, 12)), "cost $5": np.ones((1, 12, 12)), "$x^2$": np.ones((12, 12))})
    assert [ax.get_ylabel() for ax in fig.axes] == ["", "cost $5", "$x^2$"]
    assert fig._repr_png_()[:8] == PNG_MAGIC  # draws


@pytest.mark.parametrize("rows, words", [({}, "rows must be a non-empty dict of label -> images"),
                                         ({"clean": []}, r"rows\['clean'\]: there are no images to show"),
                                         ([np.zeros((2, 8, 8))], "rows must be a non-empty dict of label -> images")])
def test_compare_rows_rejects_bad_input(rows, words):
    with pytest.raises(ArtlibError, match=words):
        compare_rows(rows)


def _moving_average_naive(values, window):
    out = []
    for i in range(len(values)):
        part = [v for v in values[max(0, i - window + 1) : i + 1] if np.isfinite(v)]
        out.append(np.mean(part) if part else np.nan)
    return np.array(out)


def test_moving_average_matches_naive_loop():
    values = np.array([4.0, 2.0, np.nan, 6.0, 1.0, np.inf, 3.0, 5.0])
    for window in (1, 2, 3, 10):
        np.testing.assert_allclose(_moving_average(values, window),
                                   _moving_average_naive(values, window))


def test_loss_curves_plots_raw_and_smoothed(tmp_path):
    history = {"generator": np.linspace(3, 1, 50), "discriminator": [0.7] * 30}
    fig = loss_curves(history, smooth=5, path=tmp_path / "loss.png")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(ax.lines) == 4  # a faint raw line and a smoothed line per curve
    smoothed = ax.lines[1].get_ydata()
    np.testing.assert_allclose(smoothed, _moving_average_naive(history["generator"], 5))
    np.testing.assert_allclose(ax.lines[3].get_xdata(), np.arange(30))  # x = step
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "generator (mean of 5)", "discriminator (mean of 5)"]
    _assert_png(tmp_path / "loss.png", fig)


def test_loss_curves_log_scale_and_keras_history():
    class History:  # what keras.Model.fit returns
        history = {"loss": [1.0, 0.1, 0.01], "val_loss": [1.2, 0.2, 0.05]}

    fig = loss_curves(History(), log_scale=True, xlabel="epoch", title="fit")
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "epoch" and ax.get_title() == "fit"
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [1.2, 0.2, 0.05])


@pytest.mark.parametrize("history, kwargs, words", [
    ({}, {}, "history must be a non-empty dict of name -> values"),
    ({"loss": []}, {}, r"history\['loss'\] must be a non-empty list of numbers; got shape \(0,\)"),
    ({"loss": [[1, 2]]}, {}, r"history\['loss'\] must be a non-empty list of numbers; got shape \(1, 2\)"),
    ({"loss": [1.0]}, {"smooth": -1}, r"smooth is a moving-average window .*; got -1"),
    ({"loss": [1.0]}, {"smooth": 0.5}, r"smooth is a moving-average window .*; got 0.5"),
    ([1.0, 2.0], {}, "history must be a non-empty dict of name -> values")])
def test_loss_curves_rejects_bad_input(history, kwargs, words):
    with pytest.raises(ArtlibError, match=words):
        loss_curves(history, **kwargs)


# --- saving ---------------------------------------------------------------------------------


def test_figure_shows_in_jupyter_and_saves(tmp_path):
    fig = plotting.figure((3, 2))
    fig.subplots().plot([0, 1], [1, 0])
    assert isinstance(fig, Figure) and tuple(fig.get_size_inches()) == (3, 2)
    assert fig._repr_png_().startswith(b"\x89PNG") and repr(fig).startswith("<Figure size")
    path = save_figure(fig, tmp_path / "chart.png", dpi=50)
    with Image.open(path) as image:  # 3 in at 50 dpi, less the tight bounding box's trim
        assert 120 < image.width <= 150 and 80 < image.height <= 100
    for dpi in (0, "72", float("nan")):  # a text dpi: not a TypeError from the comparison
        with pytest.raises(ArtlibError, match="dpi must be a positive number"):
            save_figure(fig, tmp_path / "chart.png", dpi=dpi)


def test_save_figure_is_atomic(tmp_path):
    target = tmp_path / "plot.png"
    target.write_bytes(b"the previous, good file")
    fig = image_grid(np.zeros((2, 8, 8)))

    def broken_savefig(fname, **kwargs):
        Path(fname).write_bytes(PNG_MAGIC + b"half a picture")
        raise RuntimeError("disk full")

    fig.savefig = broken_savefig
    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(fig, target)
    assert target.read_bytes() == b"the previous, good file"
    assert _only_file(tmp_path) == ["plot.png"]  # no temporary file left behind

    del fig.savefig  # the real method again
    assert save_figure(fig, target) == target
    _assert_png(target, fig)
    assert _only_file(tmp_path) == ["plot.png"]


def test_save_figure_formats(tmp_path):
    fig = loss_curves({"loss": [1.0, 0.5]})
    assert save_figure(fig, tmp_path / "plot.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ImageError, match="image format"):
        save_figure(fig, tmp_path / "plot")
    with pytest.raises(ImageError, match=r"\.png"):
        save_figure(fig, tmp_path / "plot.xyz")


def test_save_gif_frames_durations_and_loop(tmp_path):
    frames = [np.full((6, 8, 3), v, np.float32) for v in (0.0, 0.25, 0.5, 0.75, 1.0)]
    path = save_gif(frames, tmp_path / "anim" / "train.gif", fps=5)
    assert path == tmp_path / "anim" / "train.gif"
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.size == (8, 6)
        assert gif.n_frames == 5
        assert gif.info["loop"] == 0
        durations, firsts = [], []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
            firsts.append(gif.convert("L").getpixel((0, 0)))
    assert durations == [200] * 5  # 1000 ms / 5 fps
    assert firsts == [0, 64, 128, 191, 255]
    assert _only_file(tmp_path / "anim") == ["train.gif"]


def test_save_gif_from_gray_batch_plays_once(tmp_path):
    frames = np.stack([np.eye(12) * v for v in (0.2, 0.6, 1.0)])  # (3, 12, 12) gray frames
    path = save_gif(frames, tmp_path / "once.gif", fps=20, loop=None)
    with Image.open(path) as gif:
        assert gif.n_frames == 3
        assert "loop" not in gif.info
        assert gif.info["duration"] == 50


def test_save_gif_per_frame_durations_and_loop_count(tmp_path):
    frames = np.stack([np.full((8, 8), v) for v in (0.0, 0.5, 1.0)])
    path = save_gif(frames, tmp_path / "slow-end.gif", durations=[100, 100, 700], fps=1, loop=3)
    with Image.open(path) as gif:
        assert gif.info["loop"] == 3
        found, firsts = [], []
        for i in range(gif.n_frames):
            gif.seek(i)
            found.append(gif.info["duration"])
            firsts.append(gif.convert("L").getpixel((0, 0)))
    assert found == [100, 100, 700]  # durations override fps
    assert firsts == [0, 128, 255]


@pytest.mark.parametrize(
    "frames, kwargs, match",
    [
        ([np.zeros((4, 4)), np.zeros((4, 4))], {"durations": [100]}, "one per frame"),
        ([np.zeros((4, 4))], {"durations": [0]}, "positive"),
        ([np.zeros((4, 4)), np.zeros((4, 5))], {}, "same height and width"),
        ([], {}, "no images"),
        ([np.zeros((4, 4))], {"fps": 0}, "fps"),
        ([np.zeros((4, 4))], {"fps": -2}, "fps"),
        ([np.zeros((4, 4))], {"loop": -1}, "loop"),
        ([np.zeros((4, 4))], {"fps": "5"}, "fps must be a positive number; got '5'"),  # not a TypeError
        ([np.zeros((4, 4))], {"loop": 1.5}, "loop"), ([np.zeros((4, 4))], {"loop": "3"}, "loop"),
        ([np.zeros((4, 4))], {"durations": ["fast"]}, "durations.*'fast'"),  # not a ValueError from float()
        ([np.zeros((4, 4))], {"durations": 100}, "one per frame"),
    ],
)
def test_save_gif_rejects_bad_input(tmp_path, frames, kwargs, match):
    with pytest.raises(ArtlibError, match=match):
        save_gif(frames, tmp_path / "bad.gif", **kwargs)
    assert not (tmp_path / "bad.gif").exists()


def test_save_gif_writes_only_gif_names(tmp_path):
    frames = [np.zeros((4, 4)), np.ones((4, 4))]
    for name in ("walk.png", "walk", "walk.gif.png"):  # a GIF's bytes under another name mislead every viewer
        with pytest.raises(ArtlibError, match=f"a GIF's file name must end in .gif; got '{name}'"):
            save_gif(frames, tmp_path / name)
    assert not list(tmp_path.iterdir())
    assert save_gif(frames, tmp_path / "walk.GIF").is_file()


# --- notebooks and headless use ---------------------------------------------------------------


@pytest.mark.parametrize("figsize, words", [(5, "figsize must be \\(width, height\\) in inches; got 5"),
                                           ((0, 3), "figsize must be a positive number; got 0"),
                                           ("56", "figsize must be \\(width, height\\)"),
                                           ((6, 4, 1), "figsize must be \\(width, height\\)"),
                                           (None, "figsize must be \\(width, height\\) in inches; got None")])
def test_figure_refuses_a_size_that_is_not_two_positive_numbers(figsize, words):
    from artlib.plotting import figure

    with pytest.raises(ArtlibError, match=words):
        figure(figsize)
    assert tuple(figure((3, 2)).get_size_inches()) == (3, 2)


def test_save_figure_refuses_what_is_not_a_figure(tmp_path):
    with pytest.raises(ArtlibError, match="saves a matplotlib Figure .*got ndarray"):
        save_figure(np.zeros((8, 8)), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_figures_display_in_jupyter_without_pyplot():
    formatters = pytest.importorskip("IPython.core.formatters")
    fig = image_grid(np.zeros((2, 8, 8)))
    data, _ = formatters.DisplayFormatter().format(fig)
    assert data["image/png"][:8] == PNG_MAGIC
    assert data["text/plain"].startswith("<Figure size")


def test_plotting_never_imports_pyplot_or_tensorflow(tmp_path):
    # In a fresh interpreter with no display, draw and save everything.
    code = textwrap.dedent(f"""
        import sys
        import numpy as np
        from artlib import plotting
        out = {str(tmp_path)!r}
        plotting.image_grid(np.zeros((2, 8, 8)), titles=["a", "b"], path=out + "/g.png")
        plotting.compare_rows({{"a": np.zeros((2, 8, 8))}}, path=out + "/c.png")
        plotting.loss_curves({{"loss": [1.0, 0.5]}}, path=out + "/l.png")
        plotting.save_gif(np.zeros((2, 8, 8)), out + "/a.gif")
        assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
        assert "tensorflow" not in sys.modules, "tensorflow was imported"
    """)
    run_python("-c", code, env={"DISPLAY": "", "MPLBACKEND": ""}, check=True)  # no display, no chosen backend
    assert _only_file(tmp_path) == ["a.gif", "c.png", "g.png", "l.png"]


# ----------------------------------------------------------------------------- measure charts
def test_tradeoff_draws_one_labelled_point_per_report_in_each_panel(tmp_path):
    reports = {"0": {"frechet": 6.6, "class_entropy": 0.97, "pixel_nn_distance": 5.5},
               "0.01": {"frechet": 12.0, "class_entropy": 1.07, "pixel_nn_distance": 5.9},
               "0.1": {"frechet": 20.0, "class_entropy": 1.3, "pixel_nn_distance": 6.4}}
    real = {"class_entropy": 0.2, "pixel_nn_distance": 4.0}
    fig = plotting.tradeoff(reports, reference=real, title="sweep", path=tmp_path / "t.png")
    assert len(fig.axes) == 2 and (tmp_path / "t.png").stat().st_size > 1000
    for ax, key in zip(fig.axes, ("class_entropy", "pixel_nn_distance")):
        line = ax.lines[0]
        np.testing.assert_array_equal(line.get_xdata(), [6.6, 12.0, 20.0])
        np.testing.assert_array_equal(line.get_ydata(), [r[key] for r in reports.values()])
        assert [t.get_text() for t in ax.texts] == ["0", "0.01", "0.1"]
        assert ax.lines[1].get_ydata()[0] == real[key]  # the dashed line of real images
        assert "Fréchet" in ax.get_xlabel()
    one = plotting.tradeoff(reports, "frechet", "class_entropy")
    assert len(one.axes) == 1 and "entropy" in one.axes[0].get_ylabel()


@pytest.mark.parametrize("reports, kwargs, match", [
    ({}, {}, "non-empty"),
    ({"a": {"frechet": 1.0}}, {}, "no 'class_entropy'"),
    ({"a": {"frechet": "x", "class_entropy": 1, "pixel_nn_distance": 1}}, {}, "not a number"),
    ({"a": {"frechet": 1.0, "class_entropy": 1.0}}, {"ys": []}, "at least one"),
    ({"a": {"frechet": 1.0, "class_entropy": 1.0}}, {"ys": ["class_entropy"], "reference": {}}, "no 'class_entropy'"),
])
def test_tradeoff_rejects_bad_input(reports, kwargs, match):
    with pytest.raises(ArtlibError, match=match):
        plotting.tradeoff(reports, **kwargs)
