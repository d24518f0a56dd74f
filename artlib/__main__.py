"""``python -m artlib``: the command line (see :mod:`artlib.cli`)."""

from artlib.cli import main, run

__all__ = ["main", "run"]

if __name__ == "__main__":
    run()
