"""The purchase benchmark: `make bench` runs `python -m bench.run` (see bench/run.py)."""

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"  # git-ignored
