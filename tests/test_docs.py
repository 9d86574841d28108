"""The Python examples of README.md and docs/*.md run as written, and print what the
docs show after them (a line "..." stands for any lines, a line ending in "..." for any
ending). A doc example that stops working, or whose shown output goes stale, fails here."""

from __future__ import annotations

import contextlib
import io
import linecache
import re
import shlex
import zlib
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main

ROOT = Path(__file__).resolve().parents[1]
PRELUDE = "import chainrule as cr\nfrom chainrule import nn\n"


def fenced_blocks(doc: str) -> list[tuple[str, str]]:
    """``(language, text)`` of each fenced block of ``doc``, in order."""
    return re.findall(r"```(\w*)\n(.*?)```", (ROOT / doc).read_text(), re.DOTALL)


def examples(doc: str) -> list[tuple[str, list[str] | None]]:
    """``(code, shown)`` for each ```python block of ``doc``: ``shown`` is the plain ```
    block that follows it (its lines), or None when another kind of block comes next."""
    blocks = fenced_blocks(doc)
    found = []
    for i, (language, code) in enumerate(blocks):
        if language == "python":
            after = blocks[i + 1] if i + 1 < len(blocks) else None
            found.append((code, after[1].splitlines() if after and after[0] == "" else None))
    return found


def matches(actual: list[str], shown: list[str]) -> bool:
    if not shown:
        return not actual
    head, rest = shown[0], shown[1:]
    if head.strip() == "...":
        return any(matches(actual[i:], rest) for i in range(len(actual) + 1))
    if not actual:
        return False
    same = actual[0].startswith(head[:-3]) if head.endswith("...") else actual[0] == head
    return same and matches(actual[1:], rest)


def assert_shows(actual: str, shown: list[str]) -> None:
    lines = actual.rstrip("\n").splitlines()
    assert matches(lines, shown), "\n".join(["printed:", *lines, "the doc shows:", *shown])


def run(code: str, namespace: dict | None = None) -> tuple[dict, str]:
    namespace = {} if namespace is None else namespace
    name = f"<doc example {zlib.crc32(code.encode()):08x}>"
    # in linecache, so that errors that quote the user's line (anomaly's) find it
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, name, "exec"), namespace)  # noqa: S102 (this repository's docs)
    return namespace, out.getvalue()


def test_readme_tour_and_training_loop(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")  # the bundled digits
    monkeypatch.chdir(tmp_path)
    (tour, _), (training, _) = examples("README.md")
    ns, out = run(tour)
    assert "tensor(-4.) tensor(-4.) tensor(3.)" in out.splitlines()
    assert ns["cr"].grad(ns["cr"].grad(lambda a: a ** 3))(2.0).item() == 12.0
    ns, _ = run(training, ns)
    assert np.isfinite(ns["loss"].item())


def test_training_guide_python_api(tmp_path, monkeypatch):
    """The data, Trainer, run() and checkpoint examples, in order, with fewer epochs."""
    pytest.importorskip("sklearn")  # the bundled digits
    monkeypatch.chdir(tmp_path)
    code = "\n".join(code for code, _ in examples("docs/training.md"))
    code = re.sub(r"epochs=(\d+)", lambda m: f"epochs={max(1, int(m.group(1)) // 20)}", code)
    ns, _ = run(code)
    assert len(ns["history"]["val_accuracy"]) == 3
    assert set(ns["trainer"].evaluate(ns["test_loader"])) >= {"loss", "accuracy"}
    assert ns["scores"].shape == (len(ns["x_test"]), 10)
    assert ns["result"].epochs == 2  # run(epochs=1), then resumed to 2
    assert ns["state"]["epoch"] == 7


@pytest.mark.parametrize("index", [1, 2, 3])
def test_anomaly_examples_raise_what_the_doc_shows(index):
    code, shown = examples("docs/diagnostics.md")[index]
    cr.manual_seed(0)  # a fresh interpreter's state: the doc's figures come from one
    with pytest.raises(cr.anomaly.AnomalyError) as info, np.errstate(all="ignore"):
        run(PRELUDE + code)

    def where_blind(lines):  # "created at": the doc's file, line number and comment differ
        return [re.sub(r"created at: .+?:\d+: (.*?)(\s+#.*)?$", r"created at: \1", line)
                for line in lines]

    shown = [shown[0].removeprefix("chainrule.anomaly.AnomalyError: "), *shown[1:]]
    assert_shows("\n".join(where_blind(str(info.value).splitlines())), where_blind(shown))


def test_gradient_monitor_examples_print_what_the_doc_shows():
    found = examples("docs/diagnostics.md")
    sigmoid, shown = next(e for e in found if 'activation="sigmoid"' in e[0])
    _, out = run(PRELUDE + sigmoid)
    assert_shows(out, shown)
    # the dead layer: its model, built and trained as the sigmoid network
    dead, shown = next(e for e in found if "fill_(-10.0)" in e[0])
    model_line = next(line for line in sigmoid.splitlines() if line.startswith("model = "))
    _, out = run(PRELUDE + sigmoid.replace(model_line, dead.rstrip("\n")))
    assert_shows(out, shown)


def test_explain_example_prints_what_the_doc_shows():
    code, shown = examples("docs/visualize.md")[0]
    ns, out = run(code)
    assert_shows(out, shown)
    assert ns["e"].gradients == {"x": -4.0, "y": -4.0, "z": 3.0}


def transcripts(doc: str) -> list[tuple[list[str], list[str]]]:
    """``(argv, output lines)`` of each ``$ chainrule explain ...`` shown in ``doc``."""
    found = []
    for language, block in fenced_blocks(doc):
        lines = block.splitlines()
        if language == "" and lines and lines[0].startswith("$ chainrule explain "):
            found.append((shlex.split(lines[0])[2:], lines[1:]))
    return found


@pytest.mark.parametrize("argv, shown", transcripts("docs/visualize.md"))
def test_explain_transcripts(capsys, argv, shown):
    code = main(argv)
    captured = capsys.readouterr()
    assert code == (2 if captured.err else 0)
    assert_shows(captured.out + captured.err, shown)


def test_the_expression_language_is_listed_in_full():
    from chainrule.viz.expr import FUNCTIONS

    text = " ".join((ROOT / "docs/visualize.md").read_text().split())
    listed = re.search(r"today `([^`]*)`", text).group(1)
    assert listed.split() == list(FUNCTIONS)


@pytest.mark.slow  # a fresh interpreter, where no submodule is loaded yet
def test_every_dotted_name_in_the_docs_resolves():
    """``cr.anomaly.AnomalyError``, ``cr.io.CheckpointError``, ...: each name the docs give
    as ``cr.MODULE.NAME`` is reachable right after ``import chainrule as cr``."""
    import subprocess
    import sys

    text = "\n".join(p.read_text() for p in [ROOT / "README.md", *ROOT.glob("docs/*.md")])
    names = sorted(set(re.findall(r"\b(?:cr|chainrule)((?:\.[A-Za-z_]\w*){2,})", text)))
    check = ("import functools, sys, chainrule as cr\n"
             "for name in sys.argv[1:]:\n"
             "    try:\n"
             "        functools.reduce(getattr, name.split('.')[1:], cr)\n"
             "    except AttributeError as e:\n"
             "        print(f'cr{name}: {e}')\n")
    result = subprocess.run([sys.executable, "-c", check, *names], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "", result.stdout


def test_the_readme_layout_names_files_that_exist():
    block = re.search(r"## Layout\n\n```\n(.*?)```", (ROOT / "README.md").read_text(),
                      re.DOTALL).group(1)
    places = [ROOT, ROOT / "src" / "chainrule", ROOT / "src" / "chainrule" / "ops"]
    named = re.findall(r"(?<![\w.])([A-Za-z_][\w/]*(?:\.py|/))(?=[\s,]|$)", block)
    assert len(named) > 15, named
    missing = [n for n in named if not any((place / n).exists() for place in places)]
    assert missing == [], missing


@pytest.mark.parametrize("command, doc", [
    ("train", "docs/training.md"), ("evaluate", "docs/training.md"),
    ("predict", "docs/training.md"), ("explain", "docs/visualize.md"),
    ("graph", "docs/visualize.md")])
def test_every_flag_is_documented(command, doc):
    from chainrule.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a.choices, dict)).choices
    flags = [flag for action in commands[command]._actions for flag in action.option_strings
             if flag.startswith("--") and flag != "--help"]
    text = (ROOT / doc).read_text()
    assert [flag for flag in flags
            if not re.search(rf"(?<![\w-]){flag}(?![\w-])", text)] == []
