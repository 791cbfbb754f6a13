"""Where the time went: py-spy's collapsed stacks (bench.run --profile DIR) → the heaviest frames.

.venv/bin/python -m bench.profile_summary /tmp/prof [--top 25]
"""

import argparse
import collections
from pathlib import Path


def summarise(path: Path, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    lines = [f"== {path.stem}: {total} samples"]
    lines += ["-- inclusive"] + [f"{100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    lines += ["-- own"] + [f"{100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--top", type=int, default=25)
    options = parser.parse_args()
    for path in sorted(options.directory.glob("*.txt")):
        print(summarise(path, options.top))
