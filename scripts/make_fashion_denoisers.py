"""Train the Fashion-MNIST denoisers that notebook 02 offers with USE_PRETRAINED.

Writes ``fashion_denoiser.keras`` (artlib's default U-Net) and ``fashion_denoiser_tutorial.keras``
(the TF tutorial's model, trained with the same recipe and noise) plus ``fashion_denoisers.json``
(settings and training times). Both see Gaussian noise with σ drawn from [0, 0.55] per image, fresh
every batch; the last 5,000 training images are held out as the validation split.

    python scripts/make_fashion_denoisers.py --out data/pretrained --epochs 2

The shipped models were trained before :func:`artlib.autoencoder.train` moved onto
:func:`artlib.training.fit` (another epoch order, and 864 rather than 832 batches an epoch), so this
script now gives models of the same recipe, not the same bytes.
"""

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent  # the checkout: artlib is imported from here, models go to its data/
sys.path.insert(0, str(REPO))

from artlib.cli.common import nonnegative_int, positive_int  # noqa: E402  (no TensorFlow)

from artlib import autoencoder, config, data, training  # noqa: E402

VALIDATION = 5000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO / "data" / "pretrained"))
    parser.add_argument("--epochs", type=positive_int, default=2)
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--filters", type=positive_int, default=16)
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config.set_seed(args.seed)
    dataset = data.load_fashion_mnist()
    (x_train, _), _ = dataset
    x_fit = x_train[:-VALIDATION]
    report = {"source": str(dataset.source), "train_images": len(x_fit), "epochs": args.epochs,
              "batch_size": args.batch_size, "noise": "gaussian, sigma ~ U(0, 0.55) per image",
              "cpu": config.devices()["cpu"], "cores": config.devices()["cpu_cores"]}
    for name, model in (("fashion_denoiser_tutorial", autoencoder.build_tutorial_autoencoder()),
                        ("fashion_denoiser", autoencoder.build_denoiser(filters=args.filters))):
        start = time.perf_counter()
        run_dir = out / f"run_{name}"  # a finished run there is loaded, not trained again
        autoencoder.train(model, x_fit, num_epochs=args.epochs, batch_size=args.batch_size, run_dir=run_dir,
                          seed=args.seed, verbose=2)
        report[name] = {"seconds": round(time.perf_counter() - start, 1),
                        "loss": training.RunDir(run_dir).read_history()["loss"],
                        "parameters": model.count_params()}
        autoencoder.save_model(model, out / f"{name}.keras")
        print(name, report[name], flush=True)
    (out / "fashion_denoisers.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
