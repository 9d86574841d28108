"""bench/bench_optim.py runs end to end (--quick) and prints its two tables, and the
two libraries' parameters agree after the same steps. No timing is asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "bench_optim.py"


@pytest.mark.slow  # a subprocess, and torch's worker processes
def test_bench_optim_quick_prints_both_tables():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick"], check=False,
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "optimizer step" in out and "loader: one shuffled epoch" in out
    for name in ("SGD", "Adam", "NAdam", "RAdam", "Adamax", "Adadelta", "RMSprop"):
        assert re.search(rf"^{name}\b.*\d", out, re.MULTILINE), out
    diffs = [float(m) for m in re.findall(r"\s(\d\.\d\de[-+]\d\d|nan)$", out, re.MULTILINE)
             if m != "nan"]
    assert all(d < 1e-6 for d in diffs), out  # the same update in both libraries
    assert re.search(r"^\s+128\s+2\s+[\d.]+", out, re.MULTILINE), out
