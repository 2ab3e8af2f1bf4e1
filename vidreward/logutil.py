"""Send a stage's output to its Snakemake log file and to the terminal."""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from pathlib import Path
from typing import Iterator, TextIO


class _Tee:
    def __init__(self, *streams: TextIO):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
            stream.flush()
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()

    def isatty(self) -> bool:
        return False


@contextlib.contextmanager
def stage_log(path: str | Path) -> Iterator[logging.Logger]:
    """Tee stdout/stderr into ``path``; an exception is logged with its traceback, then re-raised."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as log_file:
        tee = _Tee(log_file, sys.__stderr__)
        old_out, old_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = tee
        handler = logging.StreamHandler(tee)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield logging.getLogger("vidreward")
        except Exception as exc:
            log_file.write(traceback.format_exc())
            sys.__stderr__.write(f"ERROR: {exc}\n")
            raise
        finally:
            root.removeHandler(handler)
            sys.stdout, sys.stderr = old_out, old_err
