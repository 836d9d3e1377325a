"""Two teaching engines for automatic differentiation of scalar functions.

- Forward mode: ``Dual(value, tangent)`` carries the derivative along one input direction.
- Reverse mode: ``Var(value)`` records its inputs and local derivatives; ``backward()`` then
  sends adjoints from the output back to every input in one sweep.

Both support ``+ - * / **`` (``**`` with a plain-number exponent) and the module-level
``log, exp, sin, cos, tanh``, which also accept plain numbers. ``forward_gradient`` and
``reverse_gradient`` return ``(value, gradient)`` of a scalar function of scalars;
``forward_jacobian`` and ``reverse_jacobian`` the outputs and Jacobian of a list-valued one.
``counts`` records the work done (passes and operations), so the cost of the two modes can be
counted without timers.
"""

import math
import numbers
from collections.abc import Callable, Sequence

# Work done since the last ``reset_counts()``:
#   forward_passes:  calls of f on Dual inputs (one per input direction)
#   dual_ops:        elementary operations evaluated on Dual numbers
#   recorded_ops:    operations recorded in a reverse-mode graph (non-leaf Var objects made)
#   backward_passes: calls of Var.backward()
counts = {"forward_passes": 0, "dual_ops": 0, "recorded_ops": 0, "backward_passes": 0}


def reset_counts() -> None:
    """Set every entry of ``counts`` back to zero."""
    for key in counts:
        counts[key] = 0


def _real(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a real number, got {type(value).__name__}")
    return float(value)


class _Scalar:
    """Arithmetic shared by Dual and Var; each subclass says how to combine derivatives."""

    value: float

    def _lift(self, other) -> "_Scalar":
        if isinstance(other, type(self)):
            return other
        if isinstance(other, _Scalar):
            raise TypeError(f"cannot mix {type(self).__name__} and {type(other).__name__}")
        return type(self)(_real(other, "operand"))

    def _apply(self, op: str, value: float, args: tuple, partials: tuple) -> "_Scalar":
        raise NotImplementedError

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
        if other.value == 0.0:
            raise ZeroDivisionError(f"division by zero: {self.value!r} / 0.0")
        inv = 1.0 / other.value
        return self._apply("div", self.value / other.value, (self, other),
                           (inv, -self.value * inv * inv))

    def __pow__(self, exponent):
        if isinstance(exponent, _Scalar):
            raise TypeError("** needs a plain-number exponent; write exp(y * log(x)) for x ** y")
        p = _real(exponent, "exponent")
        x = self.value
        if x == 0.0 and p < 1.0 and p != 0.0:
            raise ZeroDivisionError(f"0.0 ** {p!r}: the power or its derivative divides by zero")
        if x < 0.0 and not p.is_integer():
            raise ValueError(f"{x!r} ** {p!r}: a negative base needs an integer exponent")
        return self._apply(f"pow{p:g}", x ** p, (self,), (p * x ** (p - 1.0) if p else 0.0,))

    def __radd__(self, other):
        return self._lift(other) + self

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rmul__(self, other):
        return self._lift(other) * self

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __neg__(self):
        return self._apply("neg", -self.value, (self,), (-1.0,))


class Dual(_Scalar):
    """A dual number ``value + tangent·ε`` with ``ε² = 0``: forward-mode differentiation."""

    def __init__(self, value: float, tangent: float = 0.0):
        self.value = _real(value, "value")
        self.tangent = _real(tangent, "tangent")

    def _apply(self, op, value, args, partials):
        counts["dual_ops"] += 1
        return Dual(value, sum(d * a.tangent for d, a in zip(partials, args)))

    def __repr__(self) -> str:
        return f"Dual(value={self.value:.6g}, tangent={self.tangent:.6g})"


class Var(_Scalar):
    """A node of a reverse-mode graph: value, adjoint ``grad``, inputs and local derivatives."""

    def __init__(self, value: float, inputs: tuple = (), local_grads: tuple = (), op: str = "",
                 name: str | None = None):
        if len(inputs) != len(local_grads):
            raise ValueError(f"inputs and local_grads must have the same length, "
                             f"got {len(inputs)} and {len(local_grads)}")
        self.value = _real(value, "value")
        self.grad = 0.0
        self.inputs = tuple(inputs)
        self.local_grads = tuple(local_grads)
        self.op = op
        self.name = name
        if inputs:
            counts["recorded_ops"] += 1

    def _apply(self, op, value, args, partials):
        return Var(value, args, partials, op)

    def backward(self) -> None:
        """Set ``grad`` of every node to d(self)/d(node).

        Each call starts from zero adjoints (PyTorch instead adds to ``.grad`` across calls).
        Within the sweep adjoints accumulate with ``+=``: a node used twice gets both terms.
        """
        counts["backward_passes"] += 1
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):  # consumers before their inputs
            for parent, local in zip(node.inputs, node.local_grads):
                parent.grad += node.grad * local

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


def _unary(x, op: str, f: Callable[[float], float], df: Callable[[float], float]):
    if isinstance(x, _Scalar):
        return x._apply(op, f(x.value), (x,), (df(x.value),))
    return f(_real(x, "argument"))


def _check_log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"log of a non-positive number: log({x!r}) is undefined")
    return math.log(x)


def log(x):
    """Natural logarithm; raises ValueError for x <= 0."""
    return _unary(x, "log", _check_log, lambda v: 1.0 / v)


def exp(x):
    """Exponential."""
    return _unary(x, "exp", math.exp, math.exp)


def sin(x):
    """Sine."""
    return _unary(x, "sin", math.sin, math.cos)


def cos(x):
    """Cosine."""
    return _unary(x, "cos", math.cos, lambda v: -math.sin(v))


def tanh(x):
    """Hyperbolic tangent."""
    return _unary(x, "tanh", math.tanh, lambda v: 1.0 - math.tanh(v) ** 2)


def _check_inputs(inputs: Sequence) -> list[float]:
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence) or not inputs:
        raise ValueError("inputs must be a non-empty sequence of real numbers")
    return [_real(x, f"inputs[{i}]") for i, x in enumerate(inputs)]


def _output(out, kind: type) -> _Scalar:
    if isinstance(out, kind):
        return out
    if isinstance(out, numbers.Real) and not isinstance(out, bool):
        return kind(float(out))  # f did not depend on its inputs: derivative 0
    raise ValueError(f"f must return one scalar (a number or a {kind.__name__}), "
                     f"got {type(out).__name__}")


def _outputs(out, kind: type) -> list[_Scalar]:
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
