"""Train the shipped photo denoiser, ``data/pretrained/photo_denoiser.keras``.

A small U-Net told the noise level (:func:`artlib.autoencoder.build_photo_denoiser`), trained on
random 48×48 crops (with flips) of scikit-image's bundled photos except the held-out ones
(``artlib.data.HELD_OUT_PHOTOS``), with Gaussian noise of σ drawn from [0, 0.2] per crop,
fresh every batch; then evaluated on the held-out photos against tuned non-local means at σ = 0.1.

    python scripts/make_photo_denoiser.py --out /tmp/ae --epochs 12 --count 8192 --seed 4
    python scripts/make_photo_denoiser.py --out /tmp/ae2 --epochs 4 --count 8192 --seed 5 \
        --learning-rate 5e-4 --init /tmp/ae/photo_denoiser.keras

(the shipped model's two runs; data/README.md gives their times and scores). They ran before
:func:`artlib.autoencoder.train` moved onto :func:`artlib.training.fit`, whose epoch order differs, so
the commands now give a model of the same recipe, not the same bytes.
"""

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent  # the checkout: artlib is imported from here, models go to its data/
sys.path.insert(0, str(REPO))

from artlib.cli.common import nonnegative_int, positive_float, positive_int  # noqa: E402  (no TensorFlow)

from artlib import autoencoder, config, training  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO / "data" / "pretrained"))
    parser.add_argument("--epochs", type=positive_int, default=3)
    parser.add_argument("--count", type=positive_int, default=4096, help="training crops")
    parser.add_argument("--filters", type=positive_int, default=24)
    parser.add_argument("--batch-size", type=positive_int, default=16)
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--learning-rate", type=positive_float, default=2e-3)
    parser.add_argument("--init", default=None, help="continue from this .keras model instead of a new one")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config.set_seed(args.seed)
    start = time.perf_counter()
    run_dir = out / "run_photo_denoiser"  # a finished run there is loaded, not trained again
    model, _ = autoencoder.train_photo_denoiser(
        autoencoder.load_model(args.init) if args.init else autoencoder.build_photo_denoiser(filters=args.filters),
        count=args.count, num_epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate, run_dir=run_dir, seed=args.seed, verbose=2)
    seconds = time.perf_counter() - start
    autoencoder.save_model(model, out / "photo_denoiser.keras")
    rows = autoencoder.evaluate_photo_denoiser(model, sigma=0.1)
    report = {"seconds": round(seconds, 1), "loss": training.RunDir(run_dir).read_history()["loss"],
              "parameters": model.count_params(),
              "settings": vars(args), "held_out_psnr_sigma_0.1": rows,
              "cpu": config.devices()["cpu"], "cores": config.devices()["cpu_cores"]}
    (out / "photo_denoiser.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(json.dumps(report, indent=2, default=float))


if __name__ == "__main__":
    main()
