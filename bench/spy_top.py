"""Where the samples of a py-spy profile went: the functions with the most samples.

    .venv/bin/python bench/spy_top.py PROFILE.txt [--top 40] [--match api/,workflows/]

PROFILE.txt is py-spy's collapsed ("raw") output, as `bench/true_limit.py --profile DIR`
writes it: one line per distinct stack, frames joined by ';', then the sample count.
Prints two tables: "self" (the frame on top of the stack, where the CPU was) and
"inclusive" (every stack a function appears in, once per stack), each as a share of all
samples. With --match, only functions whose file path contains one of the strings are
listed (the totals stay all samples).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def frame_key(frame: str) -> str:
    m = FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m["file"]
    for anchor in ("site-packages/", "/work/main/", "lib/python3"):
        if anchor in path:
            path = path.split(anchor, 1)[1]
            break
    return f"{m['func']} ({path})"


def read(path: str) -> tuple[Counter, Counter, int]:
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = [frame_key(fr) for fr in stack.split(";") if fr and not fr.startswith("process ")
                      and not fr.startswith("thread ")]
            if not frames:
                continue
            own[frames[-1]] += n
            for key in set(frames):
                inclusive[key] += n
    return own, inclusive, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", help="py-spy collapsed stacks (--format raw)")
    parser.add_argument("--top", type=int, default=40, help="rows per table (default 40)")
    parser.add_argument("--match", default="", help="comma-separated path fragments to keep (default: all)")
    args = parser.parse_args(argv)
    own, inclusive, total = read(args.profile)
    if not total:
        print("no samples", file=sys.stderr)
        return 1
    wanted = [m for m in args.match.split(",") if m]

    def keep(key: str) -> bool:
        return not wanted or any(w in key for w in wanted)

    print(f"{total} samples")
    for title, counts in (("self", own), ("inclusive", inclusive)):
        print(f"\n{title}:")
        rows = [(k, n) for k, n in counts.most_common() if keep(k)][: args.top]
        for key, n in rows:
            print(f"{100 * n / total:6.1f}%  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
