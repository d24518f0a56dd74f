"""The command line: ``python -m artlib <topic> <verb> [options]`` (``artlib`` once installed).

=================================  ======================================================
``info``                       versions, devices, modes, where data and weights come from
``demo``                       a small version of every topic as a gallery (PNG + index.html)
``autoencoder denoise``        remove noise from a photo (alias: ``denoise``)
``vae train|sample``           a variational autoencoder on Fashion-MNIST
``gan train|finetune|sample|interpolate``  a GAN on Fashion-MNIST (also creative, some classes, fine-tuned)
``style transfer``             neural style transfer (alias: ``stylize``)
``fast-style train|apply|export``  a feed-forward network for one style; ONNX / LiteRT export
``arbitrary-style apply|train|export``  any photo in any style image, one network (AdaIN); export
``translate train|apply``      unpaired translation between two Fashion-MNIST classes (CycleGAN)
``diffusion train|sample|denoise-path``  a class-conditional diffusion model; DDPM/DDIM sampling, the path as a GIF
=================================  ======================================================

Each topic registers its commands from its own file in this package. Bad input ends with
exit code 2 and one line on stderr, never a traceback; ``--help``, a bad value and a missing
input file are answered before TensorFlow is imported. TensorFlow's C++ start-up lines are
kept off the terminal (``--verbose`` or ``ARTLIB_DEBUG=1`` lets them through).
"""

from __future__ import annotations

import os
import sys

from artlib import config
from artlib.cli import arbitrary_style, autoencoder, demo, diffusion, fast_style, gan, info, style, translate, vae
from artlib.cli.common import Parser
from artlib.errors import ArtlibError, first_line

__all__ = ["build_parser", "main", "run"]

TOPICS = (info, demo, autoencoder, vae, gan, style, fast_style, arbitrary_style, translate, diffusion)


def build_parser() -> Parser:
    """The whole ``python -m artlib`` parser, every topic's commands registered."""
    parser = Parser(prog="python -m artlib", description="Generative art with Keras 3 and TensorFlow: "
                    "the command line of the artlib course.")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up messages too (or set ARTLIB_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for topic in TOPICS:
        topic.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (2 with one line on stderr for bad input or too little memory)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ArtlibError as err:
        print(f"error: {err}", file=sys.stderr)
        _quiet_tensorflow_from_now_on()
        return 2
    except KeyboardInterrupt:
        if sys.stdout.isatty():  # a progress bar may have left its line open: not "…loss: 0.69interrupted"
            print(flush=True)
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001  (only running out of memory is answered here; the rest is a bug)
        if not _out_of_memory(err):
            raise
        print(f"error: out of memory: {first_line(err)}; ask for less (a smaller --size, -n, --batch-size or "
              "--width)", file=sys.stderr)
        return 2


def _quiet_tensorflow_from_now_on() -> None:
    """After the error's one line, no more from TensorFlow's Python logger: a model or checkpoint that a
    refused resume left half-restored says so as it is deleted at exit, in lines that follow the error."""
    if "tensorflow" in sys.modules:
        import logging

        logging.getLogger("tensorflow").setLevel(logging.ERROR)


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """How the command line shows a warning: ``warning: MESSAGE``, without Python's file, line and source."""
    return f"warning: {message}\n"


def _out_of_memory(err: BaseException) -> bool:
    """NumPy's ``MemoryError`` or TensorFlow's ``ResourceExhaustedError`` (TensorFlow only looked up if loaded)."""
    if isinstance(err, MemoryError):
        return True
    errors = getattr(sys.modules.get("tensorflow"), "errors", None)
    return errors is not None and isinstance(err, errors.ResourceExhaustedError)


def _check_environment() -> None:
    """artlib's environment variables, read before anything runs.

    Raises:
        ArtlibError: ``KERAS_BACKEND`` names another backend than TensorFlow (artlib's models and steps are
            TensorFlow's), or a yes/no variable or ``ARTLIB_MODE`` holds a word it does not know.
    """
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend != "tensorflow":
        raise ArtlibError(f"KERAS_BACKEND={backend!r}: artlib runs on TensorFlow; unset it or set "
                          "KERAS_BACKEND=tensorflow")
    config.is_debug(), config.is_offline(), config.run_solutions(), config.mode()


def _exit_on_sigterm() -> None:
    """SIGTERM (a ``kill``, a job scheduler's stop) unwinds like Ctrl-C, so every ``finally`` runs: an atomic
    write in progress removes its temporary file, and the run's lock is released (exit status 143)."""
    import signal

    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)


def run() -> None:
    """The program's entry point: :func:`main` with TensorFlow's start-up lines filtered out."""
    argv = sys.argv[1:]
    if "--verbose" in argv:  # = ARTLIB_DEBUG=1, which artlib's own first import of TensorFlow reads (artlib.quiet)
        os.environ["ARTLIB_DEBUG"] = "1"
    try:
        _check_environment()
    except ArtlibError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    _exit_on_sigterm()
    if not config.is_debug():
        import warnings

        warnings.formatwarning = _one_line_warning
    if config.is_debug() or os.name != "posix":  # the filter needs select() on a pipe
        sys.exit(main(argv))
    from artlib.quiet import QuietStderr

    with QuietStderr():
        code = main(argv)
    sys.exit(code)
