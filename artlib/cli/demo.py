"""``python -m artlib demo``: render a small version of every topic into a gallery (see artlib.gallery)."""

from __future__ import annotations

import argparse
from pathlib import Path

from artlib.cli.common import check_folder, force_option, out_option, seed_option
from artlib.errors import ArtlibError

__all__ = ["register"]


def cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if (out / "index.html").exists() and not args.force:
        raise ArtlibError(f"{out / 'index.html'} exists (a gallery, or a page of yours); pass --force to write the "
                          "gallery over it, or choose another --out")
    check_folder(out)
    from artlib import gallery

    index, count = gallery.build(out, seed=args.seed, verbose=True)
    print(f"gallery: {count} pictures in {out.resolve()}; open {index.resolve()}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="render every topic into a gallery (PNG + index.html)")
    out_option(demo, "output folder", required=False, default="gallery")
    seed_option(demo)
    force_option(demo)
    demo.set_defaults(func=cmd_demo)
