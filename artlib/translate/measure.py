"""How good a translation is: the share the shipped classifier assigns to the target class, the cycle PSNR, and a grid.

For each direction (A → B and B → A), :func:`translation_report` translates the inputs,
classifies the translations with artlib's Fashion-MNIST classifier
(:func:`artlib.metrics.load_fashion_classifier`) and translates them back:

* ``target_share``: the share of translations whose most probable class is the target class;
* ``source_share``: the same classifier's share of *inputs* put in their own class (what a
  perfect translation could hope for, as the classifier is not perfect either);
* ``cycle_psnr``: the mean PSNR (dB, pixels in [0, 1]) of the round trip against the input:
  how much of the input the translation kept.

:func:`translation_rows` gives the picture: inputs → translations → reconstructions, for
``artlib.plotting.compare_rows`` (and the run's sample grid).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artlib.checks import positive_int
from artlib.errors import ArtlibError
from artlib.metrics import classifier_probabilities, fashion_batch, load_fashion_classifier, psnr
from artlib.translate.apply import as_translator, translate
from artlib.classes import class_name, class_pair

__all__ = ["translation_report", "translation_rows"]


def _classes(translator: Any, classes: Any) -> tuple[int, int] | None:
    """The two class numbers: ``classes`` if given, else the translator's (None if it has none)."""
    classes = classes if classes is not None else getattr(translator, "classes", None)
    return None if classes is None else class_pair(classes)


def _round_trip(images: Any, translator: Any, direction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(inputs, translations, reconstructions)``, float32 (N, 28, 28, 1) in [0, 1]."""
    inputs = fashion_batch(images)  # (N, 28, 28, 1) in [0, 1]
    back = "b_to_a" if direction == "a_to_b" else "a_to_b"
    translated = translate(inputs, translator, direction)
    return inputs, translated, translate(translated, translator, back)


def translation_report(images_a: Any, images_b: Any, models: Any = None, *, classes: Any = None,
                       classifier: Any = None) -> dict[str, Any]:
    """Measure a translator in both directions (see the module docstring).

    Args:
        images_a: Images of class A (e.g. the 1,000 test images of that class): uint8 or [0, 1],
            ``(N, 28, 28)`` or ``(N, 28, 28, 1)``.
        images_b: Images of class B, likewise.
        models: A run directory, a :class:`~artlib.translate.Translator`, the ``CycleModels`` of a
            run, or None for the shipped pair.
        classes: ``(a, b)`` (numbers or names); default the translator's.
        classifier: The Fashion-MNIST classifier (default: the shipped one).

    Returns:
        ``{"classes": (a, b), "a_to_b": {...}, "b_to_a": {...}}``, each direction
        ``{"count", "target_share", "source_share", "cycle_psnr"}``.

    Raises:
        ArtlibError: No classes known (pass ``classes=``).
        ImageError: Bad images. CheckpointError, DataError: As :func:`~artlib.translate.load_translator`.

    Example::

        (_, _), (x_test, y_test) = data.load_fashion_mnist()
        report = translation_report(x_test[y_test == 7], x_test[y_test == 9])
        report["a_to_b"]["target_share"]   # the share of sneakers turned into "ankle boots"
    """
    translator = as_translator(models)
    pair = _classes(translator, classes)
    if pair is None:
        raise ArtlibError("these models do not say which classes they map between; pass classes=(a, b)")
    classifier = classifier if classifier is not None else load_fashion_classifier(verbose=False)
    report: dict[str, Any] = {"classes": pair}
    for direction, images, (source, target) in (("a_to_b", images_a, pair), ("b_to_a", images_b, pair[::-1])):
        inputs, translated, reconstructed = _round_trip(images, translator, direction)
        predicted = classifier_probabilities(classifier, np.concatenate([inputs, translated])).argmax(axis=1)
        report[direction] = {"count": len(inputs),
                             "source_share": float(np.mean(predicted[:len(inputs)] == source)),
                             "target_share": float(np.mean(predicted[len(inputs):] == target)),
                             "cycle_psnr": float(np.mean(psnr(inputs, reconstructed)))}
    return report


def translation_rows(images_a: Any, images_b: Any, models: Any = None, *, count: int = 8,
                     classes: Any = None) -> dict[str, np.ndarray]:
    """Rows for ``artlib.plotting.compare_rows``: inputs → translations → reconstructions, both directions.

    Args:
        images_a: Images of class A (the first ``count`` are shown), as in :func:`translation_report`.
        images_b: Images of class B, likewise.
        models: As in :func:`translation_report`.
        count: Images (columns) per row at most.
        classes: ``(a, b)`` for the row labels; default the translator's (else "A" and "B").

    Returns:
        Six rows in order, float32 (count, 28, 28) in [0, 1]: ``"Sneaker (A)"``, ``"A → B"``,
        ``"A → B → A"``, ``"Ankle boot (B)"``, ``"B → A"``, ``"B → A → B"`` (the names of the classes).

    Raises:
        ArtlibError: ``count`` below 1. ImageError: Bad images.

    Example::

        plotting.compare_rows(translation_rows(sneakers, boots, "runs/translate"), path="grid.png")
    """
    count = positive_int(count, "count")
    translator = as_translator(models)
    pair = _classes(translator, classes)
    names = ("A", "B") if pair is None else tuple(class_name(c) for c in pair)
    rows: dict[str, np.ndarray] = {}
    for direction, images, (name, source, target) in (("a_to_b", images_a, (names[0], "A", "B")),
                                                      ("b_to_a", images_b, (names[1], "B", "A"))):
        trip = _round_trip(fashion_batch(images)[:count], translator, direction)
        labels = (f"{name} ({source})", f"{source} → {target}", f"{source} → {target} → {source}")
        rows.update({label: row[..., 0] for label, row in zip(labels, trip)})  # (count, 28, 28, 1) -> (count, 28, 28)
    return rows
