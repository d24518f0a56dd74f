"""``python -m artlib info``: versions, devices, modes, and where data and weights would come from."""

from __future__ import annotations

import argparse

from artlib import config

__all__ = ["report", "register"]


def report() -> str:
    """A short, printable report: versions, devices, modes, data and weights available."""
    from artlib import data, patterns
    from artlib.style.weights import describe_auto

    lines = ["artlib environment"]
    lines += [f"  {k:<14} {v}" for k, v in config.versions().items()]
    dev = config.devices()
    lines.append(f"  {'cpu':<14} {dev['cpu']} ({dev['cpu_cores']} cores)")
    lines.append(f"  {'gpus':<14} {', '.join(dev['gpus']) or 'none'}")
    if dev["tpus"]:
        lines.append(f"  {'tpus':<14} {', '.join(dev['tpus'])}")
    lines.append(f"  {'mode':<14} {config.mode()} (ARTLIB_MODE: fast, lesson or full)")
    lines.append(f"  {'offline':<14} "
                 f"{'yes (ARTLIB_OFFLINE=1)' if config.is_offline() else 'no (downloads allowed)'}")
    lines.append(f"  {'fashion-mnist':<14} {data.describe_fashion_mnist_source()}")
    lines.append(f"  {'style features':<14} {describe_auto()}")
    paintings = [f"painting:{name}" + ("" if data.painting_path(name).is_file() else
                                       " (its file is missing: reinstall artlib)") for name in data.PAINTINGS]
    lines.append(f"  {'style images':<14} pattern:{'|'.join(patterns.PATTERNS)} (drawn); {', '.join(paintings)} "
                 "(shipped); any path or http(s) URL")
    count = len(data.OPENCV_DOC_PHOTOS)
    extra = (f"and Debian opencv-doc's {count} ({data.OPENCV_DOC_DIR})" if data.has_opencv_doc_photos()
             else f"(`sudo apt install opencv-doc` adds {count} colour photos)")
    training = len(data.SAMPLE_PHOTOS) - len(data.HELD_OUT_PHOTOS)  # the held-out ones judge the networks
    held_out = " and ".join(data.HELD_OUT_PHOTOS)
    lines.append(f"  {'content photos':<14} scikit-image's {training} to train on ({held_out} held out) {extra}")
    return "\n".join(lines)


def cmd_info(args: argparse.Namespace) -> int:
    print(report())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    info = sub.add_parser("info", help="versions, devices, modes, data and weights sources")
    info.set_defaults(func=cmd_info)
