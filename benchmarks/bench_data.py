"""Data versioning: `yard data` against `dvc` (from .bench-venv), side by side in one run.

    .venv/bin/python benchmarks/bench_data.py [--quick] [--repeat 3] [--workdir DIR]

Four benchmarks from issue 4, each timed as a user runs it (the command line, start-up
included), peak memory (max RSS) of each command reported:

1. add a folder of 10,000 small files (~100 MB);
2. add one 1 GB file, and this machine's raw hash-and-copy throughput for blake3 (read,
   hash, write, fsync), measured in the same run;
3. status with no change on the 10,000-file folder;
4. re-add after changing 10 of the 10,000 files.

Every repeat uses fresh workspaces/repositories and freshly written files (nothing is deleted
before timing: see MACHINE-FACTS.md on ext4 inode reuse), flushed to disk with ``os.sync()``
before timing so that neither tool pays for the writeback of the generated data. The 1 GB file
is written once and hard-linked into each repository.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
YARD = ROOT / ".venv" / "bin" / "yard"
DVC = ROOT / ".bench-venv" / "bin" / "dvc"
CHUNK = 1 << 20


def run(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one command; fails loudly on a non-zero exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YARD_", "PYTHONDONTWRITE"))}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{out.decode()}\n{err.decode()}")
    return elapsed, usage.ru_maxrss // 1024


def write_small_files(folder: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    for i in range(n):
        sub = folder / f"d{i % 100:02d}"
        if i < 100:
            sub.mkdir(parents=True)
        (sub / f"f{i:05d}.bin").write_bytes(rng.randbytes(rng.randint(5_000, 15_000)))


def write_large_file(path: Path, size: int) -> None:
    block = os.urandom(CHUNK)
    with open(path, "wb") as f:
        for i in range(size // CHUNK):
            f.write(block[:-8] + i.to_bytes(8, "little"))


def change_files(folder: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    files = sorted(folder.rglob("*.bin"))
    for path in rng.sample(files, count):
        path.write_bytes(rng.randbytes(path.stat().st_size))


def raw_hash_and_copy(source: Path, folder: Path) -> float:
    """Seconds to read, blake3-hash and write (fsynced) ``source``: the ceiling for an add."""
    from blake3 import blake3

    target = folder / "raw-copy.bin"
    started = time.perf_counter()
    hasher = blake3(max_threads=1)
    with open(source, "rb") as src, open(target, "wb") as out:
        while chunk := src.read(CHUNK):
            hasher.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    hasher.hexdigest()
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1,000 files, 64 MB, one repeat")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    n_files = 1_000 if args.quick else 10_000
    large = (64 if args.quick else 1024) << 20
    repeats = args.repeat or (1 if args.quick else 3)
    if not DVC.exists():
        raise SystemExit(f"{DVC} is missing: .bench-venv/bin/pip install dvc")
    work = Path(args.workdir or tempfile.mkdtemp(prefix="yard-bench-data-"))
    work.mkdir(parents=True, exist_ok=True)
    dvc_version = subprocess.run(
        [str(DVC), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"workdir {work}; {n_files:,} small files, {large >> 20} MiB file; dvc {dvc_version}")
    master = work / "large-master.bin"
    write_large_file(master, large)

    results: dict[str, dict[str, list[float]]] = {}

    def record(bench: str, tool: str, seconds: float, rss: int) -> None:
        results.setdefault(bench, {}).setdefault(tool, []).append(seconds)
        results[bench].setdefault(tool + "_rss", []).append(rss)

    for r in range(repeats):
        repos = {tool: work / f"run{r}" / tool for tool in ("yard", "dvc")}
        for repo in repos.values():
            repo.mkdir(parents=True)
            write_small_files(repo / "small", n_files, seed=r)
            os.link(master, repo / "large.bin")
        run([str(YARD), "init"], repos["yard"])
        run([str(DVC), "init", "--no-scm", "-q"], repos["dvc"])
        os.sync()  # the generated files' writeback is charged to neither tool
        time.sleep(1)  # the files settle out of the stat cache's racy window, like real data
        order = ("yard", "dvc") if r % 2 == 0 else ("dvc", "yard")
        commands = {
            "yard": {
                "add_small": [str(YARD), "data", "add", "small", "--name", "small"],
                "add_large": [str(YARD), "data", "add", "large.bin", "--name", "large"],
                "status": [str(YARD), "data", "status", "small"],
                "readd": [str(YARD), "data", "add", "small", "--name", "small"],
            },
            "dvc": {
                "add_small": [str(DVC), "add", "-q", "small"],
                "add_large": [str(DVC), "add", "-q", "large.bin"],
                "status": [str(DVC), "status", "-q", "small.dvc"],
                "readd": [str(DVC), "add", "-q", "small"],
            },
        }
        for bench in ("add_small", "add_large", "status"):
            for tool in order:
                record(bench, tool, *run(commands[tool][bench], repos[tool]))
        record("raw_copy", "raw", raw_hash_and_copy(master, work / f"run{r}"), 0)
        (work / f"run{r}" / "raw-copy.bin").unlink()
        for tool in order:
            change_files(repos[tool] / "small", 10, seed=100 + r)
        os.sync()
        for tool in order:
            record("readd", tool, *run(commands[tool]["readd"], repos[tool]))

    print(f"\nmedians of {repeats} run(s):\n")
    print(f"{'benchmark':<34}{'yard s':>9}{'dvc s':>9}{'ratio':>8}{'yard MiB':>10}{'dvc MiB':>9}")
    labels = {
        "add_small": f"add {n_files:,} small files",
        "add_large": f"add one {large >> 20} MiB file",
        "status": "status, nothing changed",
        "readd": "re-add after changing 10 files",
    }
    for bench, label in labels.items():
        y, d = median(results[bench]["yard"]), median(results[bench]["dvc"])
        y_rss, d_rss = max(results[bench]["yard_rss"]), max(results[bench]["dvc_rss"])
        print(f"{label:<34}{y:>9.3f}{d:>9.3f}{d / y:>7.1f}x{y_rss:>10}{d_rss:>9}")
    print("\nevery run (seconds):")
    for bench, label in labels.items():
        runs = "  ".join(
            f"{tool} " + " ".join(f"{t:.3f}" for t in results[bench][tool])
            for tool in ("yard", "dvc")
        )
        print(f"  {label:<32}{runs}")
    raw = median(results["raw_copy"]["raw"])
    y_large = median(results["add_large"]["yard"])
    mb = large / 1e6
    print(
        f"\nraw blake3 hash-and-copy of the large file: {raw:.3f}s ({mb / raw:,.0f} MB/s); "
        f"yard data add: {mb / y_large:,.0f} MB/s = {raw / y_large:.0%} of raw "
        "(command start-up included)"
    )
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
