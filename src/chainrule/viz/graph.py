"""Walk the graph behind a tensor into a display model: nodes, edges, adjoints.

Everything the drawings, the explanations and the interactive page show comes
from here. The adjoint of every node (not only the leaves) and what each edge
carried are taken from the engine's own backward pass, watched through
``autograd.observe`` and run as ``autograd.grad`` runs (no ``.grad`` changes);
each edge also keeps its local derivative, its node's rule applied to ones.

>>> import chainrule as cr
>>> from chainrule.viz.graph import build
>>> x = cr.tensor(-2.0, requires_grad=True, name="x")
>>> y = cr.tensor(5.0, requires_grad=True, name="y")
>>> z = cr.tensor(-4.0, requires_grad=True, name="z")
>>> g = build((x + y) * z)
>>> [(n.label, fmt(n.value), fmt(n.adjoint)) for n in g.nodes]
[('x', '-2', '-4'), ('y', '5', '-4'), ('add1', '3', '-4'), ('z', '-4', '3'), ('f', '-12', '1')]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import autograd
from .._tensor import Tensor, _released_vjp, no_grad_scope
from ..autograd import sum_to
from ..nn.module import parameter_path
from ..ops import ARRAYS

__all__ = ["Edge", "Graph", "Group", "Node", "build", "check_size", "fmt", "local_derivative",
           "summarize"]


# ---------------------------------------------------------------------------
# number formatting, shared by every renderer so they all show the same digits
# ---------------------------------------------------------------------------
def fmt(v, digits: int = 6) -> str:
    """A number as a learner wants to read it.

    The shortest text that round-trips in the value's own dtype when that is short
    (``-2``, ``0.7310586`` for float32), else ``digits`` significant digits.
    Arrays are summarized with :func:`summarize`.

    >>> fmt(-2.0), fmt(np.float32(0.7310586)), fmt(0.7310585786300049)
    ('-2', '0.7310586', '0.731059')
    """
    if v is None:
        return "–"
    if isinstance(v, Tensor):
        v = v.array
    if isinstance(v, np.ndarray) and v.size != 1:
        return summarize(v, digits)
    if isinstance(v, np.ndarray):
        v = v.reshape(())[()]
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    f = float(v)
    if math.isnan(f) or math.isinf(f):
        return str(f)
    if f == int(f) and abs(f) < 1e15:
        return str(int(f))
    kind = v if isinstance(v, np.floating) else np.float64(f)
    short = np.format_float_positional(kind, unique=True, trim="-")
    significant = len(short.lstrip("-").replace(".", "").lstrip("0"))
    if significant <= digits + 2 and len(short) <= 12:
        return short
    return f"{f:.{digits}g}"


def summarize(a, digits: int = 4) -> str:
    """Small arrays in full, larger ones as shape and min / mean / max.

    >>> summarize(np.array([1.0, 2.0]))
    '[1, 2]'
    >>> summarize(np.arange(12.0).reshape(3, 4))
    '(3, 4) min 0 mean 5.5 max 11'
    """
    a = np.asarray(a)
    if a.size == 1:
        return fmt(a.reshape(())[()])
    if a.size <= 4 and a.ndim == 1:
        return "[" + ", ".join(fmt(x, digits) for x in a) + "]"
    shape = shape_text(a.shape)   # never "scalar": one element was shown above
    if a.size == 0:
        return f"{shape} empty"
    if a.dtype.kind == "b":
        return f"{shape} {int(a.sum())} true"
    finite = np.isfinite(a)
    bad = "" if finite.all() else f" ({int((~finite).sum())} non-finite)"
    vals = a[finite] if not finite.all() else a
    if vals.size == 0:
        return f"{shape} all non-finite"
    vals = vals.astype(np.float64)
    return (f"{shape} min {fmt(vals.min(), digits)} mean {fmt(vals.mean(), digits)} "
            f"max {fmt(vals.max(), digits)}{bad}")


def count(n: int, word: str) -> str:
    """``count(1, "op")`` -> ``'1 op'``, ``count(1200, "parameter")`` -> ``'1,200 parameters'``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def shape_text(shape: tuple) -> str:
    if not shape:
        return "scalar"
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


# ---------------------------------------------------------------------------
# the display model
# ---------------------------------------------------------------------------
@dataclass(eq=False)
class Node:
    """One tensor on the graph, as shown."""

    id: int                  # position in topological order (parents first)
    tensor: Tensor
    label: str               # the tensor's name, or an automatic one ("add1", "leaf1")
    op: str                  # "" for leaves
    kind: str                # "param" (leaf that requires grad), "const" (leaf that does not), "op"
    module: str | None = None
    role: str = ""           # "parameter" | "input" | "constant" | "op", as explained to a reader
    path: str | None = None  # a module parameter's path ("layers.0.weight")
    in_edges: list = field(default_factory=list)    # edges from parents (argument order)
    out_edges: list = field(default_factory=list)   # edges to children
    adjoint: np.ndarray | None = None               # d root / d node, when it could be computed
    grad_source: str | None = None                  # "computed" | "leaf .grad" | None

    @property
    def value(self):
        return self.tensor.array

    @property
    def shape(self) -> tuple:
        return tuple(self.tensor.shape)

    @property
    def is_scalar(self) -> bool:
        return self.tensor.array.size == 1

    @property
    def requires_grad(self) -> bool:
        return bool(self.tensor.requires_grad)

    @property
    def parents(self) -> list:
        return [e.src for e in self.in_edges]

    def value_text(self, digits: int = 6) -> str:
        return fmt(self.value, digits)

    def grad_text(self, digits: int = 6) -> str | None:
        return None if self.adjoint is None else fmt(self.adjoint, digits)


@dataclass(eq=False)
class Edge:
    """Parent -> child: the child's ``index``-th input was the parent."""

    id: int
    src: Node        # the parent (input)
    dst: Node        # the child (output)
    index: int       # argument position in the child's op
    local: np.ndarray | None = None     # d dst / d src: the rule applied to ones, summed to src
    contrib: np.ndarray | None = None   # adjoint it carried: adjoint(dst) x d dst / d src

    @property
    def carries_grad(self) -> bool:
        return self.src.requires_grad and self.dst.requires_grad

    def local_text(self, digits: int = 6) -> str | None:
        if self.local is None:
            return None
        if self.src.is_scalar and self.dst.is_scalar:
            return fmt(self.local, digits)
        # a Jacobian is too big to show: its summary through 1ᵀJ (the VJP of ones)
        return "1ᵀJ " + summarize(self.local)

    def contrib_text(self, digits: int = 6) -> str | None:
        return None if self.contrib is None else fmt(self.contrib, digits)


@dataclass(eq=False)
class Group:
    """The nodes of one nn.Module call, collapsed into one box."""

    module: str
    nodes: list
    output: Node
    n_params: int
    # A module whose work a fused op of another module's box did (the ReLU of a fused
    # linear + ReLU): its box holds no node and shows the shared output.
    fused_into: Group | None = None

    @property
    def n_ops(self) -> int:
        return sum(1 for n in self.nodes if n.kind == "op")

    @property
    def params(self) -> list:
        """The leaves with a gradient inside the box (a module's own parameters)."""
        return [n for n in self.nodes if n.kind == "param"]

    @property
    def fuses(self) -> str | None:
        """What the box's fused ops stand for (``linear + ReLU``), from their ``Op``."""
        parts = [str(f) for n in self.nodes if n.kind == "op"
                 for f in [getattr(n.tensor._op, "fuses", None)] if f]
        return ", ".join(dict.fromkeys(parts)) or None


class Graph:
    """The nodes that produced ``root``, in topological order, with their adjoints.

    ``released`` says that a ``backward()`` without ``retain_graph`` freed the rules:
    local derivatives and intermediate adjoints are then unknown and leaves show
    their ``.grad`` instead.
    """

    def __init__(self, root: Tensor, seed=None):
        check_root(root, "Graph")
        self.root_tensor = root
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self._by_id: dict[int, Node] = {}
        self.released = False
        self.stale: list[str] = []
        self._collect(root)
        self.root = self._by_id[id(root)]
        self._label()
        self.seed = None
        if root.requires_grad:
            self.seed = np.ones_like(np.asarray(root.array)) if seed is None else \
                np.asarray(seed.array if isinstance(seed, Tensor) else seed,
                           dtype=np.asarray(root.array).dtype)
            self._adjoints()
        self._leaf_grads()

    # -- building -----------------------------------------------------------
    def _collect(self, root: Tensor) -> None:
        """Iterative DFS (graphs may be deep); every input is kept, constants too."""
        order: list[Tensor] = []
        seen: set[int] = set()
        stack = [(root, False)]
        while stack:
            t, expanded = stack.pop()
            if expanded:
                order.append(t)
                continue
            if id(t) in seen:
                continue
            seen.add(id(t))
            stack.append((t, True))
            for p in reversed(t._parents):
                if id(p) not in seen:
                    stack.append((p, False))
        for i, t in enumerate(order):
            kind = "op" if t._parents else ("param" if t.requires_grad else "const")
            node = Node(i, t, "", t._op if t._parents else "", kind,
                        module=getattr(t, "_module", None))
            self.nodes.append(node)
            self._by_id[id(t)] = node
        for node in self.nodes:
            for k, p in enumerate(node.tensor._parents):
                e = Edge(len(self.edges), self._by_id[id(p)], node, k)
                self.edges.append(e)
                node.in_edges.append(e)
                self._by_id[id(p)].out_edges.append(e)

    def _label(self) -> None:
        """Names where given (a module's parameters by their path, ``layers.0.weight``),
        else op + counter; the root is ``f`` as in the notes. Every node gets a label of
        its own: same-named nodes (an unrolled ``h``) become h, h′, h″ in topological
        order, or h@1, h@2, ... when there are more than four."""
        for n in self.nodes:
            if n.kind == "param":
                path = parameter_path(n.tensor)
                if path is not None:
                    n.role, n.path = "parameter", path
                else:
                    n.role = "input"
            elif n.kind == "const":
                n.role = "constant" if n.is_scalar else "input"
            else:
                n.role = "op"
        taken = {str(n.tensor.name) for n in self.nodes if n.tensor.name}
        taken.update(n.path for n in self.nodes if n.path)
        counters: dict[str, int] = {}

        def fresh(stem: str) -> str:
            while True:
                counters[stem] = counters.get(stem, 0) + 1
                cand = f"{stem}{counters[stem]}"
                if cand not in taken:
                    taken.add(cand)
                    return cand

        named = []   # nodes labelled by a name someone gave, which may repeat
        for n in self.nodes:
            if n.tensor.name:
                n.label = str(n.tensor.name)
                named.append(n)
            elif n.path:
                n.label = n.path
                named.append(n)
            elif n is self.root and "f" not in taken:
                n.label = "f"
                taken.add("f")
            elif n.kind == "const" and n.is_scalar:
                n.label = fmt(n.value)   # a constant is shown as its number
            elif n.kind == "const":
                n.label = fresh("input")
            elif n.kind == "param":
                n.label = fresh("leaf")
            else:
                n.label = fresh(n.op or "op")
        by_name: dict[str, list] = {}
        for n in named:
            by_name.setdefault(n.label, []).append(n)
        for name, same in by_name.items():
            if len(same) > 1:
                for k, n in enumerate(same):
                    n.label = _distinct(name, k, len(same), taken)

    def _adjoints(self) -> None:
        """Watch the engine's own backward (``autograd.observe``) and keep what it sends:
        every node's adjoint and every edge's contribution. It runs as
        ``autograd.grad`` does, so no ``.grad`` changes and the rules are retained."""
        for node in self.nodes:
            if node.kind == "op" and node.tensor._vjp is _released_vjp:
                self.released = True
                return
            if node.kind == "op" and node.requires_grad:
                self._check_version(node)
        if self.stale:
            return    # backward would refuse (values changed in place): nothing to show
        for node in self.nodes:
            if node.kind == "op" and node.requires_grad:
                ones = np.ones_like(np.asarray(node.value))
                for e, lo in zip(node.in_edges, _vjp(node.tensor, ones)):
                    if e.src.requires_grad:
                        e.local = lo

        def watch(t: Tensor, g, grads) -> None:
            node = self._by_id.get(id(t))
            if node is None:
                return
            # copies: the engine may add into these arrays in place afterwards
            node.adjoint = np.array(g, copy=True)
            node.grad_source = "computed"
            for e, pg in zip(node.in_edges, grads):
                if pg is not None and e.src.requires_grad:
                    pg = np.asarray(pg)
                    if pg.shape != np.shape(e.src.value):
                        pg = sum_to(pg, np.shape(e.src.value))
                    e.contrib = np.array(pg, copy=True)

        leaves = [n.tensor for n in self.leaves]
        seed = Tensor(self.seed)
        with autograd.observe(watch):
            autograd.grad(self.root_tensor, leaves, grad_outputs=seed, retain_graph=True,
                          allow_unused=True)

    def _check_version(self, node: Node) -> None:
        # the engine's own test, so the display agrees with what backward would raise
        try:
            autograd._check_version(node.tensor, node.tensor._parents)
        except RuntimeError:
            self.stale.append(node.label)

    def _leaf_grads(self) -> None:
        """Where the rules were released, fall back on what backward left in .grad."""
        if not self.released:
            return
        for n in self.nodes:
            n.adjoint = None
            g = n.tensor.grad
            if g is not None:
                n.adjoint = np.asarray(g.array)
                n.grad_source = "leaf .grad"

    # -- queries ---------------------------------------------------------------
    def node(self, key) -> Node:
        """A node by tensor, label or id."""
        if isinstance(key, Node):
            return key
        if isinstance(key, Tensor):
            n = self._by_id.get(id(key))
            if n is None:
                raise ValueError("wrt: that tensor is not on the graph of the root")
            return n
        if isinstance(key, str):
            for n in self.nodes:
                if n.label == key:
                    return n
            names = ", ".join(n.label for n in self.nodes if n.kind == "param")
            raise ValueError(f"wrt: no node named {key!r} on the graph (leaves: {names})")
        if isinstance(key, int):
            return self.nodes[key]
        raise TypeError(f"wrt: expected a Tensor or a name, got {type(key).__name__}")

    @property
    def leaves(self) -> list:
        """The leaves that require grad (the ones with a gradient)."""
        return [n for n in self.nodes if n.kind == "param"]

    def grad_edges(self, node: Node) -> list:
        return [e for e in node.out_edges if e.carries_grad]

    def count_paths(self) -> dict:
        """Number of leaf-to-root paths through each node, by dynamic programming.

        ``counts[n.id]`` is the number of distinct paths from node n up to the root
        (each edge counted separately, so ``x * x`` gives x two paths): O(V + E), where
        listing them could take exponential time.
        """
        counts = {n.id: 0 for n in self.nodes}
        counts[self.root.id] = 1
        for n in reversed(self.nodes):
            if n is self.root:
                continue
            counts[n.id] = sum(counts[e.dst.id] for e in self.grad_edges(n))
        return counts

    def paths(self, leaf: Node, limit: int = 20) -> list:
        """Up to ``limit`` paths from ``leaf`` to the root, each a list of edges."""
        out: list[list[Edge]] = []
        counts = self.count_paths()
        stack: list[tuple[Node, list]] = [(leaf, [])]
        while stack and len(out) < limit:
            n, path = stack.pop()
            if n is self.root:
                out.append(path)
                continue
            for e in reversed(self.grad_edges(n)):
                if counts[e.dst.id]:
                    stack.append((e.dst, path + [e]))
        return out

    def path_contribution(self, path: list) -> np.ndarray | None:
        """The part of d root / d leaf carried by one path: the VJPs chained along it.

        Rules are linear in the adjoint, so these sum over all paths to the gradient.
        For scalars it is simply the product of the edges' local derivatives.
        """
        if self.released or self.seed is None:
            return None
        g = self.seed
        with no_grad_scope():
            for e in reversed(path):   # from the root down to the leaf
                g = _vjp(e.dst.tensor, g)[e.index]
                if g is None:
                    return None
        return g

    # -- nn.Module boxes ----------------------------------------------------------
    def groups(self) -> list:
        """One :class:`Group` per tagged ``nn.Module`` output.

        A module's box holds the nodes that lead to its output, stopping at other
        modules' outputs (its inputs) and at data leaves (large constants); parameters
        are counted. Nodes claimed by no box stay as they are.
        """
        tagged = [n for n in self.nodes if n.module is not None]
        claimed: dict[int, Group] = {}
        groups: list[Group] = []
        for out in tagged:           # topological: inner layers before outer ones
            # a fused node run for several modules is tagged with all their paths
            paths = (out.module,) if isinstance(out.module, str) else tuple(out.module)
            members = []
            stack = [out]
            seen = {out.id}
            while stack:
                n = stack.pop()
                members.append(n)
                for p in n.parents:
                    if p.id in seen or p.id in claimed:
                        continue
                    seen.add(p.id)
                    if p.module is not None:
                        continue        # another module's output: this module's input
                    if p.kind == "const" and not p.is_scalar:
                        continue        # data flowing in
                    stack.append(p)
            members.sort(key=lambda n: n.id)
            n_params = sum(int(n.value.size) for n in members if n.kind == "param")
            grp = Group(paths[0], members, out, n_params)
            for n in members:
                claimed[n.id] = grp
            groups.append(grp)
            groups.extend(Group(p, [], out, 0, fused_into=grp) for p in paths[1:])
        return groups


_PRIMES = ("", "′", "″", "‴")


def _distinct(name: str, k: int, total: int, taken: set) -> str:
    """The ``k``-th of ``total`` nodes called ``name``: h, h′, h″, h‴ up to four, else
    h@1, h@2, ...; a label someone already uses is skipped."""
    cand = name + _PRIMES[k] if total <= len(_PRIMES) else f"{name}@{k + 1}"
    if k == 0 and total <= len(_PRIMES):
        return cand
    while cand in taken:
        cand += "′" if total <= len(_PRIMES) else "'"
    taken.add(cand)
    return cand


def _vjp(t: Tensor, g) -> list:
    """Apply ``t``'s rule to the adjoint ``g``: one adjoint per input, summed to shape."""
    parents = t._parents
    grads = t._vjp(ARRAYS, g, t.array, t._ctx, *[p.array for p in parents])
    out = []
    for p, pg in zip(parents, grads):
        if pg is None:
            out.append(None)
            continue
        pg = np.asarray(pg)
        if pg.shape != np.shape(p.array):
            pg = sum_to(pg, np.shape(p.array))
        out.append(pg)
    return out


def local_derivative(child: Tensor, parent_index: int = 0):
    """d child / d (its ``parent_index``-th input), through the child's VJP rule.

    For scalars this is the local derivative itself; for tensors it is 1ᵀJ, the
    Jacobian summed over the child's elements.

    >>> import chainrule as cr
    >>> a = cr.tensor(3.0, requires_grad=True)
    >>> float(local_derivative(a * a * 2, 0))
    2.0
    """
    if child._vjp is None:
        raise ValueError("local_derivative: a leaf has no inputs")
    if child._vjp is _released_vjp:
        raise RuntimeError("local_derivative: the rule was released by backward(); call "
                           "backward(retain_graph=True) to keep it")
    return _vjp(child, np.ones_like(np.asarray(child.array)))[parent_index]


def check_size(boxes: int, max_nodes: int, who: str) -> None:
    """Refuse a picture of more than ``max_nodes`` boxes (dot would take minutes and the
    page would be unreadable): one message for :func:`draw` and :func:`html`."""
    if boxes > max_nodes:
        raise ValueError(
            f"{who}: the graph has {boxes} boxes (more than max_nodes={max_nodes}); tag "
            "modules (nn.Module outputs collapse), draw a smaller part, or raise max_nodes")


def check_root(root, caller: str) -> None:
    """Refuse, naming ``caller``, anything but the Tensor whose graph is to be shown."""
    if not isinstance(root, Tensor):
        raise TypeError(f"{caller}: expected a Tensor (the output whose graph to show, "
                        f"such as the loss), got {type(root).__name__}")


def build(root: Tensor, seed=None) -> Graph:
    """The display model of the graph behind ``root`` (see :class:`Graph`)."""
    return Graph(root, seed)
