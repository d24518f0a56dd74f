"""Make data/fashion-mnist-subset from the full Fashion-MNIST: the first 600 training and 100 test images of each class.

The files are gzip level 9 with mtime 0, so the output is reproducible byte for byte (data/README.md
gives their sha256).

    python scripts/make_fashion_mnist_subset.py [SOURCE] [OUT]

SOURCE defaults to the Debian package's folder (/usr/share/datasets/fashion-mnist), OUT to the
checkout's data/fashion-mnist-subset.
"""

import gzip
import struct
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent  # the checkout: artlib is imported from here, the subset goes to its data/
sys.path.insert(0, str(REPO))

from artlib import data  # noqa: E402

TRAIN_PER_CLASS, TEST_PER_CLASS = 600, 100


def first_of_each_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` images of each of the 10 classes, in their original order."""
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)]))


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` as a gzipped idx file of unsigned bytes (reproducible: level 9, mtime 0, no name)."""
    header = struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else data.DEBIAN_DIR
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else REPO / "data" / "fashion-mnist-subset"
    out.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = data._read_folder(source)
    train = first_of_each_class(y_train, TRAIN_PER_CLASS)
    test = first_of_each_class(y_test, TEST_PER_CLASS)
    arrays = {"x_train": x_train[train], "y_train": y_train[train], "x_test": x_test[test], "y_test": y_test[test]}
    for key, array in arrays.items():
        write_idx(out / data.FASHION_MNIST_FILES[key], array)
    print(f"{len(train)} training and {len(test)} test images in {out}")


if __name__ == "__main__":
    main()
