"""Computation graphs as networkx DAGs, drawn with matplotlib (no graphviz needed).

Two kinds of root are understood:

- a torch tensor with a ``grad_fn``: the graph PyTorch recorded, walked through
  ``grad_fn.next_functions``; ``AccumulateGrad`` nodes lead to the leaf tensors, and an input
  that does not require a gradient (a constant) shows as a ``const`` node;
- a node of a reverse-mode engine such as ``course_utils.autodiff``: any object with ``inputs``
  (a tuple of nodes, empty for leaves) and ``op`` (a str, ``""`` for leaves), and optionally
  ``name`` and ``value``.

Edges point the way data flows, from inputs to the output.
"""

import math
import re
from collections.abc import Mapping

import networkx as nx
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from course_utils.plotting import COLORS

# Drawing sizes in inches: one data unit is one inch, so boxes fit their text at any size.
_LAYER_GAP, _ROW_GAP, _CHAR_W, _LINE_H, _FONT = 1.7, 0.95, 0.075, 0.17, 9
MAX_DRAWN_NODES = 200  # beyond this a drawing is unreadable (and too large for matplotlib)
_STYLE = {  # kind -> (edge colour, fill colour, line style)
    "leaf": (COLORS[0], "#DCEBF5", "-"),
    "op": (COLORS[1], "#F8E3D6", "-"),
    "const": ("#777777", "#F2F2F2", "--"),
}


def _is_node(obj) -> bool:
    return hasattr(obj, "inputs") and hasattr(obj, "op")


def _is_accumulate_grad(obj) -> bool:
    """A torch ``AccumulateGrad`` node: the end of a path, holding a leaf tensor."""
    return hasattr(obj, "next_functions") and hasattr(obj, "variable")


def _shape_text(shape: tuple[int, ...]) -> str:
    return "scalar" if len(shape) == 0 else str(tuple(shape))


def _op_name(grad_fn) -> str:
    """``MulBackward0`` -> ``Mul``: the forward operation a backward node belongs to."""
    return re.sub(r"Backward\d*$", "", grad_fn.name().split("::")[-1])


def _label(attrs: dict) -> str:
    lines = []
    if attrs["name"]:
        lines.append(attrs["name"])
    if attrs["kind"] != "leaf" or not (lines or attrs["value"] is not None):
        lines.append(attrs["op"] or attrs["kind"])
    if attrs["shape"] is not None:
        lines.append(_shape_text(attrs["shape"]))
    if attrs["value"] is not None:
        lines.append(f"{attrs['value']:.4g}")
    return "\n".join(lines)


def _validate_names(names) -> dict[int, str]:
    """``names`` as {id(object): name}; raises ValueError on anything but a str -> object map."""
    if names is None:
        return {}
    if not isinstance(names, Mapping) or not all(isinstance(k, str) for k in names):
        raise ValueError(f"names must be a dict from str to tensors or graph nodes, "
                         f"got {type(names).__name__}")
    ids: dict[int, str] = {}
    for name, obj in names.items():
        if isinstance(obj, torch.Tensor):  # a tensor is found by its leaf identity or grad_fn
            ids[id(obj.grad_fn) if obj.grad_fn is not None else id(obj)] = name
        else:
            ids[id(obj)] = name
    return ids


def _torch_parents(grad_fn) -> list:
    return [fn for fn, _ in grad_fn.next_functions]


def _node_parents(node) -> list:
    inputs = node.inputs
    if not isinstance(inputs, (tuple, list)):
        raise ValueError(f"a graph node's inputs must be a tuple of nodes, "
                         f"got {type(inputs).__name__} in {node!r}")
    for parent in inputs:
        if not _is_node(parent):
            raise ValueError(f"an input of {node!r} is not a graph node (it needs 'inputs' "
                             f"and 'op'): got {type(parent).__name__}")
    return list(inputs)


def build_graph(root, names: Mapping[str, object] | None = None) -> nx.DiGraph:
    """The computation graph behind ``root`` as a DAG, edges from inputs to outputs.

    Nodes are numbered 0, 1, ... in evaluation order (every input before its uses; the root
    last) and carry ``kind`` ("leaf", "op" or "const"), ``op``, ``name``, ``shape`` (a tuple
    or None), ``value`` (a float or None) and ``label``. An edge used k times (``x * x``) has
    ``count`` k. ``names`` maps display names to tensors (leaves or intermediate results) or
    engine nodes; it overrides an engine node's own ``name``. Tensors that need no gradient are
    not recorded by torch, so their names cannot appear. ``G.graph["root"]`` is the root's
    number.
    """
    ids = _validate_names(names)
    if isinstance(root, torch.Tensor):
        if root.grad_fn is None:
            why = ("it is a leaf: draw an expression computed from it" if root.requires_grad
                   else "it does not require a gradient: compute it from tensors created "
                        "with requires_grad=True")
            raise ValueError(f"root is a tensor with no graph (grad_fn is None): {why}")
        start, parents = root.grad_fn, _torch_parents
    elif _is_node(root):
        start, parents = root, _node_parents
    else:
        raise ValueError(f"root must be a tensor with a grad_fn or a graph node with 'inputs' "
                         f"and 'op', got {type(root).__name__}")

    objects, inputs_of = _collect(start, parents)
    order = _post_order(start, inputs_of)
    number = {key: n for n, key in enumerate(order)}
    G = nx.DiGraph(root=number[id(start)])
    for key in order:
        G.add_node(number[key], **_attributes(objects[key], ids))
    for key in order:
        for kid in inputs_of[key]:
            edge = (number[kid], number[key])
            G.add_edge(*edge, count=G.edges[edge]["count"] + 1 if G.has_edge(*edge) else 1)
    return G


def _collect(start, parents) -> tuple[dict, dict]:
    """Every node reachable from ``start`` by key, and the keys of each node's inputs."""
    objects: dict = {id(start): start}
    inputs_of: dict = {}
    todo = [start]
    while todo:
        obj = todo.pop()
        keys = []
        for kid in [] if _is_accumulate_grad(obj) else parents(obj):
            if kid is None:  # torch: an input that needs no gradient, a constant
                key = ("const", len(objects))
                objects[key], inputs_of[key] = None, []
            else:
                key = id(kid)
                if key not in objects:
                    objects[key] = kid
                    todo.append(kid)
            keys.append(key)
        inputs_of[id(obj)] = keys
    return objects, inputs_of


def _post_order(start, inputs_of: dict) -> list:
    """Keys in depth-first post-order from ``start`` (inputs before users); rejects cycles."""
    order: list = []
    state = {id(start): "open"}
    stack = [(id(start), iter(inputs_of[id(start)]))]
    while stack:
        key, kids = stack[-1]
        kid = next(kids, None)
        if kid is None:
            stack.pop()
            state[key] = "done"
            order.append(key)
        elif state.get(kid) == "open":
            raise ValueError("the graph behind root has a cycle: a computation graph must be "
                             "acyclic (a node cannot be its own input)")
        elif kid not in state:
            state[kid] = "open"
            stack.append((kid, iter(inputs_of[kid])))
    return order


def _attributes(obj, ids: dict[int, str]) -> dict:
    """Node attributes for a torch backward node, a torch constant (None) or an engine node."""
    attrs = {"kind": "op", "op": "", "name": None, "shape": None, "value": None}
    if obj is None:
        attrs.update(kind="const", op="const")
    elif _is_accumulate_grad(obj):  # torch: the leaf tensor it accumulates into
        leaf = obj.variable
        attrs.update(kind="leaf", name=ids.get(id(leaf)), shape=tuple(leaf.shape))
    elif hasattr(obj, "next_functions"):  # another torch backward node: an operation
        attrs.update(op=_op_name(obj), name=ids.get(id(obj)))
    else:  # an engine node
        name = getattr(obj, "name", None)
        value = getattr(obj, "value", None)
        attrs.update(kind="op" if obj.inputs else "leaf", op=str(obj.op),
                     name=ids.get(id(obj), name if isinstance(name, str) and name else None),
                     value=float(value) if isinstance(value, (int, float))
                     and not isinstance(value, bool) else None)
    attrs["label"] = _label(attrs)
    return attrs


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def layout(G: nx.DiGraph) -> dict[int, tuple[float, float]]:
    """Deterministic positions: one column per topological generation, inputs on the left.

    A leaf sits one column before its first use. Within a column, nodes are ordered by the mean
    row of their inputs (a leaf: of its users' other inputs), then by number, which keeps most
    edges short and uncrossed.
    """
    column: dict[int, int] = {}
    for depth, generation in enumerate(nx.topological_generations(G)):
        for n in generation:
            column[n] = depth
    for n in G:
        if G.in_degree(n) == 0 and G.out_degree(n) > 0:
            column[n] = min(column[s] for s in G.successors(n)) - 1
    row: dict[int, float] = {}
    pos: dict[int, tuple[float, float]] = {}
    for depth in range(max(column.values()) + 1):
        members = [n for n in G if column[n] == depth]
        fed = [n for n in members if any(p in row for p in G.predecessors(n))]
        fed.sort(key=lambda n: (_mean([row[p] for p in G.predecessors(n)]), n))
        known = row | {n: rank - (len(fed) - 1) / 2 for rank, n in enumerate(fed)}
        keys = {n: (known[n], n) for n in fed}
        for n in members:
            if n not in keys:  # a late leaf: just below the other inputs of its users
                mates = [known[p] for s in G.successors(n) for p in G.predecessors(s)
                         if p in known]
                keys[n] = (_mean(mates) + 0.5 if mates else -math.inf, n)
        members.sort(key=keys.__getitem__)
        for rank, n in enumerate(members):
            row[n] = rank - (len(members) - 1) / 2
            pos[n] = (depth * _LAYER_GAP, -row[n] * _ROW_GAP)
    return pos


def _clear_rad(a: int, b: int, pos: dict, widths: dict, heights: dict) -> float:
    """The curvature of the first arc from a to b that misses every other box (0 = straight).

    Matplotlib's ``arc3`` is a quadratic Bezier curve with control point mid + rad * (dy, -dx)
    in display units; one data unit is one inch on both axes, so data units give the same curve.
    """
    (x0, y0), (x1, y1) = pos[a], pos[b]
    others = [n for n in pos if n not in (a, b) and x0 < pos[n][0] < x1]
    for rad in (0.0, 0.2, -0.2, 0.35, -0.35, 0.5, -0.5):
        cx, cy = (x0 + x1) / 2 + rad * (y1 - y0), (y0 + y1) / 2 - rad * (x1 - x0)
        points = [((1 - t) ** 2 * x0 + 2 * t * (1 - t) * cx + t ** 2 * x1,
                   (1 - t) ** 2 * y0 + 2 * t * (1 - t) * cy + t ** 2 * y1)
                  for t in (i / 40 for i in range(41))]
        if not any(abs(px - pos[n][0]) < widths[n] / 2 + 0.05
                   and abs(py - pos[n][1]) < heights[n] / 2 + 0.05
                   for n in others for px, py in points):
            return rad
    return 0.0


def draw_graph(root, names: Mapping[str, object] | None = None, *,
               title: str | None = None) -> Figure:
    """A matplotlib Figure of the computation graph behind ``root`` (see ``build_graph``).

    Inputs are blue, operations orange, constants grey and dashed; the output has a thick
    border. Data flows left to right. The figure is not registered with pyplot: return it as a
    notebook cell's last value to show it, or call ``fig.savefig``.
    """
    G = build_graph(root, names)
    if len(G) > MAX_DRAWN_NODES:
        raise ValueError(f"root's graph has {len(G)} nodes; draw_graph draws at most "
                         f"{MAX_DRAWN_NODES} readably: inspect larger graphs with build_graph")
    pos = layout(G)
    widths = {n: max(0.8, _CHAR_W * max(map(len, G.nodes[n]["label"].split("\n"))) + 0.3)
              for n in G}
    heights = {n: _LINE_H * (G.nodes[n]["label"].count("\n") + 1) + 0.2 for n in G}
    arcs = []  # (input, output, curvature); an edge used k times is drawn as k arcs
    for a, b, count in sorted(G.edges(data="count")):
        arcs += [(a, b, _clear_rad(a, b, pos, widths, heights))] if count == 1 else \
            [(a, b, 0.25 * (2 * k / (count - 1) - 1)) for k in range(count)]
    # The limits hold every box and the middle of every arc (the point farthest off its chord).
    xs, ys = [], []
    for n, (x, y) in pos.items():
        xs += [x - widths[n] / 2, x + widths[n] / 2]
        ys += [y - heights[n] / 2, y + heights[n] / 2]
    for a, b, rad in arcs:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        ys.append((ya + yb) / 2 - rad * (xb - xa) / 2)
    x0, x1, y0, y1 = min(xs) - 0.2, max(xs) + 0.2, min(ys) - 0.15, max(ys) + 0.15

    fig = Figure(figsize=(x1 - x0, y1 - y0 + 0.8))
    ax = fig.add_axes((0, 0.4 / (y1 - y0 + 0.8), 1, (y1 - y0) / (y1 - y0 + 0.8)))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title or "Computation graph", fontsize=10)
    ax.set_xlabel("evaluation order: inputs → output", fontsize=8, labelpad=2)

    boxes = {}
    for n in G:
        attrs = G.nodes[n]
        edge, fill, style = _STYLE[attrs["kind"]]
        w, h = widths[n], heights[n]
        is_root = n == G.graph["root"]
        boxes[n] = FancyBboxPatch((pos[n][0] - w / 2, pos[n][1] - h / 2), w, h,
                                  boxstyle="round,pad=0,rounding_size=0.08", facecolor=fill,
                                  edgecolor="black" if is_root else edge,
                                  linewidth=2.2 if is_root else 1.2, linestyle=style, zorder=2)
        ax.add_patch(boxes[n])
        ax.text(*pos[n], attrs["label"], ha="center", va="center", fontsize=_FONT,
                linespacing=1.1, zorder=3)
    for a, b, rad in arcs:
        ax.add_patch(FancyArrowPatch(pos[a], pos[b], patchA=boxes[a], patchB=boxes[b],
                                     arrowstyle="-|>", mutation_scale=11, linewidth=1.0,
                                     color="#444444", connectionstyle=f"arc3,rad={rad}",
                                     shrinkA=1, shrinkB=1, zorder=1))
    return fig
