"""Computation graphs as networkx DAGs, laid out by networkx, drawn with matplotlib (no graphviz).

The root is either a torch tensor with a ``grad_fn`` (the graph PyTorch recorded: ``AccumulateGrad``
nodes lead to the leaf tensors, an input needing no gradient shows as a ``const`` node) or a node of
a reverse-mode engine such as ``course_utils.autodiff``: any object with ``inputs`` (a tuple of
nodes, empty for leaves) and ``op`` (a str), and optionally ``name`` and ``value``. Edges point the
way data flows, from inputs to the output.
"""

import re
from collections.abc import Mapping

import networkx as nx
import torch
from matplotlib.figure import Figure
from matplotlib import rcParams
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyArrowPatch
from matplotlib.backends.backend_agg import RendererAgg

from course_utils.i18n import _
from course_utils.plotting import COLORS

MAX_DRAWN_NODES = 200  # beyond this a drawing is unreadable (and too large for matplotlib)
FONT_SIZE, PAD = 9, 0.6  # label size in points; padding inside a box, in font sizes
LAYER_SPACE, ROW_SPACE = 0.8, 0.3  # inches between the widest boxes and the tallest ones
_STYLE = {"leaf": (COLORS[0], "#DCEBF5", "-"), "op": (COLORS[1], "#F8E3D6", "-"),
          "const": ("#777777", "#F2F2F2", "--")}  # kind: edge colour, fill, line style


def _is_node(obj) -> bool:
    return hasattr(obj, "inputs") and hasattr(obj, "op")


def _is_accumulate_grad(obj) -> bool:
    """A torch ``AccumulateGrad`` node: the end of a path, holding a leaf tensor."""
    return hasattr(obj, "next_functions") and hasattr(obj, "variable")


def _validate_names(names) -> dict[int, str]:
    """``names`` as {id(object): name}; raises ValueError on anything but a str -> object map."""
    if names is None:
        return {}
    if not isinstance(names, Mapping) or not all(isinstance(k, str) for k in names):
        raise ValueError(f"names must be a dict from str to tensors or graph nodes, "
                         f"got {type(names).__name__}")
    # a tensor is found by its grad_fn (a result) or by its own identity (a leaf)
    return {id(obj.grad_fn if isinstance(obj, torch.Tensor) and obj.grad_fn is not None
               else obj): name for name, obj in names.items()}


def _torch_parents(grad_fn) -> list:
    return [] if _is_accumulate_grad(grad_fn) else [fn for fn, _ in grad_fn.next_functions]


def _node_parents(node) -> list:
    if not isinstance(node.inputs, (tuple, list)):
        raise ValueError(f"a graph node's inputs must be a tuple of nodes, "
                         f"got {type(node.inputs).__name__} in {node!r}")
    for parent in node.inputs:
        if not _is_node(parent):
            raise ValueError(f"an input of {node!r} is not a graph node (it needs 'inputs' "
                             f"and 'op'): got {type(parent).__name__}")
    return list(node.inputs)


def build_graph(root, names: Mapping[str, object] | None = None) -> nx.DiGraph:
    """The computation graph behind ``root`` as a DAG, edges from inputs to outputs.

    Nodes are numbered 0, 1, ... in evaluation order (inputs before their uses, the root last:
    ``G.graph["root"]``) and carry ``kind`` ("leaf", "op" or "const"), ``op``, ``name``,
    ``shape`` (a tuple or None), ``value`` (a float or None) and ``label``; an edge used k times
    (``x * x``) has ``count`` k. ``names`` maps display names to tensors or engine nodes,
    overriding a node's own ``name`` (torch does not record tensors that need no gradient).
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

    # Walk from the root to the inputs: R has the nodes keyed by id and an edge from each node
    # to each of its inputs. A torch constant (None) gets a node of its own at each use.
    R, todo = nx.DiGraph(), [start]
    R.add_node(id(start), **_attributes(start, ids))
    while todo:
        obj = todo.pop()
        for kid in parents(obj):
            key = id(kid) if kid is not None else ("const", len(R))
            if key not in R:
                R.add_node(key, **_attributes(kid, ids))
                todo += [kid] if kid is not None else []
            count = R.get_edge_data(id(obj), key, {"count": 0})["count"] + 1
            R.add_edge(id(obj), key, count=count)
    if not nx.is_directed_acyclic_graph(R):
        raise ValueError("the graph behind root has a cycle: a computation graph must be "
                         "acyclic (a node cannot be its own input)")
    number = {key: n for n, key in enumerate(nx.dfs_postorder_nodes(R, id(start)))}
    G = nx.DiGraph(root=number[id(start)])
    G.add_nodes_from((n, R.nodes[key]) for key, n in number.items())
    G.add_edges_from((number[b], number[a], data) for a, b, data in R.edges(data=True))
    return G


def _attributes(obj, ids: dict[int, str]) -> dict:
    """Node attributes for a torch backward node, a torch constant (None) or an engine node."""
    attrs = {"kind": "op", "op": "", "name": None, "shape": None, "value": None}
    if obj is None:
        attrs.update(kind="const", op="const")
    elif _is_accumulate_grad(obj):  # torch: the leaf tensor it accumulates into
        leaf = obj.variable
        attrs.update(kind="leaf", name=ids.get(id(leaf)), shape=tuple(leaf.shape))
    elif hasattr(obj, "next_functions"):  # another torch backward node: MulBackward0 -> Mul
        attrs.update(op=re.sub(r"Backward\d*$", "", obj.name().split("::")[-1]),
                     name=ids.get(id(obj)))
    else:  # an engine node
        name, value = getattr(obj, "name", None), getattr(obj, "value", None)
        attrs.update(kind="op" if obj.inputs else "leaf", op=str(obj.op),
                     name=ids.get(id(obj), name if isinstance(name, str) and name else None),
                     value=float(value) if isinstance(value, (int, float))
                     and not isinstance(value, bool) else None)
    attrs["label"] = _label(attrs)
    return attrs


def _label(attrs: dict) -> str:
    lines = [attrs["name"]] if attrs["name"] else []
    if attrs["kind"] != "leaf" or not (lines or attrs["value"] is not None):
        lines.append(attrs["op"] or attrs["kind"])
    if attrs["shape"] is not None:
        lines.append(_("scalar") if len(attrs["shape"]) == 0 else str(attrs["shape"]))
    if attrs["value"] is not None:
        lines.append(f"{attrs['value']:.4g}")
    return "\n".join(lines)


def box_size(label: str) -> tuple[float, float]:
    """Width and height in inches of the box drawn around ``label``, estimated from the font."""
    font, pad = FontProperties(size=FONT_SIZE), 2 * PAD * FONT_SIZE
    renderer = RendererAgg(1, 1, 72)  # at 72 dpi it measures in points, glyph by glyph along
    width = max(renderer.get_text_width_height_descent(line, font, ismath=False)[0]  # the
                for line in label.split("\n"))  # font families (a Chinese label: the CJK font)
    return (width + pad) / 72, (1.2 * FONT_SIZE * (label.count("\n") + 1) + pad) / 72


def _largest_box(G: nx.DiGraph) -> tuple[float, float]:
    widths, heights = zip(*(box_size(label) for _, label in G.nodes(data="label")))
    return max(widths), max(heights)


def layout(G: nx.DiGraph) -> tuple[nx.DiGraph, dict]:
    """Layers and positions (in inches) for drawing ``G`` from ``build_graph``.

    Layer k holds the k-th topological generation, except that an input sits one layer before
    its first use. An edge spanning several layers is split at a waypoint in each layer between
    (so no edge crosses a node), giving the graph H returned with the positions of its nodes
    (waypoints are tuples ``(input, output, layer)``). Within a layer nodes go top to bottom in
    evaluation order; ``nx.multipartite_layout`` centres the layers, spread out so that even the
    largest boxes keep LAYER_SPACE and ROW_SPACE inches between them.
    """
    layer = {n: k for k, generation in enumerate(nx.topological_generations(G)) for n in generation}
    for n in G:
        if G.in_degree(n) == 0 and G.out_degree(n) > 0:
            layer[n] = min(layer[s] for s in G.successors(n)) - 1
    H = nx.DiGraph()
    H.add_nodes_from(G)
    for a, b in G.edges:
        path = [a, *((a, b, k) for k in range(layer[a] + 1, layer[b])), b]
        layer |= {via: via[2] for via in path[1:-1]}
        H.add_edges_from(zip(path, path[1:]), edge=(a, b))
    order = sorted(H, key=lambda n: (n,) if n in G else n[:2])  # a waypoint: by its input
    layers = {k: [n for n in reversed(order) if layer[n] == k] for k in set(layer.values())}
    pos = nx.multipartite_layout(H, subset_key=layers)  # x: layer, y: bottom to top
    xs = [x for x, _ in pos.values()]
    unit = (max(xs) - min(xs)) / (len(layers) - 1) if len(layers) > 1 else 1.0
    width, height = _largest_box(G)
    dx, dy = width + LAYER_SPACE, height + ROW_SPACE
    return H, {n: ((x - min(xs)) / unit * dx, y / unit * dy) for n, (x, y) in pos.items()}


def draw_graph(root, names: Mapping[str, object] | None = None, *,
               title: str | None = None) -> Figure:
    """A matplotlib Figure of the computation graph behind ``root`` (see ``build_graph``).

    Inputs are blue, operations orange, constants grey and dashed; the output has a thick
    border; an edge used k times is marked "×k". Data flows left to right. The figure is not
    registered with pyplot: return it as a notebook cell's last value to show it, or call
    ``fig.savefig``.
    """
    G = build_graph(root, names)
    if len(G) > MAX_DRAWN_NODES:
        raise ValueError(f"root's graph has {len(G)} nodes; draw_graph draws at most "
                         f"{MAX_DRAWN_NODES} readably: inspect larger graphs with build_graph")
    H, pos = layout(G)
    box_width, box_height = _largest_box(G)
    (x0, x1), (y0, y1) = [(min(v), max(v)) for v in zip(*pos.values())]
    width = max(3.0, round(x1 - x0 + box_width + 0.2, 2))  # whole pixels at 100 dpi
    height = round(y1 - y0 + box_height + 0.2, 2)
    fig = Figure(figsize=(width, height + 0.8))  # 0.8 inches for the title and the x label
    ax = fig.add_axes((0, 0.4 / (height + 0.8), 1, height / (height + 0.8)))
    ax.set(xlim=((x0 + x1 - width) / 2, (x0 + x1 + width) / 2), xticks=[], yticks=[],
           ylim=((y0 + y1 - height) / 2, (y0 + y1 + height) / 2), aspect="equal",
           frame_on=False)  # no ticks, so no grid lines either
    ax.set_title(title or _("Computation graph"), fontsize=10)
    ax.set_xlabel(_("evaluation order: inputs → output"), fontsize=8, labelpad=2)

    family = rcParams["font.family"]  # networkx would pass "sans-serif": no CJK fallback
    texts = nx.draw_networkx_labels(G, pos, labels=dict(G.nodes(data="label")),
                                    font_size=FONT_SIZE, ax=ax, font_family=family)
    for n, text in texts.items():
        edge, fill, style = _STYLE[G.nodes[n]["kind"]]
        is_root = n == G.graph["root"]
        text.set_bbox({"boxstyle": f"round,pad={PAD}", "facecolor": fill, "linestyle": style,
                       "edgecolor": "black" if is_root else edge,
                       "linewidth": 2.2 if is_root else 1.2})
    # Each piece of an edge is clipped by matplotlib where it leaves and meets a box; the last
    # piece carries the arrow head. The pieces are drawn after the texts (zorder 3), which
    # place their boxes when drawn, and before the "×k" marks.
    boxes = {n: text.get_bbox_patch() for n, text in texts.items()}
    for u, v in H.edges:
        ax.add_patch(FancyArrowPatch(pos[u], pos[v], arrowstyle="-|>" if v in G else "-",
                                     mutation_scale=11, color="#444444", linewidth=1.0,
                                     shrinkA=0, shrinkB=0, patchA=boxes.get(u),
                                     patchB=boxes.get(v), zorder=3.5))
    counts = {(u, v): G.edges[e]["count"] for u, v, e in H.edges(data="edge") if v in G}
    marks = nx.draw_networkx_edge_labels(H, pos, {e: f"×{c}" for e, c in counts.items() if c > 1},
                                         font_size=FONT_SIZE, rotate=False, ax=ax,
                                         font_family=family)
    for mark in marks.values():
        mark.set_zorder(4)
    return fig
