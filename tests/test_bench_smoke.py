"""bench/bench_mlp.py runs end to end (tiny sizes, --quick) and prints its table.

No timing is asserted: this only keeps the benchmark from rotting.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "bench_mlp.py"


def _has_nn() -> bool:
    try:
        from chainrule import nn

        return all(hasattr(nn, n) for n in ("Linear", "ReLU", "Sequential"))
    except Exception:  # noqa: BLE001 - any import failure means "no nn yet"
        return False


@pytest.mark.slow  # a subprocess per case
@pytest.mark.skipif(not SCRIPT.exists(), reason="bench/bench_mlp.py not present")
def test_bench_mlp_quick_prints_the_table():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--sizes", "20,16,8,4", "--batch-sizes", "8,4",
         "--seconds", "0.02", "--n-batches", "3"],
        check=False, capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "samples/s" in out and "vs torch" in out and "vs numpy" in out
    assert "peak RSS" in out
    for batch in (8, 4):
        # the hand-written NumPy floor always runs: a row with a number
        assert re.search(rf"^\s+{batch}\s+1\s+numpy\s+[\d,]+\s", out, re.MULTILINE), out
        assert re.search(rf"^\s+{batch}\s+1\s+chainrule\s", out, re.MULTILINE), out
    if _has_nn():
        assert re.search(r"^\s+8\s+1\s+chainrule\s+[\d,]+\s", out, re.MULTILINE), out
        assert "WARNING" not in out, out  # the losses of the frameworks agree
