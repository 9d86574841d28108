"""bench/bench_cnn.py runs end to end (--quick) and prints its table; no timing asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_cnn_quick_prints_the_table():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_cnn.py"), "--quick",
                           "--batch", "8", "--seq-batch", "4", "--n-batches", "2",
                           "--models", "cnn,lstm,transformer"],
                          check=False, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "samples/s" in out and "peak RSS" in out
    for framework in ("chainrule", "numpy"):
        assert re.search(rf"^\s+1\s+{framework}\s+[\d,]+\s", out, re.MULTILINE), out
    # one chainrule row per model (cnn, lstm, transformer)
    assert len(re.findall(r"^\s+1\s+chainrule\s+[\d,]+\s", out, re.MULTILINE)) == 3, out
    assert "WARNING" not in out, out  # the frameworks' losses agree
