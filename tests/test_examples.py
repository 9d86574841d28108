"""Every script in examples/ runs, and its loss falls (and its accuracy is reached)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# script -> the accuracy it must reach (None: a regression, the loss must fall)
EXPECTED = {
    "two_layer_relu_regression.py": None,
    "tanh_squared_error.py": None,
    "logistic_regression_l2.py": 0.8,
    "linear_svm_hinge.py": 0.95,
    "cnn_mnist.py": 0.85,
    "char_models.py": None,
    "lstm_adding.py": None,
}

# examples that read the shared MNIST files: skipped where they are absent
DATA = Path(os.environ.get("CHAINRULE_DATA",
                           Path(__file__).resolve().parents[2] / "shared" / "data"))
NEEDS_DATA = {"cnn_mnist.py": DATA / "mnist"}


def test_every_example_is_covered():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.slow  # a subprocess per case
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_and_learns(name):
    if name in NEEDS_DATA and not NEEDS_DATA[name].is_dir():
        pytest.skip(f"{NEEDS_DATA[name]} is absent (set CHAINRULE_DATA to the shared data)")
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    match = re.search(r"final loss: ([\d.e+-]+) \(from ([\d.e+-]+)\)", result.stdout)
    assert match, result.stdout
    final, first = float(match.group(1)), float(match.group(2))
    assert final < 0.5 * first, result.stdout
    if EXPECTED[name] is not None:
        acc = re.search(r"accuracy: ([\d.]+)", result.stdout.splitlines()[-1])
        assert acc and float(acc.group(1)) >= EXPECTED[name], result.stdout
