"""The teaching engines of course_utils.autodiff against PyTorch and finite differences."""

import math
import sys
from types import SimpleNamespace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import autodiff as ad
from course_utils.autodiff import Dual, Var, forward_gradient, reverse_gradient
from course_utils.graph import build_graph, draw_graph

NUM_INPUTS = 3

# Random expressions from a small grammar, as nested tuples. Every operation keeps its inputs in
# a safe domain, so both engines and torch evaluate the same finite function:
# log(1 + a²), exp(tanh a), a / (1 + b²) and a ** 2 never fail, whatever a and b are.
leaves = st.one_of(
    st.integers(0, NUM_INPUTS - 1).map(lambda i: ("x", i)),
    st.floats(-2.0, 2.0, allow_nan=False).map(lambda c: ("const", c)),
)


def _extend(children):
    unary = st.sampled_from(["sin", "cos", "tanh", "exp", "log", "square", "neg"])
    binary = st.sampled_from(["add", "sub", "mul", "div"])
    return st.one_of(st.tuples(unary, children), st.tuples(binary, children, children))


def _extend_with_kinks(children):
    """The smooth grammar plus relu, 1.5 ** a and a Python branch ``b if a < 0 else c``."""
    unary = st.sampled_from(["relu", "rpow"])
    return st.one_of(_extend(children), st.tuples(unary, children),
                     st.tuples(st.just("if"), children, children, children))


expressions = st.recursive(leaves, _extend, max_leaves=12)
expressions_with_kinks = st.recursive(leaves, _extend_with_kinks, max_leaves=12)
points = st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=NUM_INPUTS,
                  max_size=NUM_INPUTS)


def evaluate(expr, xs, lib):
    """Value of ``expr`` at ``xs`` with the elementary functions of ``lib`` (``ad`` or torch)."""
    kind = expr[0]
    if kind == "x":
        return xs[expr[1]]
    if kind == "const":
        return expr[1]
    a = evaluate(expr[1], xs, lib)
    if kind == "sin":
        return lib.sin(a)
    if kind == "cos":
        return lib.cos(a)
    if kind == "tanh":
        return lib.tanh(a)
    if kind == "exp":
        return lib.exp(lib.tanh(a))
    if kind == "log":
        return lib.log(1.0 + a * a)
    if kind == "square":
        return a ** 2
    if kind == "neg":
        return -a
    if kind == "relu":
        return lib.relu(a)
    if kind == "rpow":
        return 1.5 ** lib.tanh(a)  # a number raised to an engine value (__rpow__)
    b = evaluate(expr[2], xs, lib)
    if kind == "if":  # Python control flow on a comparison of values
        return b if a < 0 else evaluate(expr[3], xs, lib)
    if kind == "add":
        return a + b
    if kind == "sub":
        return a - b
    if kind == "mul":
        return a * b
    return a / (1.0 + b * b)  # "div"


def _float64(fn):
    return lambda a: fn(torch.as_tensor(a, dtype=torch.float64))


# The elementary functions of ``evaluate`` in torch, float64, for numbers and tensors alike.
torch_lib = SimpleNamespace(**{name: _float64(getattr(torch, name))
                               for name in ("sin", "cos", "tanh", "exp", "log", "relu")})


def torch_function(expr):
    """``expr`` as a function of one float64 tensor of NUM_INPUTS values."""
    return lambda x: evaluate(expr, list(x), torch_lib) + 0.0 * x.sum()  # + 0·x: constants too


def close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


@settings(max_examples=150, deadline=None)
@given(expr=expressions, point=points)
def test_engines_match_torch_and_central_differences(expr, point):
    f = lambda *xs: evaluate(expr, xs, ad)  # noqa: E731
    fwd_value, fwd_grad = forward_gradient(f, point)
    rev_value, rev_grad = reverse_gradient(f, point)
    f_torch = torch_function(expr)
    x = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    y = f_torch(x)
    (g,) = torch.autograd.grad(y, x)

    assert close(fwd_value, y.item(), 1e-10) and close(rev_value, y.item(), 1e-10)
    for i in range(NUM_INPUTS):
        assert close(fwd_grad[i], g[i].item(), 1e-10), (i, fwd_grad, g)
        assert close(rev_grad[i], g[i].item(), 1e-10), (i, rev_grad, g)

    # Central difference D = (f(x + h e_i) - f(x - h e_i)) / (2h). Its error has two parts:
    #   truncation O(h²): D - f'(x) = h² f'''(ξ) / 6 for some ξ within h of x (Taylor);
    #   rounding O(eps/h): each evaluation of f is off by at most about c·eps·S, where S is
    #     the largest intermediate magnitude (read from the recorded graph); the difference
    #     of two such errors divided by 2h is at most c·eps·S / h.
    # h = 1e-4 is near the step (c·eps)^(1/3) that balances the two when f''' is of order 1.
    # f''' along e_i comes from torch (doubled, since ξ is not x); c = 100 covers the
    # amplification of rounding errors through a dozen operations.
    h, eps, c = 1e-4, sys.float_info.epsilon, 100
    out = Var(0.0) + f(*[Var(v) for v in point])
    scale = 1.0 + max(abs(node.value) for node in ad.topological_order(out))
    for i in range(NUM_INPUTS):
        e = torch.zeros(NUM_INPUTS, dtype=torch.float64)
        e[i] = 1.0
        along = lambda t: f_torch(x.detach() + t * e)  # noqa: E731, B023
        third = torch.func.grad(torch.func.grad(torch.func.grad(along)))(
            torch.tensor(0.0, dtype=torch.float64))
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        central = (f(*up) - f(*down)) / (2 * h)
        tol = h ** 2 / 6 * 2 * abs(third.item()) + c * eps * scale / h
        assert abs(central - rev_grad[i]) <= tol, (i, central, rev_grad[i], tol)


@settings(max_examples=150, deadline=None)
@given(expr=expressions_with_kinks, point=points)
def test_relu_powers_and_branches_match_torch(expr, point):
    """Away from smoothness finite differences fail, so torch alone is the reference here:
    relu'(0) = 0 in both, and a branch takes the same side in all three (the test is a < 0,
    whose sign rounding does not change)."""
    f = lambda *xs: evaluate(expr, xs, ad)  # noqa: E731
    fwd_value, fwd_grad = forward_gradient(f, point)
    rev_value, rev_grad = reverse_gradient(f, point)
    x = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    y = torch_function(expr)(x)
    (g,) = torch.autograd.grad(y, x)
    assert close(fwd_value, y.item(), 1e-10) and close(rev_value, y.item(), 1e-10)
    for i in range(NUM_INPUTS):
        assert close(fwd_grad[i], g[i].item(), 1e-10), (i, fwd_grad, g)
        assert close(rev_grad[i], g[i].item(), 1e-10), (i, rev_grad, g)


def f_branch(x):  # the example of JAX's "Common gotchas": f'(2) = 12, f'(4) = -4
    if x < 3:
        return 3.0 * x ** 2
    return -4.0 * x


def double_until_ten(x):  # y = 2^k x with k set by the value of x: dy/dx = 2^k
    y = x
    while y < 10:
        y = 2.0 * y
    return y


def torch_derivative(f, x: float) -> float:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(f(t), t)
    return g.item()


@pytest.mark.parametrize("f, f_torch, x, expected", [
    (f_branch, f_branch, 2.0, 12.0),
    (f_branch, f_branch, 4.0, -4.0),
    (double_until_ten, double_until_ten, 0.7, 16.0),   # 0.7 -> 1.4 -> 2.8 -> 5.6 -> 11.2
    (double_until_ten, double_until_ten, 3.0, 4.0),    # 3 -> 6 -> 12
    (double_until_ten, double_until_ten, 12.0, 1.0),   # not below 10: the loop never runs
    (ad.relu, torch.relu, -1.5, 0.0),
    (ad.relu, torch.relu, 2.0, 1.0),
    (ad.relu, torch.relu, 0.0, 0.0),                    # the kink: 0, as in PyTorch
    (lambda x: 2.0 ** x, lambda x: 2.0 ** x, 0.5, 2.0 ** 0.5 * math.log(2.0)),
    (lambda x: 2 ** (x * x), lambda x: 2 ** (x * x), -0.75, None),
])
def test_control_flow_relu_and_rpow_match_torch(f, f_torch, x, expected):
    x_var = Var(x)
    f(x_var).backward()
    forward = f(Dual(x, 1.0)).tangent
    reference = torch_derivative(f_torch, x)
    assert forward == pytest.approx(reference, abs=1e-12)
    assert x_var.grad == pytest.approx(reference, abs=1e-12)
    if expected is not None:
        assert reference == pytest.approx(expected, abs=1e-12)


def test_comparisons_look_at_values_and_equality_stays_identity():
    for make in (Var, lambda v: Dual(v, 1.0)):
        x = make(2.0)
        assert x < 3 and x <= 2 and x > 1.5 and x >= 2 and 3 > x and not x > 2
        assert x < make(2.5) and not make(2.5) < x
        assert x == x and x != make(2.0)  # nodes are kept in sets: == means the same node
        assert len({x, make(2.0)}) == 2


def test_rpow_needs_a_positive_plain_base():
    assert (3.0 ** Dual(2.0, 1.0)).tangent == pytest.approx(9.0 * math.log(3.0), abs=1e-13)
    for base in (0.0, -2.0):
        with pytest.raises(ValueError, match="base > 0"):
            base ** Var(0.5)
    with pytest.raises(ValueError, match="base must be a real number"):
        Var(1.0).__rpow__("2")


def test_invalid_values_and_operands_are_named():
    with pytest.raises(ValueError, match="value must be a real number, got str"):
        Dual("1.0")
    with pytest.raises(ValueError, match="tangent must be a real number"):
        Dual(1.0, [1.0])
    with pytest.raises(ValueError, match="value must be a real number, got list"):
        Var([1.0, 2.0])  # no silent broadcasting
    with pytest.raises(ValueError, match="operand must be a real number"):
        Var(1.0) + "2"
    with pytest.raises(ValueError, match="argument must be a real number"):
        ad.sin("x")
    with pytest.raises(ValueError, match="argument must be a real number"):
        ad.log("x")  # checked before its domain
    with pytest.raises(ValueError, match="same length"):
        Var(1.0, (Var(2.0),), ())


def baydin(x1, x2):
    return ad.log(x1) + x1 * x2 - ad.sin(x2)


def test_baydin_example_both_modes():
    for engine in (forward_gradient, reverse_gradient):
        value, grad = engine(baydin, [2.0, 5.0])
        assert value == pytest.approx(math.log(2) + 10 - math.sin(5), abs=1e-14)
        assert grad == pytest.approx([5.5, 2 - math.cos(5)], abs=1e-14)
        assert round(value, 3) == 11.652 and round(grad[1], 3) == 1.716


def test_returns_exactly_value_and_list():
    for engine in (forward_gradient, reverse_gradient):
        result = engine(baydin, (2, 5))
        assert isinstance(result, tuple) and len(result) == 2
        assert isinstance(result[0], float) and isinstance(result[1], list)
        assert all(isinstance(d, float) for d in result[1])


def test_fan_out_adds_both_contributions():
    x = Var(3.0, name="x")
    y = x * x + ad.sin(x)  # x used three times
    y.backward()
    assert x.grad == pytest.approx(2 * 3.0 + math.cos(3.0), abs=1e-14)
    d = Dual(3.0, 1.0)
    assert (d * d + ad.sin(d)).tangent == pytest.approx(x.grad, abs=1e-14)
    y.backward()  # a second call starts from zero adjoints, it does not double them
    assert x.grad == pytest.approx(2 * 3.0 + math.cos(3.0), abs=1e-14)


def test_chain_5000_operations_deep_has_no_recursion_error():
    depth = 5000
    assert depth > sys.getrecursionlimit() / 2  # deep enough that recursion would fail

    def f(x):
        y = x
        for _ in range(depth):
            y = y + 0.001 * ad.sin(y)
        return y

    ad.reset_counts()
    value, grad = reverse_gradient(f, [0.5])
    assert ad.counts["recorded_ops"] == 3 * depth  # sin, mul by 0.001, add
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(depth):
        y = y + 0.001 * torch.sin(y)
    (g,) = torch.autograd.grad(y, x)
    assert value == pytest.approx(y.item(), rel=1e-12)
    assert grad[0] == pytest.approx(g.item(), rel=1e-10)
    assert forward_gradient(f, [0.5])[1][0] == pytest.approx(g.item(), rel=1e-10)


def test_counts_forward_n_passes_reverse_one():
    n = 7
    f = lambda *xs: sum(xi * xi for xi in xs)  # noqa: E731  (n mul, n add with the start 0)
    ad.reset_counts()
    forward_gradient(f, [1.0] * n)
    # Each mul and each add has two input edges: 4n edges, walked once per pass.
    assert ad.counts == {"forward_passes": n, "dual_ops": n * 2 * n, "dual_edges": n * 4 * n,
                         "recorded_ops": 0, "backward_passes": 0, "backward_edges": 0}
    ad.reset_counts()
    reverse_gradient(f, [1.0] * n)
    assert ad.counts == {"forward_passes": 0, "dual_ops": 0, "dual_edges": 0,
                         "recorded_ops": 2 * n, "backward_passes": 1, "backward_edges": 4 * n}


def test_counts_are_quadratic_for_reverse_mode_when_outputs_share_a_trunk():
    """The path u_j = sin(u_{j-1}) + t: output j depends on all j steps before it (3 edges
    each), so m backward passes visit 3(1 + ... + m) edges; one forward pass visits 3m."""
    for m in (1, 5, 20):
        ad.reset_counts()
        _, jac_rev = ad.reverse_jacobian(lambda t: path(t, m), [0.5])
        assert ad.counts["backward_passes"] == m
        assert ad.counts["backward_edges"] == 3 * m * (m + 1) // 2
        ad.reset_counts()
        _, jac_fwd = ad.forward_jacobian(lambda t: path(t, m), [0.5])
        assert ad.counts["forward_passes"] == 1 and ad.counts["dual_edges"] == 3 * m
        t = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        reference = [torch.autograd.grad(u, t, retain_graph=True)[0].item()
                     for u in path(t, m, sin=torch.sin)]
        for jac in (jac_fwd, jac_rev):
            assert [row[0] for row in jac] == pytest.approx(reference, abs=1e-13)


def path(t, m, sin=ad.sin):
    """The shared trunk u_j = sin(u_{j-1}) + t, j = 1..m, and its m outputs (engine or torch)."""
    u, outputs = t, []
    for _ in range(m):
        u = sin(u) + t
        outputs.append(u)
    return outputs


def test_topological_order_puts_inputs_first():
    a, b = Var(1.0, name="a"), Var(2.0, name="b")
    c = a * b
    d = c + a
    order = ad.topological_order(d)
    assert order[-1] is d and set(order) == {a, b, c, d}
    assert order.index(a) < order.index(c) and order.index(b) < order.index(c)


@pytest.mark.parametrize("make", [Var, lambda v: Dual(v, 1.0)])
def test_clear_errors_instead_of_nan(make):
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        make(1.0) / make(0.0)
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        2.0 / make(0.0)
    with pytest.raises(ValueError, match="log of a non-positive number"):
        ad.log(make(0.0))
    with pytest.raises(ValueError, match="log of a non-positive number"):
        ad.log(make(-1.0))
    with pytest.raises(ZeroDivisionError):
        make(0.0) ** -1
    with pytest.raises(ValueError, match="negative base"):
        make(-8.0) ** (1 / 3)


def test_plain_numbers_and_argument_errors():
    assert ad.log(1.0) == 0.0 and ad.exp(0) == 1.0 and ad.tanh(0.0) == 0.0
    with pytest.raises(ValueError, match="log of a non-positive number"):
        ad.log(0)
    with pytest.raises(ValueError, match="inputs must be a non-empty sequence"):
        forward_gradient(baydin, [])
    with pytest.raises(ValueError, match=r"inputs\[1\] must be a real number"):
        reverse_gradient(baydin, [2.0, "5"])
    with pytest.raises(ValueError, match="f must return one scalar"):
        reverse_gradient(lambda x: [x], [1.0])
    with pytest.raises(TypeError, match="cannot mix"):
        Var(1.0) + Dual(1.0, 1.0)
    with pytest.raises(TypeError, match="plain-number exponent"):
        Var(2.0) ** Var(2.0)
    assert reverse_gradient(lambda x: 3.0, [1.0]) == (3.0, [0.0])  # a constant function


def test_jacobians_agree_and_count_passes():
    def f(x, y, z):  # R^3 -> R^2; the second output does not depend on z
        return [x * y + ad.exp(z), ad.sin(x) - y]

    point = [0.3, -1.2, 0.7]
    jac = torch.func.jacrev(lambda v: torch.stack([v[0] * v[1] + torch.exp(v[2]),
                                                   torch.sin(v[0]) - v[1]]))(
        torch.tensor(point, dtype=torch.float64))
    ad.reset_counts()
    fwd_values, fwd_jac = ad.forward_jacobian(f, point)
    assert ad.counts["forward_passes"] == 3
    ad.reset_counts()
    rev_values, rev_jac = ad.reverse_jacobian(f, point)
    assert ad.counts["backward_passes"] == 2 and ad.counts["forward_passes"] == 0
    assert fwd_values == pytest.approx(rev_values, abs=1e-15)
    for got in (fwd_jac, rev_jac):
        torch.testing.assert_close(torch.tensor(got, dtype=torch.float64), jac,
                                   rtol=0, atol=1e-14)
    assert ad.reverse_jacobian(lambda x: x * x, [3.0]) == ([9.0], [[6.0]])
    with pytest.raises(ValueError, match="non-empty list"):
        ad.forward_jacobian(lambda x: [], [1.0])


def test_draw_graph_shows_the_engine_graph():
    y = baydin(Var(2.0, name="x1"), Var(5.0, name="x2"))
    G = build_graph(y)
    assert G.number_of_nodes() == 7 and G.number_of_edges() == 8  # x1 and x2 are used twice
    ops = sorted(G.nodes[n]["op"] for n in G if G.nodes[n]["kind"] == "op")
    assert ops == ["add", "log", "mul", "sin", "sub"]
    assert {G.nodes[n]["name"] for n in G if G.nodes[n]["kind"] == "leaf"} == {"x1", "x2"}
    fig = draw_graph(y, title="f(x1, x2) = ln x1 + x1·x2 − sin x2")
    assert len(fig.axes) == 1
