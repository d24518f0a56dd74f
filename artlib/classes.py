"""Fashion-MNIST classes named by number or by name, checked in one place (no TensorFlow).

``class_index("ankle boot") == class_index("Ankle-Boot") == class_index("9") == 9``: names are
those of :data:`artlib.data.FASHION_MNIST_CLASSES`, matched without regard to case, spaces,
hyphens, underscores or slashes; ``"T-shirt/top"`` also answers to ``"t-shirt"``, ``"tshirt"``
and ``"top"``. Every command's ``--class``/``--classes``/``--label`` goes through
:func:`class_index` (``artlib.cli.common.class_label``) before TensorFlow loads; the GAN's
class subsets use :func:`class_list`, a translation's pair :func:`class_pair`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from artlib.data import FASHION_MNIST_CLASSES
from artlib.errors import ArtlibError

__all__ = ["class_index", "class_list", "class_pair", "class_name", "known_classes"]


def _key(text: str) -> str:
    """A name as it is compared: lower case, without spaces, hyphens, underscores or slashes."""
    return re.sub(r"[\s\-_/]+", "", text.lower())


#: Every accepted spelling (as :func:`_key` makes it) -> class number.
_NAMES = {_key(name): index for index, name in enumerate(FASHION_MNIST_CLASSES)}
_NAMES.update({_key(part): index for index, name in enumerate(FASHION_MNIST_CLASSES) if "/" in name
               for part in name.split("/")})


def known_classes() -> str:
    """The classes as a user may name them, for messages: ``0 T-shirt/top, 1 Trouser, …``."""
    return ", ".join(f"{index} {name}" for index, name in enumerate(FASHION_MNIST_CLASSES))


def class_index(value: Any) -> int:
    """A Fashion-MNIST class as its number 0–9.

    Args:
        value: A number 0–9 (an int, or text such as ``"7"``) or a class name
            (``"sneaker"``, ``"Ankle boot"``, ``"ankle-boot"``, ``"t-shirt"`` …).

    Returns:
        The class number.

    Raises:
        ArtlibError: No class of that number or name (the message lists them).

    Example:
        >>> class_index("Ankle_Boot"), class_index(" 7 "), class_index("top")
        (9, 7, 0)
    """
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            value = int(text)
        elif _key(text) in _NAMES:
            return _NAMES[_key(text)]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(FASHION_MNIST_CLASSES):
        return int(value)
    if hasattr(value, "dtype") and getattr(value, "shape", None) == () and str(value.dtype).startswith(("int", "uint")):
        return class_index(int(value))  # a NumPy integer
    raise ArtlibError(f"unknown Fashion-MNIST class {value!r}; give a number or a name: {known_classes()}")


def class_list(classes: Any) -> list[int]:
    """Different Fashion-MNIST classes, by number or name, as a sorted list of numbers.

    Args:
        classes: A non-empty list, tuple or array of numbers or names (see :func:`class_index`).

    Returns:
        The class numbers, sorted.

    Raises:
        ArtlibError: Not a non-empty sequence, an unknown class, or a class named twice.
    """
    values = list(classes) if isinstance(classes, (list, tuple)) or hasattr(classes, "__array__") else None
    if not values:
        raise ArtlibError(f"classes must be a non-empty list of Fashion-MNIST classes; got {classes!r}")
    numbers = [class_index(value) for value in values]
    if len(set(numbers)) != len(numbers):
        raise ArtlibError(f"classes must be different Fashion-MNIST classes; got {classes!r}")
    return sorted(numbers)


def class_pair(classes: Sequence[Any]) -> tuple[int, int]:
    """Two different classes, A and B, as numbers.

    Args:
        classes: Two numbers or names (see :func:`class_index`).

    Returns:
        ``(a, b)``.

    Raises:
        ArtlibError: Not two classes, an unknown one, or the same class twice.
    """
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence) or len(classes) != 2:
        raise ArtlibError(f"classes must be two Fashion-MNIST classes, e.g. ('sneaker', 'ankle boot'); got {classes!r}")
    a, b = (class_index(value) for value in classes)
    if a == b:
        raise ArtlibError(f"classes must be two different classes; both are {a} ({FASHION_MNIST_CLASSES[a]})")
    return a, b


def class_name(index: int) -> str:
    """The name of class ``index`` (``7`` -> ``"Sneaker"``)."""
    return FASHION_MNIST_CLASSES[class_index(index)]
