"""PyTorch-tutorial-style programs, each run twice: as written (real torch) and with
its import lines pointed at chainrule (``import torch`` -> ``import chainrule as torch``,
``from torch.utils.data import X`` -> ``from chainrule.utils.data import X``, ...), nothing
else changed. Each program leaves its numbers in ``RESULT``; both runs must agree to
float32 rounding. Initial weights come from NumPy where the two random streams differ.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

PROGRAMS = sorted((Path(__file__).parent / "programs").glob("*.py"))


def to_chainrule(source: str) -> str:
    """The program with only its import lines changed."""
    lines = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == "import torch":
            line = line.replace("import torch", "import chainrule as torch")
        elif re.match(r"^\s*(import|from) torch\b", line):
            line = re.sub(r"\btorch\b", "chainrule", line, count=1)
        lines.append(line)
    return "\n".join(lines) + "\n"


def run(source: str, name: str, tmp_path: Path) -> dict:
    tmp_path.mkdir()
    namespace = {"__name__": "__compat__", "__file__": name, "TMP": str(tmp_path)}
    exec(compile(source, name, "exec"), namespace)  # noqa: S102 - our own test programs
    return namespace["RESULT"]


def as_arrays(value):
    if isinstance(value, dict):
        return {k: as_arrays(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_arrays(v) for v in value]
    if hasattr(value, "detach"):
        value = value.detach().numpy()
    if isinstance(value, str):  # dtypes print as NumPy's: 'float32', not 'torch.float32'
        return value.replace("torch.", "")
    if isinstance(value, bool) or value is None:
        return value
    return np.asarray(value)


def assert_same(ours, theirs, where: str) -> None:
    if isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs), where
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), f"{where}: {len(ours)} items, torch {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, (bool, str)) or theirs is None:
        assert ours == theirs, f"{where}: {ours!r} != torch's {theirs!r}"
    else:
        assert np.shape(ours) == np.shape(theirs), f"{where}: shape {np.shape(ours)} != " \
                                                   f"torch's {np.shape(theirs)}"
        if np.asarray(theirs).dtype.kind in "biu":
            np.testing.assert_array_equal(ours, theirs, err_msg=where)
        else:
            np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5, err_msg=where)


def test_import_lines_are_the_only_change():
    text = "import torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader\n" \
           "x = torch.ones(2)  # torch\n"
    assert to_chainrule(text) == ("import chainrule as torch\nimport chainrule.nn as nn\n"
                                  "from chainrule.utils.data import DataLoader\n"
                                  "x = torch.ones(2)  # torch\n")


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_runs_unchanged_with_the_same_numbers(path, tmp_path):
    source = path.read_text()
    expected = as_arrays(run(source, path.name, tmp_path / "torch"))
    got = as_arrays(run(to_chainrule(source), path.name, tmp_path / "chainrule"))
    assert_same(got, expected, path.stem)


def test_there_are_at_least_twenty_programs():
    assert len(PROGRAMS) >= 20
