"""Summarise py-spy's collapsed stacks: `python -m bench.profile FILE [N]` prints the
functions with the most samples, inclusive and self."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path


def main() -> None:
    path, top = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        frames = [f.split(" (")[0] + " (" + f.rsplit("/", 1)[-1].split(":")[0]
                  for f in stack.split(";")]
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    print(f"{total} samples")
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"--- {title}")
        for frame, samples in counter.most_common(top):
            print(f"{100 * samples / total:6.1f}%  {frame}")


if __name__ == "__main__":
    main()
