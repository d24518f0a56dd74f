"""Tests for artlib.checks: the argument checks every topic's Python API uses."""

from __future__ import annotations

import numpy as np
import pytest

from artlib import checks
from artlib.errors import ArtlibError


def test_positive_int_takes_whole_numbers_and_names_what_it_refuses():
    assert checks.positive_int(3, "n") == 3 and checks.positive_int(3.0, "n") == 3
    assert checks.positive_int(np.int64(2), "n") == 2 and checks.positive_int(16, "size", minimum=16) == 16
    for bad in (0, -1, 2.5, float("nan"), float("inf"), True, "3", None):
        with pytest.raises(ArtlibError, match="n must be a positive integer"):
            checks.positive_int(bad, "n")
    with pytest.raises(ArtlibError, match="size must be an integer ≥ 16; got 8"):
        checks.positive_int(8, "size", minimum=16)


def test_positive_float_refuses_zero_unless_allowed():
    assert checks.positive_float(0.5, "rate") == 0.5 and checks.positive_float(0, "w", zero=True) == 0.0
    for bad in (0, -0.1, float("nan"), float("inf"), False, "1"):
        with pytest.raises(ArtlibError, match="rate must be a positive number"):
            checks.positive_float(bad, "rate")
    with pytest.raises(ArtlibError, match="w must be a number ≥ 0; got -1"):
        checks.positive_float(-1, "w", zero=True)


def test_unit_float_takes_the_closed_interval():
    for good in (0, 0.0, 0.25, 1, np.float32(1.0)):
        assert checks.unit_float(good, "share") == float(good)
    assert isinstance(checks.unit_float(1, "share"), float)
    for bad in (-0.01, 1.01, float("nan"), float("inf"), True, "0.5", None):
        with pytest.raises(ArtlibError, match=r"share must be in \[0, 1\]"):
            checks.unit_float(bad, "share")
