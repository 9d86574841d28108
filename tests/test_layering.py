"""The package's layers: ops -> nn -> train -> cli; viz only reads. A lower layer must
not import a higher one (checked in a fresh interpreter, where nothing else is loaded)."""

import subprocess
import sys

import pytest

CHECK = """
import importlib, pkgutil, sys
import {package}
names = [{package!r}] + [m.name for m in pkgutil.walk_packages({package}.__path__, {package!r} + '.')]
for name in names:
    importlib.import_module(name)
print(' '.join(sorted(m for m in sys.modules if m.startswith('chainrule.'))))
"""


def loaded_after_importing_all_of(package: str) -> set[str]:
    result = subprocess.run([sys.executable, "-c", CHECK.format(package=package)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def _under(modules: set[str], *packages: str) -> list[str]:
    return sorted(m for m in modules for p in packages if m == p or m.startswith(p + "."))


@pytest.mark.parametrize("package, forbidden", [
    ("chainrule.nn", ("chainrule.train", "chainrule.viz", "chainrule.cli")),
    ("chainrule.optim", ("chainrule.train", "chainrule.viz", "chainrule.cli")),
    ("chainrule.data", ("chainrule.train", "chainrule.viz", "chainrule.cli")),
    ("chainrule.train", ("chainrule.viz", "chainrule.cli")),
])
def test_lower_layers_do_not_import_higher_ones(package, forbidden):
    loaded = loaded_after_importing_all_of(package)
    assert _under(loaded, package), loaded  # the check did import the package
    assert _under(loaded, *forbidden) == []


# ---------------------------------------------------------------------------
# the same, read from the source: imports inside functions count too
# ---------------------------------------------------------------------------
def _import_graph() -> dict[str, set[str]]:
    """``{module: modules it imports anywhere in its file}`` for the chainrule package."""
    import ast
    from pathlib import Path

    import chainrule

    root = Path(chainrule.__file__).parent
    files = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        files[".".join(parts)] = (path, is_package)
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in files.items():
        here = name if is_package else name.rpartition(".")[0]
        targets = set()
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):  # annotations only: not imported when the code runs
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
                node.body = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")[:len(here.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets.add(base)
                targets.update(f"{base}.{alias.name}" for alias in node.names
                               if f"{base}.{alias.name}" in files)
        graph[name] = {t for t in targets if t in files}
    return graph


def test_no_module_of_nn_reaches_train_viz_or_cli_even_through_deferred_imports():
    graph = _import_graph()
    forbidden = ("chainrule.train", "chainrule.viz", "chainrule.cli")
    for start in [m for m in graph if m == "chainrule.nn" or m.startswith("chainrule.nn.")]:
        seen, todo, parent = {start}, [start], {}
        while todo:
            module = todo.pop()
            for target in graph[module]:
                if target not in seen:
                    seen.add(target)
                    parent[target] = module
                    todo.append(target)
        bad = _under(seen, *forbidden)
        if bad:
            chain, m = [bad[0]], bad[0]
            while m in parent:
                m = parent[m]
                chain.append(m)
            pytest.fail(f"{start} imports {bad[0]}: " + " -> ".join(reversed(chain)))


def test_no_import_cycle_through_training_cli_or_monitor():
    graph = _import_graph()
    mine = ("chainrule.train", "chainrule.cli", "chainrule.errors", "chainrule.monitor",
            "chainrule.nn.monitor")

    def reaches(start: str, goal: str) -> bool:
        seen, todo = {start}, [start]
        while todo:
            for target in graph[todo.pop()]:
                if target == goal:
                    return True
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return False

    for module in _under(set(graph), *mine):
        back = [t for t in graph[module] if t != module and not t.startswith(module + ".")
                and not module.startswith(t + ".") and reaches(t, module)]
        assert back == [], f"{module} is in an import cycle through {back}"


# The one group of modules allowed to import each other: the node, the engine and the ops
# (ops record nodes and undo broadcasting with the engine's sum_to; the engine computes
# with the ops' namespaces), with gradcheck and anomaly reached from autograd's
# PyTorch-form wrappers.
_CORE = ("chainrule._tensor", "chainrule.ops", "chainrule.autograd", "chainrule.check",
         "chainrule.anomaly")


def _module_edges() -> dict[str, set[str]]:
    """Module -> modules it imports (anywhere in the file, not under TYPE_CHECKING); a
    ``from package import name`` counts as importing the submodule when ``name`` is one,
    else the package."""
    import ast
    from pathlib import Path

    import chainrule

    root = Path(chainrule.__file__).parent
    files = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        files[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    edges: dict[str, set[str]] = {}
    for name, (path, is_package) in files.items():
        here = name.split(".") if is_package else name.split(".")[:-1]
        tree = ast.parse(path.read_text(), str(path))
        skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
        targets = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here[:len(here) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for a in node.names:
                    targets.add(f"{base}.{a.name}" if f"{base}.{a.name}" in files else base)
        edges[name] = {t for t in targets if t in files and t != name}
    return edges


def test_no_import_cycle_outside_the_core():
    edges = _module_edges()
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in edges:
        if v not in index:
            visit(v)
    outside = [g for g in groups if _under(set(g), *_CORE) != sorted(g)]
    assert outside == [], f"import cycles outside the core: {outside}"
