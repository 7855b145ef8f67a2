"""Hash throughput: blake3 vs sha256 vs md5 on a 256 MB in-memory buffer.

Run with the modelyard venv: ``.venv/bin/python benchmarks/bench_hashing.py [--mb 256]``.

modelyard's blob digests are blake3 with ``max_threads=1`` (see
``modelyard.blobs.hashing``): that is the "blake3 (1 thread)" line. "blake3 (all cores)"
lets the blake3 package spread one large buffer over every core, for reference. Each figure
is the median of 3 passes; GB/s are 10^9 bytes per second.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from blake3 import blake3

HERE = Path(__file__).resolve().parent


def algorithms() -> dict[str, Callable[[memoryview], str]]:
    return {
        "blake3 (1 thread, as modelyard)": lambda b: blake3(b, max_threads=1).hexdigest(),
        "blake3 (all cores)": lambda b: blake3(b, max_threads=blake3.AUTO).hexdigest(),
        "sha256": lambda b: hashlib.sha256(b).hexdigest(),
        "md5": lambda b: hashlib.md5(b).hexdigest(),
    }


def measure(fn: Callable[[memoryview], str], buffer: memoryview, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(buffer)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=256, help="buffer size in MiB (default 256)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None, help="also write JSON here")
    args = parser.parse_args()

    size = args.mb * 1024 * 1024
    buffer = memoryview(os.urandom(size))
    cores = os.cpu_count()
    print(f"{args.mb} MiB random buffer ({size:,} bytes), median of {args.repeat}, {cores} cores")
    results = {}
    for name, fn in algorithms().items():
        fn(buffer[: 1 << 20])  # warm up (imports, first-call setup)
        times = measure(fn, buffer, args.repeat)
        seconds = statistics.median(times)
        results[name] = {"seconds": seconds, "gb_per_s": size / seconds / 1e9, "times": times}
        print(f"  {name:<32} {size / seconds / 1e9:6.2f} GB/s   ({seconds:.3f} s)")
    if args.output:
        args.output.write_text(json.dumps({"bytes": size, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
