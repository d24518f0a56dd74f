"""Make data/fashion-mnist-subset from the full Fashion-MNIST: the first 600 training and 100 test images of each class.

Usage (from the repository root): python data/make_fashion_mnist_subset.py /usr/share/datasets/fashion-mnist data/fashion-mnist-subset
"""
import gzip, struct, sys, numpy as np
from pathlib import Path
sys.path.insert(0, ".")
from artlib import data
src = Path(sys.argv[1]); out = Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
(xtr, ytr), (xte, yte) = data._read_folder(src)
def pick(y, per_class):
    idx = np.sort(np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(10)]))
    return idx
def write(path, arr):
    header = struct.pack(">HBB", 0, 8, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as f:
        f.write(header + arr.astype(np.uint8).tobytes())
i = pick(ytr, 600); j = pick(yte, 100)
for key, arr in {"x_train": xtr[i], "y_train": ytr[i], "x_test": xte[j], "y_test": yte[j]}.items():
    write(out / data.FASHION_MNIST_FILES[key], arr)
print(len(i), len(j))
