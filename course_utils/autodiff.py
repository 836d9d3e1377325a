"""Two teaching engines for automatic differentiation of scalar functions.

- Forward mode: ``Dual(value, tangent)`` carries the derivative along one input direction.
- Reverse mode: ``Var(value)`` records its inputs and local derivatives; ``backward()`` then
  sends adjoints from the output back to every input in one sweep.

Both share ``Scalar``'s rules: ``+ - * / **`` (``x ** p`` for a plain number p, ``b ** x`` for
a plain number b > 0), comparisons by value (``x < 3``, so ``if`` and ``while`` work), and the
functions ``log, exp, sin, cos, tanh, relu``, which also accept plain numbers.
``forward_gradient`` and ``reverse_gradient`` return ``(value, gradient)`` of a scalar function
of scalars; ``forward_jacobian`` and ``reverse_jacobian`` the outputs and Jacobian of a
list-valued one. ``counts`` records the work done, so the two modes can be compared without
timers.

Notebook 02 shows ``Scalar``, ``Dual``, ``Var``, ``topological_order``, ``elementary`` and the
six functions exactly as written here (tests/test_notebook_functions.py checks it). The
decorators are the package's only additions: input checks and work counters, kept out of the
lines a student reads.
"""

import functools
import math
import numbers
from collections.abc import Callable, Sequence

# Work done since the last ``reset_counts()``:
#   forward_passes:  calls of f on Dual inputs (one per input direction)
#   dual_ops:        operations evaluated on Dual numbers
#   dual_edges:      tangent terms those operations summed (one multiply-add per input edge)
#   recorded_ops:    operations recorded in a reverse-mode graph (non-leaf Var objects made)
#   backward_passes: calls of Var.backward()
#   backward_edges:  adjoint terms the backward passes added (one per edge they visited)
counts = {"forward_passes": 0, "dual_ops": 0, "dual_edges": 0, "recorded_ops": 0,
          "backward_passes": 0, "backward_edges": 0}


def reset_counts() -> None:
    """Set every entry of ``counts`` back to zero."""
    for key in counts:
        counts[key] = 0


# ---- The package's additions: checks and counters, run before the decorated function ----

def _before(check: Callable) -> Callable:
    """Decorator: call ``check`` with the function's arguments, then the function."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            check(*args, **kwargs)
            return fn(*args, **kwargs)
        return wrapper
    return decorate


def _real(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a real number, got {type(value).__name__}")
    return float(value)


def _check_dual(self, value, tangent=0.0) -> None:
    _real(value, "value")
    _real(tangent, "tangent")


def _check_var(self, value, inputs=(), local_grads=(), op="", name=None) -> None:
    _real(value, "value")
    if len(inputs) != len(local_grads):
        raise ValueError(f"inputs and local_grads must have the same length, "
                         f"got {len(inputs)} and {len(local_grads)}")


def _check_operand(self, other) -> None:
    if isinstance(other, Scalar) and type(other) is not type(self):
        raise TypeError(f"cannot mix {type(self).__name__} and {type(other).__name__}")
    if not isinstance(other, Scalar):
        _real(other, "operand")


def _check_exponent(self, p) -> None:
    if isinstance(p, Scalar):
        raise TypeError("x ** y needs a plain-number exponent y; write exp(y * log(x))")
    p = _real(p, "exponent")
    if self.value < 0.0 and not p.is_integer():
        raise ValueError(f"{self.value!r} ** {p!r}: a negative base needs an integer exponent")


def _check_base(self, base) -> None:
    if _real(base, "base") <= 0.0:
        raise ValueError(f"{base!r} ** x needs a base > 0 (its derivative is base ** x · ln base)")


def _check_argument(x, op, f, df) -> None:
    if not hasattr(x, "_apply"):  # an engine number (also the notebook's own copy) or a real
        _real(x, "argument")


def _check_log(x) -> None:
    if getattr(x, "value", x) <= 0.0:
        raise ValueError(f"log of a non-positive number: log({x!r}) is undefined")


def _count_dual_op(self, op, value, inputs, local_grads) -> None:
    counts["dual_ops"] += 1
    counts["dual_edges"] += len(inputs)


def _count_recorded_op(self, op, value, inputs, local_grads) -> None:
    counts["recorded_ops"] += 1


def _count_backward(self) -> None:
    counts["backward_passes"] += 1
    counts["backward_edges"] += sum(len(node.inputs) for node in topological_order(self))


# ---- The engines, as notebook 02 shows them ----

class Scalar:
    """A number that knows the local derivatives of every operation applied to it.

    Each operation computes its value and its local derivatives (d result / d input) and hands
    them to ``_apply``: Dual pushes a tangent forward with them, Var records them in a graph.
    """

    def _apply(self, op: str, value: float, inputs: tuple, local_grads: tuple) -> "Scalar":
        raise NotImplementedError

    @_before(_check_operand)
    def _lift(self, other) -> "Scalar":  # a plain number becomes a constant of the same kind
        return other if isinstance(other, Scalar) else type(self)(other)

    def __add__(self, other):
        other = self._lift(other)
        return self._apply("add", self.value + other.value, (self, other), (1.0, 1.0))

    def __sub__(self, other):
        other = self._lift(other)
        return self._apply("sub", self.value - other.value, (self, other), (1.0, -1.0))

    def __mul__(self, other):
        other = self._lift(other)
        return self._apply("mul", self.value * other.value, (self, other),
                           (other.value, self.value))

    def __truediv__(self, other):
        other = self._lift(other)
        return self._apply("div", self.value / other.value, (self, other),
                           (1.0 / other.value, -self.value / other.value ** 2))

    @_before(_check_exponent)
    def __pow__(self, p: float):  # x ** p for a plain number p
        return self._apply(f"pow{p:g}", self.value ** p, (self,), (p * self.value ** (p - 1),))

    @_before(_check_base)
    def __rpow__(self, base: float):  # base ** x for a plain number base > 0
        value = base ** self.value
        return self._apply("rpow", value, (self,), (value * math.log(base),))

    def __neg__(self):
        return self._apply("neg", -self.value, (self,), (-1.0,))

    __radd__ = __add__  # 2 + x is x + 2
    __rmul__ = __mul__

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rtruediv__(self, other):
        return self._lift(other) / self

    # Comparisons look at values only, so Python's if and while work on engine numbers.
    # (== keeps its usual meaning, "the same object": the engine keeps nodes in sets.)
    def __lt__(self, other) -> bool:
        return self.value < getattr(other, "value", other)

    def __le__(self, other) -> bool:
        return self.value <= getattr(other, "value", other)

    def __gt__(self, other) -> bool:
        return self.value > getattr(other, "value", other)

    def __ge__(self, other) -> bool:
        return self.value >= getattr(other, "value", other)


@_before(_check_argument)
def elementary(x, op: str, f: Callable[[float], float], df: Callable[[float], float]):
    """f(x) for a plain number x; for a Dual or a Var, the result that also carries f'(x)."""
    if isinstance(x, numbers.Real):
        return f(x)
    return x._apply(op, f(x.value), (x,), (df(x.value),))


@_before(_check_log)
def log(x):
    """Natural logarithm (x > 0)."""
    return elementary(x, "log", math.log, lambda v: 1.0 / v)


def exp(x):
    """Exponential."""
    return elementary(x, "exp", math.exp, math.exp)


def sin(x):
    """Sine."""
    return elementary(x, "sin", math.sin, math.cos)


def cos(x):
    """Cosine."""
    return elementary(x, "cos", math.cos, lambda v: -math.sin(v))


def tanh(x):
    """Hyperbolic tangent."""
    return elementary(x, "tanh", math.tanh, lambda v: 1.0 - math.tanh(v) ** 2)


def relu(x):
    """max(x, 0), with derivative 0 at x = 0 (as in PyTorch)."""
    return elementary(x, "relu", lambda v: max(v, 0.0), lambda v: 1.0 if v > 0 else 0.0)


class Dual(Scalar):
    """A dual number ``value + tangent·ε`` with ``ε² = 0``: forward-mode differentiation."""

    @_before(_check_dual)
    def __init__(self, value: float, tangent: float = 0.0):
        self.value = value
        self.tangent = tangent

    @_before(_count_dual_op)
    def _apply(self, op, value, inputs, local_grads):
        # Chain rule, forward: the result's tangent is the sum over its inputs of
        # (local derivative) × (the input's tangent).
        return Dual(value, sum(d * x.tangent for d, x in zip(local_grads, inputs)))

    def __repr__(self) -> str:
        return f"Dual(value={self.value:.6g}, tangent={self.tangent:.6g})"


class Var(Scalar):
    """A node of a reverse-mode graph: value, adjoint ``grad``, inputs and local derivatives."""

    @_before(_check_var)
    def __init__(self, value: float, inputs: tuple = (), local_grads: tuple = (),
                 op: str = "", name: str | None = None):
        self.value = value
        self.grad = 0.0
        self.inputs = inputs
        self.local_grads = local_grads
        self.op = op
        self.name = name

    @_before(_count_recorded_op)
    def _apply(self, op, value, inputs, local_grads):
        return Var(value, inputs, local_grads, op)

    @_before(_count_backward)
    def backward(self) -> None:
        """Set ``grad`` of every node to d(self)/d(node), in one sweep from self down.

        Each call starts from zero adjoints (PyTorch instead adds to ``.grad`` across calls).
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):  # every user of a node comes before the node
            for parent, local in zip(node.inputs, node.local_grads):
                parent.grad += node.grad * local  # fan-out: the contributions add up

    def __repr__(self) -> str:
        label = f"{self.name}, " if self.name else ""
        return f"Var({label}value={self.value:.6g}, grad={self.grad:.6g}, op={self.op!r})"


def topological_order(root: Var) -> list[Var]:
    """Every node ``root`` depends on, inputs before the nodes that use them (no recursion)."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((parent, False) for parent in node.inputs if parent not in seen)
    return order


# ---- Gradients and Jacobians of functions of several numbers ----

def _check_inputs(inputs: Sequence) -> list[float]:
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence) or not inputs:
        raise ValueError("inputs must be a non-empty sequence of real numbers")
    return [_real(x, f"inputs[{i}]") for i, x in enumerate(inputs)]


def _output(out, kind: type) -> Scalar:
    if isinstance(out, kind):
        return out
    if isinstance(out, numbers.Real) and not isinstance(out, bool):
        return kind(float(out))  # f did not depend on its inputs: derivative 0
    raise ValueError(f"f must return one scalar (a number or a {kind.__name__}), "
                     f"got {type(out).__name__}")


def _outputs(out, kind: type) -> list[Scalar]:
    items = list(out) if isinstance(out, (list, tuple)) else [out]
    if not items:
        raise ValueError("f must return a scalar or a non-empty list of scalars, got nothing")
    return [_output(item, kind) for item in items]


def forward_jacobian(f: Callable, inputs: Sequence[float]) -> tuple[list[float],
                                                                    list[list[float]]]:
    """``(outputs, J)`` with ``J[i][j] = d out_i / d x_j`` by forward mode.

    f returns one scalar or a list of m. One pass per input fills one column of J.
    """
    xs = _check_inputs(inputs)
    columns = []
    for j in range(len(xs)):
        outs = _outputs(f(*[Dual(x, 1.0 if i == j else 0.0) for i, x in enumerate(xs)]), Dual)
        counts["forward_passes"] += 1
        columns.append(outs)
    jacobian = [[column[i].tangent for column in columns] for i in range(len(columns[0]))]
    return [out.value for out in columns[0]], jacobian


def reverse_jacobian(f: Callable, inputs: Sequence[float]) -> tuple[list[float],
                                                                    list[list[float]]]:
    """``(outputs, J)`` with ``J[i][j] = d out_i / d x_j`` by reverse mode.

    f returns one scalar or a list of m. One recorded pass, then one backward pass per
    output fills one row of J.
    """
    xs = [Var(x, name=f"x{i + 1}") for i, x in enumerate(_check_inputs(inputs))]
    outs = _outputs(f(*xs), Var)
    jacobian = []
    for out in outs:
        for x in xs:  # an input that out does not depend on is outside its graph
            x.grad = 0.0
        out.backward()
        jacobian.append([x.grad for x in xs])
    return [out.value for out in outs], jacobian


def forward_gradient(f: Callable, inputs: Sequence[float]) -> tuple[float, list[float]]:
    """``(f(*inputs), gradient)`` by forward mode: one pass of f per input."""
    (value,), (gradient,) = forward_jacobian(lambda *xs: _output(f(*xs), Dual), inputs)
    return value, gradient


def reverse_gradient(f: Callable, inputs: Sequence[float]) -> tuple[float, list[float]]:
    """``(f(*inputs), gradient)`` by reverse mode: one recorded pass, one backward pass."""
    (value,), (gradient,) = reverse_jacobian(lambda *xs: _output(f(*xs), Var), inputs)
    return value, gradient
