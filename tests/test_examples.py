"""Every script in examples/ runs, and its loss falls (and its accuracy is reached)."""

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
}


def test_every_example_is_covered():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.slow  # a subprocess per case
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_and_learns(name):
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
