"""Make data/pretrained/fashion_classifier.keras: the classifier that artlib.metrics uses to measure samples.

Trains ``artlib.metrics.build_fashion_classifier()`` on the full Fashion-MNIST training set
(60,000 images) with ``artlib.metrics.train_fashion_classifier``, measures it on the 10,000
test images (which it never sees), and saves the weights in an uncompiled model (no
optimizer state, so the file stays small) that loads with ``safe_mode=True``.

Usage (from the repository root):

    python scripts/make_fashion_classifier.py [--data /usr/share/datasets/fashion-mnist] [--epochs 2] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent  # the checkout: artlib is imported from here
sys.path.insert(0, str(REPO))

from artlib.cli.common import nonnegative_int, positive_int  # noqa: E402  (no TensorFlow)

import numpy as np  # noqa: E402

from artlib import atomic, config, data, metrics  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(data.DEBIAN_DIR), help="folder with the four full Fashion-MNIST files")
    parser.add_argument("--epochs", type=positive_int, default=2)
    parser.add_argument("--batch-size", type=positive_int, default=128)
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("-o", "--out", default=str(metrics.CLASSIFIER_PATH))
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args()
    out = Path(args.out)
    if out.exists() and not args.force:
        print(f"{out} exists; pass --force to overwrite it.")
        return 2

    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(args.data)
    if len(x_train) != 60000:
        print(f"expected the full 60,000 training images, got {len(x_train)}")
        return 2
    devices = config.devices()
    print(f"machine: {devices['cpu']} ({devices['cpu_cores']} cores), gpus: {devices['gpus'] or 'none'}")
    print(", ".join(f"{k} {v}" for k, v in config.versions().items()))
    start = time.perf_counter()
    trained = metrics.train_fashion_classifier(
        x_train, y_train, num_epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, verbose=2
    )
    seconds = time.perf_counter() - start

    # A fresh, uncompiled model with the trained weights: the file holds no optimizer state.
    model = metrics.build_fashion_classifier()
    model.set_weights(trained.get_weights())
    with atomic.atomic_path(out) as tmp:
        model.save(tmp)
    loaded = metrics.load_fashion_classifier(out)
    predicted = metrics.classifier_probabilities(loaded, x_test).argmax(axis=1)
    accuracy = float(np.mean(predicted == y_test))
    per_class = [float(np.mean(predicted[y_test == c] == c)) for c in range(10)]
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"training time: {seconds:.0f} s for {args.epochs} epochs (batch {args.batch_size}, seed {args.seed})")
    print(f"test accuracy: {accuracy:.4f} on {len(x_test)} test images")
    print("per class: " + ", ".join(f"{n} {a:.3f}" for n, a in zip(data.FASHION_MNIST_CLASSES, per_class)))
    print(f"{out}: {out.stat().st_size:,} bytes, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
