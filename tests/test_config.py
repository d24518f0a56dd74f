"""artlib.config: the three modes, the stable run folders, the solutions switch."""

from __future__ import annotations

import pytest

from artlib import config
from artlib.errors import ArtlibError


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("ARTLIB_MODE", "ARTLIB_FAST", "ARTLIB_RUNS_DIR", "ARTLIB_SOLUTIONS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("env, expected", [
    ({}, "full"),
    ({"ARTLIB_FAST": "1"}, "fast"),
    ({"ARTLIB_FAST": "0"}, "full"),
    ({"ARTLIB_MODE": "lesson"}, "lesson"),
    ({"ARTLIB_MODE": " Lesson "}, "lesson"),
    ({"ARTLIB_MODE": "full", "ARTLIB_FAST": "1"}, "full"),  # the explicit mode wins
    ({"ARTLIB_MODE": "fast"}, "fast"),
])
def test_mode_reads_artlib_mode_then_artlib_fast(clean_env, env, expected):
    for k, v in env.items():
        clean_env.setenv(k, v)
    assert config.mode() == expected
    assert config.is_fast() is (expected == "fast")
    assert config.is_lesson() is (expected == "lesson")


def test_an_unknown_mode_is_an_error_naming_the_three(clean_env):
    clean_env.setenv("ARTLIB_MODE", "quick")
    with pytest.raises(ArtlibError, match="'quick'.*fast, lesson, full"):
        config.mode()


def test_choose_picks_by_mode_and_lesson_defaults_to_full(clean_env):
    values = dict(full=3000, lesson=300, fast=4)
    for mode, expected in (("fast", 4), ("lesson", 300), ("full", 3000)):
        clean_env.setenv("ARTLIB_MODE", mode)
        assert config.choose(**values) == expected
        assert config.choose(full=30, fast=1) == (1 if mode == "fast" else 30)  # library defaults
    clean_env.setenv("ARTLIB_MODE", "full")
    clean_env.setattr(config, "accelerator", lambda: "cpu")  # on a CPU the GPU value is not taken
    assert config.choose(full=10, fast=1, gpu=100) == 10


@pytest.mark.parametrize("accelerator", ["gpu", "tpu"])
def test_an_accelerator_takes_the_gpu_value_in_full_mode_only(clean_env, accelerator):
    clean_env.setattr(config, "accelerator", lambda: accelerator)
    for mode, expected in (("fast", 4), ("lesson", 300), ("full", 30000)):
        clean_env.setenv("ARTLIB_MODE", mode)
        assert config.choose(full=3000, lesson=300, fast=4, gpu=30000) == expected
    clean_env.setenv("ARTLIB_MODE", "lesson")
    assert config.choose(full=3000, fast=4, gpu=30000) == 3000  # no lesson value: full's, as on a CPU


def test_a_mode_written_in_the_parameters_cell_sets_the_sizes(clean_env, tmp_path):
    """`MODE = config.mode("lesson")` in a notebook: the sizes, the runs folder and the printed mode all follow it."""
    from artlib.errors import ArtlibError

    clean_env.setenv("ARTLIB_MODE", "fast")
    assert config.mode("auto") == "fast" and config.mode(None) == "fast"  # "auto": the environment's
    assert config.mode(" Lesson ") == "lesson"
    assert config.choose(full=3, lesson=2, fast=1) == 2 and config.mode() == "lesson"
    clean_env.setenv("ARTLIB_RUNS_DIR", str(tmp_path))
    assert config.runs_dir("04_gan") == tmp_path / "04_gan" / "lesson"
    with pytest.raises(ArtlibError, match=r"mode 'quick' is not a mode; use one of fast, lesson, full, or 'auto'"):
        config.mode("quick")
    assert config.mode() == "lesson"  # a refused choice changes nothing


def test_runs_dir_is_stable_per_notebook_and_mode(clean_env, tmp_path):
    clean_env.setenv("ARTLIB_RUNS_DIR", str(tmp_path))
    clean_env.setenv("ARTLIB_MODE", "lesson")
    first = config.runs_dir("04_gan")
    assert first == tmp_path / "04_gan" / "lesson" and first.is_dir()
    assert config.runs_dir("04_gan") == first  # after a kernel restart: the same folder, so runs resume
    clean_env.setenv("ARTLIB_MODE", "full")
    assert config.runs_dir("04_gan") == tmp_path / "04_gan" / "full"  # another mode never resumes this one


def test_runs_dir_that_cannot_be_made_names_the_variable(clean_env, tmp_path):
    from artlib.errors import WriteError

    (tmp_path / "notes.txt").write_text("a file")
    clean_env.setenv("ARTLIB_RUNS_DIR", str(tmp_path / "notes.txt"))
    with pytest.raises(WriteError, match=r"cannot make .*notes.txt/04_gan/.* for the runs \(.*\); point "
                                         r"ARTLIB_RUNS_DIR \(now '.*notes.txt'\) at a folder that can be written"):
        config.runs_dir("04_gan")


def test_a_runs_dir_that_exists_read_only_is_refused_at_once(clean_env, tmp_path):
    """A class's shared, read-only copy of finished runs: named in the set-up cell, not at the first training's lock."""
    import errno
    import tempfile

    from artlib.errors import WriteError

    clean_env.setenv("ARTLIB_RUNS_DIR", str(tmp_path))
    config.runs_dir("04_gan")  # made, and writable

    def read_only(*args, **kwargs):  # what a read-only mount answers (root ignores permission bits, so chmod won't do)
        raise OSError(errno.EROFS, "Read-only file system")

    clean_env.setattr(tempfile, "mkstemp", read_only)  # how atomic.check_writable probes a folder
    with pytest.raises(WriteError, match=r"cannot write in .*04_gan/full for the runs \(Read-only file system\); point "
                                         r"ARTLIB_RUNS_DIR .* at a folder that can be written") as caught:
        config.runs_dir("04_gan")
    assert caught.value.errno == errno.EROFS


def test_runs_dir_defaults_to_runs_under_the_working_directory(clean_env, tmp_path):
    clean_env.chdir(tmp_path)
    assert config.runs_dir("01_images") == tmp_path / "runs" / "01_images" / "full"


@pytest.mark.parametrize("value, offline", [("1", True), (" Yes ", True), ("on", True), ("0", False), ("off", False),
                                            ("", False), ("2", None), ("offline", None), ("y", None)])
def test_a_yes_no_variable_takes_yes_or_no_and_nothing_else(clean_env, value, offline):
    clean_env.setenv("ARTLIB_OFFLINE", value)
    if offline is None:  # ARTLIB_OFFLINE=2 had quietly meant "online"
        with pytest.raises(ArtlibError, match=f"ARTLIB_OFFLINE={value.strip().lower()!r} is neither yes nor no"):
            config.is_offline()
    else:
        assert config.is_offline() is offline
    clean_env.setenv("CI", "gitlab")  # another program's variable: read leniently, never an error
    assert config.is_ci() is False


def test_solutions_run_only_when_asked(clean_env):
    assert config.run_solutions() is False
    clean_env.setenv("ARTLIB_SOLUTIONS", "1")
    assert config.run_solutions() is True


def test_describe_mode_names_the_mode_and_the_hardware(clean_env):
    clean_env.setenv("ARTLIB_MODE", "lesson")
    line = config.describe_mode()
    assert line.startswith("mode: lesson") and "10 minutes" in line and "CPU" in line
