"""course_utils.graph: the graphs of known expressions, their layout and drawing, clear errors."""

import networkx as nx
import pytest
import torch
from matplotlib.figure import Figure

from course_utils.graph import MAX_DRAWN_NODES, build_graph, draw_graph, layout


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
    assert ("Pow", "Log", 1) in labelled_edges(G)


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


def test_real_var_graph():
    autodiff = pytest.importorskip("course_utils.autodiff")
    x = autodiff.Var(2.0, name="x")
    y = autodiff.log(x ** 2) * autodiff.sin(x) + 1 / x
    G = build_graph(y)
    ops = sorted(G.nodes[n]["op"] for n in G if G.nodes[n]["kind"] == "op")
    assert ops == ["add", "div", "log", "mul", "pow2", "sin"]
    x_nodes = [n for n in G if G.nodes[n]["name"] == "x"]
    assert len(x_nodes) == 1 and G.out_degree(x_nodes[0]) == 3  # pow2, sin and div use x
    assert G.nodes[G.graph["root"]]["value"] == pytest.approx(y.value)
    assert isinstance(draw_graph(y), Figure)


def test_layout_is_deterministic_and_flows_left_to_right():
    def positions():
        x = torch.tensor(2.0, requires_grad=True)
        G = build_graph(d2l_f(x))
        return G, layout(G)

    (G, first), (_, second) = positions(), positions()
    assert first == second
    assert all(first[a][0] < first[b][0] for a, b in G.edges)  # every edge points right
    assert len(set(first.values())) == len(G)  # no two nodes on top of each other


def test_draw_graph_returns_a_labelled_figure_not_registered_with_pyplot():
    import matplotlib.pyplot as plt

    x = torch.tensor(2.0, requires_grad=True)
    before = plt.get_fignums()
    fig = draw_graph(d2l_f(x), {"x": x}, title="f")
    assert isinstance(fig, Figure) and plt.get_fignums() == before
    (ax,) = fig.axes
    assert ax.get_title() == "f" and ax.get_xlabel()
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(["x\nscalar", "Pow", "Log", "Sin", "Mul", "Reciprocal", "const",
                            "Mul", "Add"])
    assert len(ax.patches) == 9 + 10  # a box per node, an arrow per edge


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
