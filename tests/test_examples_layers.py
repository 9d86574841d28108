"""The layer examples on reduced settings beyond their default run (tests/test_examples.py
runs each once without arguments): the causal transformer samples text, the LSTM solves
the adding problem."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(name: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_char_transformer_learns_and_samples():
    out = _run("char_models.py", "--model", "transformer", "--steps", "120",
               "--sentences", "300")
    final, first = map(float, re.search(r"final loss: ([\d.]+) \(from ([\d.]+)\)", out).groups())
    assert final < 0.5 * first, out
    sample = re.search(r"^sample: (.*)$", out, re.MULTILINE).group(1)
    assert len(sample.split("|", 1)[1]) == 160, out
    # the generated text uses the grammar's words: most space-separated tokens are words
    from importlib import util

    spec = util.spec_from_file_location("char_models", EXAMPLES / "char_models.py")
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    words = {w for ws in module.WORDS.values() for w in ws}
    tokens = [t.strip(".") for t in sample.split("|", 1)[1].split()[1:-1]]
    assert sum(t in words for t in tokens) >= 0.5 * len(tokens), sample


def test_lstm_solves_the_adding_problem():
    out = _run("lstm_adding.py", "--steps", "500")
    test_mse = float(re.search(r"test mse ([\d.]+)", out).group(1))
    assert test_mse < 0.05, out  # answering the mean scores ~0.167
