"""The CJK font for the form. fpdf2 parses a whole font file on every document (1.5-3 s for the 5 MB
WenQuanYi Micro Hei collection here), so the form uses a subset covering GB 2312 (every character in
everyday use, 7,500 code points), made once with fonttools and cached on disk; a form with a character
outside it falls back to the full font for that document only."""

import hashlib
import os
import subprocess
import sys
import threading
from contextlib import suppress
from functools import cached_property
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont


def _gb2312_code_points() -> set[int]:
    points = set()
    for cp in range(0x20, 0x10000):
        with suppress(UnicodeEncodeError):  # not a GB 2312 character: not in the subset
            chr(cp).encode("gb2312")
            points.add(cp)
    return points


class FormFonts:
    """`full` is the Debian font collection's first face; `subset_path()` blocks until the subset exists."""

    def __init__(self, full: str, cache_dir: str) -> None:
        self.full = full
        self._cache_dir = Path(cache_dir)
        self._lock = threading.Lock()

    @cached_property
    def _subset_file(self) -> Path:
        stat = os.stat(self.full)
        tag = hashlib.sha256(f"{self.full}:{stat.st_size}:{stat.st_mtime_ns}:gb2312:v1".encode()).hexdigest()[:16]
        return self._cache_dir / f"form-font-{tag}.ttf"

    @cached_property
    def covered(self) -> frozenset[int]:
        return frozenset(_gb2312_code_points() | {0x20AC})

    def subset_path(self) -> str:
        with self._lock:
            target = self._subset_file
            if not target.exists():
                # A child process: fonttools holds the GIL for seconds, which would stall this service.
                subprocess.run([sys.executable, "-m", __name__, self.full, str(target)], check=True, capture_output=True)
            return str(target)

    def needs_full(self, text: str) -> bool:
        return any(ord(ch) not in self.covered for ch in text if not ch.isspace())


def make_subset(full: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    font = TTFont(full, fontNumber=0)
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.layout_features = []
    options.drop_tables += ["FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=_gb2312_code_points() | {0x20AC})
    subsetter.subset(font)
    partial = target.with_suffix(f".{os.getpid()}.part")
    font.save(partial)
    partial.replace(target)  # atomic: replicas sharing the directory never read half a file


if __name__ == "__main__":
    make_subset(sys.argv[1], Path(sys.argv[2]))
