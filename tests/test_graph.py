"""course_utils.graph: the graphs of known expressions, what their drawing guarantees, clear errors.

The layout is pinned by the properties a reader relies on: data flows left to right, one layer
at a time (so no edge runs through a box), boxes do not overlap, every arrow head touches its
box, the graphs of the notebooks have no crossing edges, and the same input draws the same PNG.
"""

import io
import itertools

import matplotlib.pyplot as plt
import networkx as nx
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.patches import ArrowStyle, FancyArrowPatch
from matplotlib.path import Path

from course_utils import autodiff as ad
from course_utils.graph import (LAYER_SPACE, MAX_DRAWN_NODES, ROW_SPACE, box_size, build_graph,
                                draw_graph, layout)


class Node:
    """A minimal reverse-mode node (test fixture): the duck-typed interface the drawer reads."""

    def __init__(self, value, inputs=(), op="", name=None):
        self.value, self.inputs, self.op, self.name = value, inputs, op, name


def labelled_edges(G: nx.DiGraph) -> set[tuple[str, str, int]]:
    """Edges as (input label, output label, count): independent of the numbering."""
    return {(G.nodes[a]["label"], G.nodes[b]["label"], c) for a, b, c in G.edges(data="count")}


def d2l_f(x):
    """d2l's f(x) = log(x²)·sin x + 1/x, written with torch operations."""
    return torch.log(x ** 2) * torch.sin(x) + 1 / x


def hand_graph():
    """Notebook 01's z = (x1 w1 + x2 w2 - y)², one Node per value."""
    x1, w1, x2, w2, y = (Node(v, name=n) for n, v in
                         [("x1", 1.5), ("w1", 0.8), ("x2", -2.0), ("w2", 0.3), ("y", 0.5)])
    m1, m2 = Node(1.2, (x1, w1), "mul", "m1"), Node(-0.6, (x2, w2), "mul", "m2")
    a = Node(0.6, (m1, m2), "add", "a")
    return Node(0.01, (Node(0.1, (a, y), "sub", "b"),), "square", "z")


def baydin_var():
    """Notebook 02's ln x1 + x1·x2 − sin x2 recorded by Var, operations named v1 ... v5."""
    x1, x2 = ad.Var(2.0, name="x1"), ad.Var(5.0, name="x2")
    v = {"v1": ad.log(x1), "v2": x1 * x2, "v3": ad.sin(x2)}
    v["v4"] = v["v1"] + v["v2"]
    v["v5"] = v["v4"] - v["v3"]
    for name, node in v.items():
        node.name = name
    return v["v5"]


def torch_f():
    x = torch.tensor(2.0, requires_grad=True)
    return d2l_f(x), {"x": x}


def torch_vector():
    """Notebook 01's z = (<x, w> - y)² with data x, y: two constants."""
    w = torch.tensor([0.8, 0.3], requires_grad=True)
    return (torch.dot(torch.tensor([1.5, -2.0]), w) - 0.5) ** 2, {"w": w}


def torch_shared():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    u = torch.exp(x)
    return u * u + u, {"x": x, "u": u}


ROOTS = {"hand": lambda: (hand_graph(), None), "var": lambda: (baydin_var(), None),
         "f": torch_f, "vector": torch_vector, "shared": torch_shared}


@pytest.fixture(params=ROOTS, ids=list(ROOTS))
def graph(request):
    root, names = ROOTS[request.param]()
    return root, names, build_graph(root, names)


# --- the graphs ---

def test_torch_graph_of_d2l_function():
    x = torch.tensor(2.0, requires_grad=True)
    y = d2l_f(x)
    G = build_graph(y, names={"x": x, "y": y})
    assert nx.is_directed_acyclic_graph(G)
    ops = sorted(G.nodes[n]["op"] for n in G if G.nodes[n]["kind"] == "op")
    assert ops == ["Add", "Log", "Mul", "Mul", "Pow", "Reciprocal", "Sin"]
    leaves = [n for n in G if G.nodes[n]["kind"] == "leaf"]
    assert [G.nodes[n]["label"] for n in leaves] == ["x\nscalar"]
    (x_node,) = leaves
    assert sorted(G.nodes[s]["op"] for s in G.successors(x_node)) == ["Pow", "Reciprocal", "Sin"]
    # 1/x is recorded as reciprocal(x) times the constant 1, which needs no gradient.
    assert [G.nodes[n]["kind"] for n in G if G.in_degree(n) == 0] == ["leaf", "const"]
    root = G.graph["root"]
    assert G.nodes[root]["label"] == "y\nAdd" and G.out_degree(root) == 0
    assert root == len(G) - 1  # numbered in evaluation order: the root last
    assert all(a < b for a, b in G.edges)  # ... and every input before its users
    assert labelled_edges(G) == {
        ("x\nscalar", "Pow", 1), ("x\nscalar", "Sin", 1), ("x\nscalar", "Reciprocal", 1),
        ("Pow", "Log", 1), ("Log", "Mul", 1), ("Sin", "Mul", 1), ("Reciprocal", "Mul", 1),
        ("const", "Mul", 1), ("Mul", "y\nAdd", 1)}
    assert G.number_of_edges() == 10  # the two Mul nodes both feed Add


def test_torch_leaves_carry_names_and_shapes_and_named_intermediates():
    X = torch.ones(4, 3)
    w = torch.zeros(3, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    y_hat = X @ w + b
    loss = (y_hat ** 2).sum()
    G = build_graph(loss, names={"w": w, "b": b, "y_hat": y_hat})
    assert labelled_edges(G) == {
        ("w\n(3,)", "Mv", 1), ("const", "Mv", 1),  # X needs no gradient: a constant
        ("Mv", "y_hat\nAdd", 1), ("b\n(1,)", "y_hat\nAdd", 1),
        ("y_hat\nAdd", "Pow", 1), ("Pow", "Sum", 1)}
    assert {G.nodes[n]["shape"] for n in G if G.nodes[n]["kind"] == "leaf"} == {(3,), (1,)}


def test_a_tensor_used_twice_gives_one_edge_counted_twice():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    G = build_graph(x * x, names={"x": x})
    assert labelled_edges(G) == {("x\n(2,)", "Mul", 2)}


def test_shared_subexpression_is_one_node():
    x = torch.tensor(3.0, requires_grad=True)
    u = torch.exp(x)
    y = u * u + u
    G = build_graph(y, names={"u": u})
    assert [G.nodes[n]["label"] for n in G].count("u\nExp") == 1
    assert labelled_edges(G) == {("leaf\nscalar", "u\nExp", 1), ("u\nExp", "Mul", 2),
                                 ("u\nExp", "Add", 1), ("Mul", "Add", 1)}


def test_engine_nodes_any_object_with_inputs_and_op():
    x = Node(2.0, name="x")
    w = Node(3.0, name="w")
    prod = Node(6.0, (x, w), "mul")
    y = Node(7.0, (prod, Node(1.0)), "add", name="y")
    G = build_graph(y)
    assert labelled_edges(G) == {("x\n2", "mul\n6", 1), ("w\n3", "mul\n6", 1),
                                 ("mul\n6", "y\nadd\n7", 1), ("1", "y\nadd\n7", 1)}
    assert [G.nodes[n]["kind"] for n in G] == ["leaf", "leaf", "op", "leaf", "op"]
    assert G.nodes[G.graph["root"]]["value"] == 7.0
    # names= overrides a node's own name.
    assert G.nodes[0]["name"] == "x" and build_graph(y, {"a": x}).nodes[0]["name"] == "a"


def test_var_graph_of_the_worked_example():
    G = build_graph(baydin_var())
    assert labelled_edges(G) == {
        ("x1\n2", "v1\nlog\n0.6931", 1), ("x1\n2", "v2\nmul\n10", 1),
        ("x2\n5", "v2\nmul\n10", 1), ("x2\n5", "v3\nsin\n-0.9589", 1),
        ("v1\nlog\n0.6931", "v4\nadd\n10.69", 1), ("v2\nmul\n10", "v4\nadd\n10.69", 1),
        ("v4\nadd\n10.69", "v5\nsub\n11.65", 1), ("v3\nsin\n-0.9589", "v5\nsub\n11.65", 1)}
    assert len(G) == 7 and G.nodes[G.graph["root"]]["value"] == pytest.approx(11.652, abs=1e-3)


def test_the_hand_made_graph_and_the_recorded_one_are_the_same_graph():
    t = {n: torch.tensor(v, requires_grad=True) for n, v in
         [("x1", 1.5), ("w1", 0.8), ("x2", -2.0), ("w2", 0.3), ("y", 0.5)]}
    z = (t["x1"] * t["w1"] + t["x2"] * t["w2"] - t["y"]) ** 2
    assert nx.is_isomorphic(build_graph(hand_graph()), build_graph(z))


# --- the layout and the drawing ---

def layers_of(pos: dict) -> tuple[list[float], float]:
    xs = sorted({round(x, 9) for x, _ in pos.values()})
    return xs, (xs[1] - xs[0] if len(xs) > 1 else 0.0)


def test_edges_point_forward_one_layer_at_a_time(graph):
    _, _, G = graph
    H, pos = layout(G)
    xs, step = layers_of(pos)
    assert step > 0 and all(b - a == pytest.approx(step) for a, b in zip(xs, xs[1:]))
    assert all(pos[a][0] < pos[b][0] for a, b in G.edges)  # data flows left to right
    for u, v in H.edges:  # each piece of an edge goes to the next layer, never further
        assert pos[v][0] - pos[u][0] == pytest.approx(step), (u, v)
    # H is G with every edge split into pieces: each piece belongs to one edge of G.
    assert {e for _, _, e in H.edges(data="edge")} == set(G.edges)
    assert set(G) <= set(H) and all(isinstance(n, tuple) for n in set(H) - set(G))
    root = G.graph["root"]
    assert pos[root][0] == max(x for x, _ in pos.values())
    for n in G:  # an input sits one layer before its first use
        if G.in_degree(n) == 0:
            assert min(pos[s][0] for s in G.successors(n)) - pos[n][0] == pytest.approx(step)


def test_boxes_keep_their_distance(graph):
    _, _, G = graph
    H, pos = layout(G)
    size = {n: box_size(G.nodes[n]["label"]) if n in G else (0.0, 0.0) for n in H}
    for a, b in itertools.combinations(H, 2):
        (xa, ya), (xb, yb) = pos[a], pos[b]
        if abs(xa - xb) < 1e-9:  # same layer: one above the other
            assert abs(ya - yb) >= (size[a][1] + size[b][1]) / 2 + ROW_SPACE - 1e-9, (a, b)
        else:
            assert abs(xa - xb) >= (size[a][0] + size[b][0]) / 2 + LAYER_SPACE - 1e-9, (a, b)


def test_no_edge_runs_through_a_box(graph):
    _, _, G = graph
    H, pos = layout(G)
    for u, v in H.edges:
        (x0, y0), (x1, y1) = pos[u], pos[v]
        points = [(x0 + t * (x1 - x0), y0 + t * (y1 - y0)) for t in (i / 100 for i in range(101))]
        for n in set(G) - {u, v}:
            w, h = box_size(G.nodes[n]["label"])
            assert not any(abs(x - pos[n][0]) < w / 2 and abs(y - pos[n][1]) < h / 2
                           for x, y in points), f"the piece {u}->{v} crosses the box of {n}"


def segments_cross(p, q, r, s) -> bool:
    """Whether segments pq and rs cross at a point inside both."""
    def side(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return side(p, q, r) * side(p, q, s) < 0 and side(r, s, p) * side(r, s, q) < 0


@pytest.mark.parametrize("name", ["hand", "var", "f", "vector"])
def test_the_notebooks_graphs_have_no_crossing_edges_and_read_top_down(name):
    root, names = ROOTS[name]()
    G = build_graph(root, names)
    H, pos = layout(G)
    for (a, b), (c, d) in itertools.combinations(H.edges, 2):
        assert not segments_cross(pos[a], pos[b], pos[c], pos[d]), ((a, b), (c, d))
    first = [n for n in G if pos[n][0] == 0]  # the inputs read top to bottom as in the code
    assert sorted(first, key=lambda n: -pos[n][1]) == sorted(first)


def drawn(fig: Figure):
    """The node texts with their boxes (display coordinates) and the arrows of a drawn figure."""
    fig.draw_without_rendering()
    (ax,) = fig.axes
    texts = [t for t in ax.texts if t.get_bbox_patch() is not None and "×" not in t.get_text()]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    return ax, texts, arrows


def test_drawn_boxes_do_not_overlap_and_fit_in_the_figure(graph):
    root, names, G = graph
    ax, texts, _ = drawn(draw_graph(root, names))
    boxes = [t.get_bbox_patch().get_window_extent() for t in texts]
    assert len(boxes) == len(G)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    frame = ax.get_window_extent()
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1
               for b in boxes)


def test_every_arrow_head_touches_its_box(graph):
    root, names, G = graph
    ax, texts, arrows = drawn(draw_graph(root, names))
    heads = [a for a in arrows if isinstance(a.get_arrowstyle(), ArrowStyle.CurveFilledB)]
    assert len(heads) == G.number_of_edges()
    reached = []  # within 3 px: matplotlib ends a filled head ~1.5 px short, for its outline
    for arrow in heads:
        path = arrow.get_path()  # in data coordinates; CLOSEPOLY vertices are placeholders
        points = ax.transData.transform(path.vertices[path.codes != Path.CLOSEPOLY])
        tip = max(points, key=lambda p: (p[0] - points[0][0]) ** 2 + (p[1] - points[0][1]) ** 2)
        on = [t for t in texts if t.get_bbox_patch().get_window_extent().padded(3)
              .contains(*tip)]
        assert len(on) == 1, f"an arrow head at {tip} touches {len(on)} boxes"
        assert not on[0].get_bbox_patch().get_window_extent().padded(-1).contains(*tip), (
            "an arrow head is hidden inside a box")
        reached.append(on[0].get_text())
    assert sorted(reached) == sorted(G.nodes[b]["label"] for _, b in G.edges)


def test_labels_are_the_operations_and_values_and_the_title_is_set():
    before = plt.get_fignums()
    fig = draw_graph(baydin_var(), title="v5")
    assert isinstance(fig, Figure) and plt.get_fignums() == before  # not kept by pyplot
    ax, texts, _ = drawn(fig)
    assert sorted(t.get_text() for t in texts) == sorted([
        "x1\n2", "x2\n5", "v1\nlog\n0.6931", "v2\nmul\n10", "v3\nsin\n-0.9589",
        "v4\nadd\n10.69", "v5\nsub\n11.65"])
    assert ax.get_title() == "v5" and "inputs → output" in ax.get_xlabel()


def test_an_edge_used_twice_is_marked_on_its_arrow():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (ax,) = draw_graph(x * x, {"x": x}).axes
    assert sorted(t.get_text() for t in ax.texts) == ["Mul", "x\n(2,)", "×2"]


def test_same_graph_same_positions_and_same_png():
    def png():
        buffer = io.BytesIO()
        draw_graph(*torch_f()).savefig(buffer, format="png")
        return buffer.getvalue()

    assert layout(build_graph(*torch_f()))[1] == layout(build_graph(*torch_f()))[1]
    assert png() == png()


# --- errors ---

@pytest.mark.parametrize("make, message", [
    (lambda: torch.tensor(1.0), "does not require a gradient"),
    (lambda: torch.tensor(1.0, requires_grad=True), "it is a leaf"),
    (lambda: torch.ones(2).sum(), "no graph"),
    (lambda: 3.0, "root must be a tensor with a grad_fn or a graph node"),
    (lambda: object(), "got object"),
    (lambda: Node(1.0, (Node(2.0), "not a node"), "add"), "is not a graph node"),
    (lambda: Node(1.0, inputs=None, op="add"), "inputs must be a tuple"),
])
def test_bad_roots_get_a_clear_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        build_graph(make())
    with pytest.raises(ValueError, match=message):
        draw_graph(make())


def test_cycles_and_bad_names_are_rejected():
    a = Node(1.0, op="add")
    a.inputs = (Node(2.0), a)
    with pytest.raises(ValueError, match="cycle"):
        build_graph(a)
    x = torch.tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match="names must be a dict"):
        build_graph(x * 2, names=[x])
    with pytest.raises(ValueError, match="names must be a dict"):
        build_graph(x * 2, names={1: x})


def test_long_chain_needs_no_recursion():
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    G = build_graph(y)
    assert len(G) == 1 + 3000 * 2 and nx.dag_longest_path_length(G) == 3000


def test_too_large_a_graph_is_not_drawn_and_a_lone_engine_leaf_is():
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(MAX_DRAWN_NODES // 2):
        y = y * 1.0
    with pytest.raises(ValueError, match="inspect larger graphs with build_graph"):
        draw_graph(y)
    fig = draw_graph(Node(2.0, name="x"))
    assert [t.get_text() for t in fig.axes[0].texts] == ["x\n2"]
