"""The exercises of the six notebooks: their inputs, and references computed from those inputs.

A notebook asks for an exercise's inputs, ``X, y, theta = exercise_inputs("03.1")``, and
``course_utils.checks.check("03.1", answer)`` compares the answer with ``reference("03.1")``,
computed here, another way (autograd, a measurement, a simulation), from the same inputs.
The reference never passes through a cell the student reads. ``mistakes(id)`` maps a hint to the
value a known slip gives, so that feedback can name the slip without naming the answer.

Inputs are the same on every call and on every machine (seeded), and building them or a
reference leaves every random generator and ``autodiff.counts`` as they were.

Titles, hints and the known slips are marked ``N_("...")`` for the message catalogue
``course_utils/locale/zh.po`` and kept in English here; ``course_utils.checks`` translates them
where it shows them (``_(ex.title)``). The process checks translate their messages themselves.
Re-extract the catalogue after changing any of them: ``python scripts/i18n.py update`` (or
``make i18n``; see ``update_course_utils`` there).
"""

import contextlib
import functools
import math
import random
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from course_utils import autodiff as ad
from course_utils.data import data_iter, load_boston_housing, synthetic_data
from course_utils.i18n import _
from course_utils.regression import closed_form, linreg, sgd, squared_loss

TRUE_W, TRUE_B = torch.tensor([2.0, -3.4]), 4.2  # the synthetic data of notebooks 04 to 06


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue (xgettext --keyword=N_); translated where it is shown."""
    return message


@dataclass(frozen=True)
class Exercise:
    """One checked exercise: how to build its inputs and its reference, and what to tell."""

    id: str
    title: str
    data: Callable[[], tuple]                # the inputs, fresh objects on every call
    solve: Callable[..., object]             # the reference, from the inputs
    mistakes: Callable[..., dict] | None = None  # hint -> the value a known slip gives
    hint: str | None = None                  # said with a wrong answer no known slip explains
    rtol: float = 1e-6                       # tolerance relative to the reference's size
    prepare: Callable[[tuple], None] | None = None  # run when the student asks for the inputs
    process: Callable[[object], str | None] | None = None  # a right value made the wrong way


@contextlib.contextmanager
def _isolated(seed: int = 0) -> Iterator[None]:
    """Seed torch, numpy and random inside; restore them and ``ad.counts`` afterwards."""
    py_state, np_state, counts = random.getstate(), np.random.get_state(), dict(ad.counts)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
            ad.counts.update(counts)


def _seeded(seed: int) -> Callable[[Callable[[], tuple]], Callable[[], tuple]]:
    """Decorator: build the inputs inside ``_isolated(seed)``."""
    def decorate(make: Callable[[], tuple]) -> Callable[[], tuple]:
        @functools.wraps(make)
        def wrapper() -> tuple:
            with _isolated(seed):
                return make()
        return wrapper
    return decorate


def _grad(fn: Callable[..., torch.Tensor], *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Autograd: the gradients of the scalar fn(*tensors) with respect to each tensor."""
    leaves = [t.detach().clone().requires_grad_() for t in tensors]
    return torch.autograd.grad(fn(*leaves), leaves)


# ---------------------------------------------------------------- 01: the chain rule, graphs

def _f_d2l(x):
    """d2l's f(x) = log(x^2) sin x + 1/x."""
    return torch.log(x ** 2) * torch.sin(x) + 1 / x


def _derivative_mistakes(x: float) -> dict:
    s, c, lg = math.sin(x), math.cos(x), math.log(x * x)
    return {
        N_("looks like d/dx log(x²) = 1/x²: the chain rule multiplies 1/u by du/dx = 2x"):
            s / x ** 2 + lg * c - 1 / x ** 2,
        N_("looks like d/dx (1/x) = +1/x²: check that sign"): 2 / x * s + lg * c + 1 / x ** 2,
        N_("one term of the product rule is missing: (uv)' = u'v + uv'"): lg * c - 1 / x ** 2,
        N_("the product rule adds u'v and uv'; it does not multiply u' by v'"):
            2 / x * c - 1 / x ** 2,
    }


def _path_contributions(x: float) -> torch.Tensor:
    """d f/dx split by the three uses of x, each found by detaching the other two."""
    def through(keep: str) -> float:
        leaf = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        use = {k: leaf if k == keep else leaf.detach() for k in ("pow", "sin", "reciprocal")}
        f = torch.log(use["pow"] ** 2) * torch.sin(use["sin"]) + 1 / use["reciprocal"]
        (g,) = torch.autograd.grad(f, leaf)
        return g.item()
    return torch.tensor([through("pow"), through("sin"), through("reciprocal")],
                        dtype=torch.float64)


@_seeded(3)
def _data_01_3() -> tuple:
    A = torch.randn(2, 5, dtype=torch.float64)
    B = torch.randn(5, 3, dtype=torch.float64)
    x = torch.randn(3, dtype=torch.float64)
    return A, B, x


def _jacobian_01_3(A, B, x) -> torch.Tensor:
    return torch.autograd.functional.jacobian(lambda v: A @ torch.tanh(B @ v), x)


def _forward_difference_error(x: float, h: float) -> float:
    """|forward difference - f'(x)|, measured in float64."""
    t = torch.tensor(x, dtype=torch.float64)
    (exact,) = _grad(_f_d2l, t)
    return abs(((_f_d2l(t + h) - _f_d2l(t)) / h - exact).item())


def _derivatives(x: float, order: int) -> list[float]:
    """f', f'', ... up to the given order at x, by repeated autograd."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out, values = _f_d2l(t), []
    for _ in range(order):
        (out,) = torch.autograd.grad(out, t, create_graph=True)
        values.append(out.item())
    return values


def _taylor_mistakes(x: float, h: float) -> dict:
    _, f2, f3 = _derivatives(x, 3)
    return {
        N_("twice the leading term: look again at the factor in front of h² f''(x) in "
           "Taylor's expansion"): h * abs(f2),
        N_("that looks like the central difference's error, which involves h² and f'''"):
            h * h * abs(f3) / 6,
        N_("the error must shrink as h does: where did the h go?"): abs(f2) / 2,
    }


# ----------------------------------------------------- 02: forward and reverse accumulation

def _baydin(x1, x2):
    """Baydin et al.'s example f(x1, x2) = ln x1 + x1 x2 - sin x2, for ad's numbers."""
    return ad.log(x1) + x1 * x2 - ad.sin(x2)


def _torch_baydin(x: torch.Tensor) -> torch.Tensor:
    return torch.log(x[0]) + x[0] * x[1] - torch.sin(x[1])


def _ops_per_pass() -> int:
    with _isolated():
        ad.reset_counts()
        _baydin(ad.Dual(2.0, 1.0), ad.Dual(5.0, 0.0))
        return ad.counts["dual_ops"]


_counts_at_start: dict[str, dict[str, int]] = {}  # exercise id -> ad.counts when it started
_hook_calls: dict[str, list[int]] = {}            # exercise id -> gradients w received


def _remember_counts(exercise: str) -> Callable[[tuple], None]:
    def prepare(data: tuple) -> None:
        _counts_at_start[exercise] = dict(ad.counts)
    return prepare


def _since_start(exercise: str, key: str) -> int | None:
    start = _counts_at_start.get(exercise)
    return None if start is None else ad.counts[key] - start[key]


def _one_dual_pass(answer) -> str | None:
    ops = _since_start("02.1", "dual_ops")
    if ops is None:
        return _('run exercise_inputs("02.1") in the exercise cell first')
    per_pass = _ops_per_pass()
    if ops == 0:
        return _("the value is right, but no operation ran on Dual numbers since "
                 'exercise_inputs("02.1"): compute it with one pass of baydin on Dual inputs '
                 "(rerun the exercise cell, then this one)")
    if ops != per_pass:
        return _("the value is right, but the Dual numbers ran {ops} operations, "
                 "{passes:.3g} passes of baydin: one pass, seeded with v, is enough").format(
            ops=ops, passes=ops / per_pass)
    return None


def _dual_sqrt_tangent(value: float, tangent: float) -> float:
    """The tangent of sqrt(value + tangent ε) by PyTorch's forward mode."""
    t, t_dot = (torch.tensor(v, dtype=torch.float64) for v in (value, tangent))
    with warnings.catch_warnings():  # torch's own use of the deprecated torch.jit.script
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated")
        return torch.func.jvp(torch.sqrt, (t,), (t_dot,))[1].item()


def _h_50(*xs):
    """R^50 -> R^3: three outputs sharing the inputs (ad's numbers or torch scalars)."""
    sin = torch.sin if isinstance(xs[0], torch.Tensor) else ad.sin
    return [sum(xs), sum(x * x for x in xs), sin(xs[0] * xs[-1])]


@_seeded(23)
def _data_02_3() -> tuple:
    x = (torch.rand(50, dtype=torch.float64) * 2 - 1).tolist()
    v = [1.5, -2.0, 0.5]
    return _h_50, x, v


def _vjp_50(h, x, v) -> torch.Tensor:
    """vᵀ J by torch's autograd: the gradient of the scalar v · h(x)."""
    v = torch.tensor(v, dtype=torch.float64)
    return _grad(lambda t: torch.stack(h(*t)) @ v, torch.tensor(x, dtype=torch.float64))[0]


def _vjp_mistakes(h, x, v) -> dict:
    return {N_("looks like the rows of the Jacobian added with weight 1: weight row i by v[i]"):
            _vjp_50(h, x, [1.0, 1.0, 1.0])}


def _one_backward_pass(answer) -> str | None:
    passes = _since_start("02.3", "backward_passes")
    if passes is None:
        return _('run exercise_inputs("02.3") in the exercise cell first')
    if passes == 0:
        return _("the value is right, but no backward pass of ad.Var ran since "
                 'exercise_inputs("02.3"): one backward pass from the sum of v[i] times '
                 "output i gives it (rerun the exercise cell, then this one)")
    if passes != 1:
        return _("the value is right, but it took {passes} backward passes: one is "
                 "enough").format(passes=passes)
    return None


@_seeded(24)
def _data_02_4() -> tuple:
    X = torch.randn(4, 3, dtype=torch.float64)
    y = torch.randn(4, 1, dtype=torch.float64)
    W1 = 0.5 * torch.randn(3, 5, dtype=torch.float64)
    b1 = 0.5 * torch.randn(5, dtype=torch.float64)
    W2 = 0.5 * torch.randn(5, 1, dtype=torch.float64)
    b2 = 0.5 * torch.randn(1, dtype=torch.float64)
    return X, y, W1, b1, W2, b2


def _relu_b1_grad(X, y, W1, b1, W2, b2, activation=torch.relu) -> torch.Tensor:
    def loss(b1):
        return ((activation(X @ W1 + b1) @ W2 + b2 - y) ** 2).sum() / (2 * len(X))
    return _grad(loss, b1)[0]


def _relu_mistakes(X, y, W1, b1, W2, b2) -> dict:
    Z = X @ W1 + b1
    Y_hat_bar = (torch.relu(Z) @ W2 + b2 - y) / len(X)
    return {
        N_("looks like the tanh network's gradient: here H = max(Z, 0)"):
            _relu_b1_grad(X, y, W1, b1, W2, b2, activation=torch.tanh),
        N_("looks like ReLU' = 1 everywhere: ReLU' is 0 where Z < 0"):
            (Y_hat_bar @ W2.T).sum(dim=0),
        N_("looks like the adjoint without the 1/n of the loss"): len(X) * _relu_b1_grad(
            X, y, W1, b1, W2, b2),
    }


# ------------------------------------------------------------------------ 03: Boston housing

@functools.cache
def _boston_train() -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Notebook 03's training split: 12 features (B left out), MEDV in thousands of dollars."""
    boston = load_boston_housing()
    names = [c for c in boston.columns if c not in ("B", "MEDV")]
    X_all = torch.tensor(boston[names].to_numpy())
    y_all = torch.tensor(boston["MEDV"].to_numpy())
    perm = torch.randperm(len(X_all), generator=torch.Generator().manual_seed(42))
    return X_all[perm[101:]], y_all[perm[101:]], names


def _augment(X: torch.Tensor) -> torch.Tensor:
    return torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)


def _standardized() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    X, y, _ = _boston_train()
    mean, std = X.mean(dim=0), X.std(dim=0)
    return _augment((X - mean) / std), y.clone(), mean, std


@_seeded(31)
def _data_03_1() -> tuple:
    S, y, _, _ = _standardized()
    fit = torch.linalg.lstsq(S, y.reshape(-1, 1), driver="gelsd").solution.flatten()
    return S, y, fit + torch.randn(S.shape[1], dtype=torch.float64)  # residuals of both signs


def _abs_loss_mistakes(S, y, theta) -> dict:
    by_autograd = _grad(lambda t: (S @ t - y).abs().mean(), theta)[0]
    return {
        N_("looks like the notes' sign: the residual is x·θ − y, not y − x·θ"):
            -by_autograd,
        N_("looks like a sum over the examples: the loss is a mean"): len(y) * by_autograd,
        N_("looks like the squared loss's gradient: here the loss is |x·θ − y|"):
            S.T @ (S @ theta - y) / len(y),
    }


def _data_03_2() -> tuple:
    X, _, _ = _boston_train()
    return (_augment(X),)


def _top_eigenvalue(H: torch.Tensor, num_iters: int = 500) -> float:
    """lambda_max of a symmetric positive semi-definite H by power iteration."""
    v = torch.ones(len(H), dtype=H.dtype)
    for _ in range(num_iters):
        v = H @ v
        v = v / v.norm()
    return (v @ H @ v).item()


def _stable_lr(A: torch.Tensor) -> float:
    return 2 / _top_eigenvalue(A.T @ A / len(A))


def _stable_lr_mistakes(A) -> dict:
    H = A.T @ A / len(A)
    return {
        N_("that is 1/λ_max, the fast step; gradient descent stays stable up to 2/λ_max"):
            1 / _top_eigenvalue(H),
        N_("the Hessian of the mean loss is AᵀA / n: did you leave out the 1/n?"):
            2 / _top_eigenvalue(A.T @ A),
        N_("the largest eigenvalue, not the smallest, limits the step"):
            2 / torch.linalg.eigvalsh(H)[0].item(),
    }


def _data_03_3() -> tuple:
    X, y, names = _boston_train()
    w, b = closed_form(X, y)
    return w, b, names, {"RM": 0.5, "LSTAT": -4.0}


def _price_change(w, b, names, change) -> float:
    X, _, _ = _boston_train()
    moved = X[:1].clone()
    for name, step in change.items():
        moved[0, names.index(name)] += step
    return 1000 * (linreg(moved, w, b) - linreg(X[:1], w, b)).item()


def _price_mistakes(w, b, names, change) -> dict:
    flipped = {name: -step for name, step in change.items()}
    return {
        N_("MEDV is in thousands of dollars: give the change in dollars"):
            _price_change(w, b, names, change) / 1000,
        N_("the signs of the two changes are swapped round: more rooms, fewer LSTAT points"):
            _price_change(w, b, names, flipped),
    }


@_seeded(34)
def _data_03_4() -> tuple:
    S, y, mean, std = _standardized()
    fit = torch.linalg.lstsq(S, y.reshape(-1, 1), driver="gelsd").solution.flatten()
    return fit + 0.5 * torch.randn(len(fit), dtype=torch.float64), mean, std  # not the optimum


def _raw_coefficients(theta, mean, std) -> torch.Tensor:
    """[w; b] for raw features that predict what theta predicts on standardized ones (lstsq)."""
    X, _, _ = _boston_train()
    S = _augment((X - mean) / std)
    return torch.linalg.lstsq(_augment(X), S @ theta, driver="gelsd").solution


def _raw_mistakes(theta, mean, std) -> dict:
    w = theta[:-1] / std
    return {
        N_("dividing by s_j is right for the weights; the bias must also absorb "
           "−Σ θ_j m_j / s_j"):
            torch.cat([w, theta[-1:]]),
        N_("a weight for raw x_j is θ_j / s_j (x_j was divided by s_j), not θ_j · s_j"):
            torch.cat([theta[:-1] * std,
                       (theta[-1] - (theta[:-1] * mean * std).sum()).reshape(1)]),
    }


# ---------------------------------------------------------- 04: linear regression from scratch

@_seeded(41)
def _synthetic() -> tuple[torch.Tensor, torch.Tensor]:
    return synthetic_data(TRUE_W, TRUE_B, 1000)


def _data_04_1() -> tuple:
    features, labels = _synthetic()
    return features[20:30], labels[20:30], torch.tensor([[0.5], [-1.0]]), 0.3


def _summed_loss_grad(X, y, w, b) -> torch.Tensor:
    return _grad(lambda w: squared_loss(linreg(X, w, b), y).sum(), w)[0]


def _summed_grad_mistakes(X, y, w, b) -> dict:
    g = _summed_loss_grad(X, y, w, b)
    return {N_("looks like the mean over the batch: this loss is summed"): g / len(X),
            N_("looks like the notes' sign: the residual is Xw + b − y"): -g}


def _data_04_2() -> tuple:
    return 1013, 32


def _last_batch_fraction(num_examples: int, batch_size: int) -> float:
    """The notes' last-batch step over the mean-gradient step, measured with sgd itself."""
    with _isolated(42):
        X, y = synthetic_data(TRUE_W, TRUE_B, num_examples)
        last_X, last_y = list(data_iter(batch_size, X, y))[-1]
    steps = []
    for divide_by in (batch_size, len(last_y)):
        p = torch.zeros(2, 1, requires_grad=True)
        squared_loss(linreg(last_X, p, 0.0), last_y).sum().backward()
        sgd([p], 0.03, divide_by)
        steps.append(p.detach().norm())
    return float(steps[0] / steps[1])


def _fraction_mistakes(num_examples: int, batch_size: int) -> dict:
    r = _last_batch_fraction(num_examples, batch_size)
    return {N_("that is the inverse: the step divides by batch_size, too large a number"): 1 / r,
            N_("that is the part of the step that is missing"): 1 - r}


def _data_04_3() -> tuple:
    return 0.05, 1_000_000


def _noise_floor(sigma: float, num_examples: int) -> float:
    """The mean loss of the true parameters on fresh labels with noise sigma, measured."""
    with _isolated(43):
        X = torch.randn(num_examples, 2)
        y = X @ TRUE_W.reshape(2, 1) + TRUE_B + sigma * torch.randn(num_examples, 1)
    return squared_loss(linreg(X, TRUE_W.reshape(2, 1), TRUE_B), y).mean().item()


def _noise_mistakes(sigma: float, num_examples: int) -> dict:
    return {N_("the loss has a ½: the mean of ½ε² is half the noise variance"): sigma ** 2,
            N_("the mean of ε² is the variance σ², not σ"): sigma / 2}


def _data_04_4() -> tuple:
    features, labels = _synthetic()
    return features[:10], labels[:10], 0.03


def _first_step(X, y, lr) -> torch.Tensor:
    w, b = torch.zeros(2, 1, requires_grad=True), torch.zeros(1, requires_grad=True)
    squared_loss(linreg(X, w, b), y).sum().backward()
    sgd([w, b], lr, len(y))
    return w.detach()


def _first_step_mistakes(X, y, lr) -> dict:
    w = _first_step(X, y, lr)
    return {N_("the step went uphill: SGD subtracts lr times the gradient"): -w,
            N_("the notes' sgd divides the summed gradient by the batch size"): len(y) * w}


# ------------------------------------------------------------- 05: the concise implementation

@_seeded(51)
def _data_05_1() -> tuple:
    features, labels = _synthetic()
    return features[:16], labels[:16], 0.05


def _summed_lr(X, y, lr) -> float:
    net = nn.Linear(2, 1)
    g_mean = _grad(lambda w: nn.MSELoss()(X @ w.T + net.bias, y), net.weight.detach())[0]
    g_sum = _grad(lambda w: nn.MSELoss(reduction="sum")(X @ w.T + net.bias, y),
                  net.weight.detach())[0]
    return lr * (g_mean.norm() / g_sum.norm()).item()


def _summed_lr_mistakes(X, y, lr) -> dict:
    return {N_("the summed loss's gradient is larger, so the rate must be smaller, not larger"):
            lr * len(X),
            N_("with the same rate the summed loss takes batch-size times longer steps"): lr}


def _data_05_2() -> tuple:
    features, labels = _synthetic()
    return features[:10], labels[:10], torch.tensor([[0.5, -2.0]]), 1.0


def _mse_weight_grad(X, y, W, b) -> torch.Tensor:
    return _grad(lambda W: nn.MSELoss()(X @ W.T + b, y), W)[0]


def _mse_mistakes(X, y, W, b) -> dict:
    g = _mse_weight_grad(X, y, W, b)
    return {N_("nn.MSELoss has no ½: its gradient is twice that of ½(ŷ − y)²"): g / 2,
            N_("nn.MSELoss averages over the batch: that looks like a sum"): len(X) * g}


def _data_05_3() -> tuple:
    features, labels = _synthetic()
    return features[:10], labels[:10], torch.tensor([[1.0, -1.0]]), 0.5, 0.03, 3


def _train_05(X, y, W, b, lr, num_steps, zero_grad: bool) -> torch.Tensor:
    net = nn.Linear(2, 1)
    with torch.no_grad():
        net.weight.copy_(W)
        net.bias.fill_(b)
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for _ in range(num_steps):
        if zero_grad:
            trainer.zero_grad()
        nn.MSELoss()(net(X), y).backward()
        trainer.step()
    return net.weight.detach()


def _forgot_zero_grad(X, y, W, b, lr, num_steps) -> torch.Tensor:
    return _train_05(X, y, W, b, lr, num_steps, zero_grad=False)


def _zero_grad_mistakes(X, y, W, b, lr, num_steps) -> dict:
    return {N_("looks like the weight after correct steps: without zero_grad each backward() "
               "adds its gradient to all the earlier ones"):
            _train_05(X, y, W, b, lr, num_steps, True)}


@_seeded(54)
def _data_05_4() -> tuple:
    features, labels = _synthetic()
    X, y = features[:8], labels[:8].clone()
    y[[2, 5]] += 10.0  # two outliers
    return X, y, torch.tensor([[1.5, -2.5]]), 3.0


def _huber_weight_grad(X, y, W, b, loss=nn.HuberLoss(delta=1.0)) -> torch.Tensor:
    return _grad(lambda W: loss(X @ W.T + b, y), W)[0]


def _huber_mistakes(X, y, W, b) -> dict:
    return {N_("looks like nn.MSELoss's gradient: Huber caps each residual's pull at delta"):
            _huber_weight_grad(X, y, W, b, nn.MSELoss()),
            N_("nn.HuberLoss averages over the batch: that looks like a sum"):
            len(X) * _huber_weight_grad(X, y, W, b)}


# ------------------------------------------------------------------------- 06: questions, answers

@_seeded(61)
def _data_06_1() -> tuple:
    y_hat = torch.randn(4) * 2
    return y_hat, y_hat + torch.tensor([2.37, -0.64, 0.21, -3.05]), 1.5


def _huber_grad(y_hat, y, delta) -> torch.Tensor:
    return _grad(lambda t: nn.HuberLoss(delta=delta, reduction="sum")(t, y), y_hat)[0]


def _huber_grad_mistakes(y_hat, y, delta) -> dict:
    g = _huber_grad(y_hat, y, delta)
    return {N_("looks like delta = 1, nn.HuberLoss's default: use the delta of the inputs"):
            _huber_grad(y_hat, y, 1.0),
            N_("the residual is r = ŷ − y: that looks like y − ŷ"): -g,
            N_("the loss is summed over the examples: that looks like a mean"): g / len(y)}


@_seeded(62)
def _data_06_2() -> tuple:
    return (torch.randn(11) * 2 + 1,)


def _abs_minimum(samples) -> torch.Tensor:
    """(c*, mean |y - c*|): the best constant under the absolute loss, by trying every sample."""
    totals = torch.stack([(samples - c).abs().mean() for c in samples])
    return torch.stack([samples[totals.argmin()], totals.min()])


def _abs_minimum_mistakes(samples) -> dict:
    mean = samples.mean()
    best = _abs_minimum(samples)
    return {N_("the mean minimises the squared loss; the absolute loss wants another statistic"):
            torch.stack([mean, (samples - mean).abs().mean()]),
            N_("the loss value should be a mean over the samples, not a sum"):
            torch.stack([best[0], len(samples) * best[1]])}


@_seeded(63)
def _data_06_3() -> tuple:
    features, _ = synthetic_data(TRUE_W, TRUE_B, 1000)
    X1 = torch.cat([features, torch.ones(len(features), 1)], dim=1)
    return (X1 * torch.tensor([1.0, 10.0, 1.0]),)


def _stable_lr_06(X) -> float:
    """2 / lambda_max of the autograd Hessian of the mean loss, by power iteration."""
    H = torch.autograd.functional.hessian(
        lambda t: 0.5 * ((X @ t) ** 2).mean(), torch.zeros(X.shape[1]))
    return 2 / _top_eigenvalue(H)


def _stable_lr_06_mistakes(X) -> dict:
    unscaled = X / torch.tensor([1.0, 10.0, 1.0])
    return {**_stable_lr_mistakes(X),
            N_("looks like the limit of the unscaled features: ex3's second column is 10 "
               "times larger"): _stable_lr(unscaled)}


@_seeded(64)
def _data_06_4() -> tuple:
    features, labels = synthetic_data(TRUE_W, TRUE_B, 100)
    w = torch.tensor([[1.0], [-1.0]], requires_grad=True)
    return features, labels, w, torch.zeros(1, requires_grad=True), (40, 30, 20, 10)


def _count_gradients(data: tuple) -> None:
    calls = _hook_calls["06.4"] = [0]
    data[2].register_hook(lambda grad: calls.__setitem__(0, calls[0] + 1))


def _mean_loss_grad(X, y, w, b, sizes) -> torch.Tensor:
    with torch.no_grad():
        return X.T @ (X @ w + b - y) / len(X)


def _accumulation_mistakes(X, y, w, b, sizes) -> dict:
    parts, start = [], 0
    for size in sizes:
        Xp, yp = X[start:start + size], y[start:start + size]
        parts.append(_mean_loss_grad(Xp, yp, w, b, sizes))
        start += size
    return {N_("looks like the average of the micro-batch means: weight each by its size"):
            sum(parts) / len(parts),
            N_("looks like the sum of the micro-batch means: weight each by size / 100"):
            sum(parts),
            N_("looks like the gradient of the summed loss: the mean divides by 100"):
            len(X) * _mean_loss_grad(X, y, w, b, sizes)}


def _four_backward_passes(answer) -> str | None:
    calls = _hook_calls.get("06.4", [None])[0]
    if calls is None:
        return _('run exercise_inputs("06.4") in the exercise cell first')
    if calls != 4:
        return _("the value is right, but w received its gradient in {calls} backward "
                 "pass(es): the exercise asks for one per micro-batch, accumulated in "
                 "w.grad").format(calls=calls)
    return None


@_seeded(65)
def _data_06_5() -> tuple:
    features, labels = synthetic_data(TRUE_W, TRUE_B, 1000)
    X1 = torch.cat([features, torch.ones(len(features), 1)], dim=1)
    return X1, labels, torch.tensor([[0.5], [-1.0], [1.0]]), 16


def _minibatch_std(X1, y, theta, batch_size) -> torch.Tensor:
    """The standard deviation of a minibatch gradient of B examples drawn with replacement."""
    per_example = X1 * (X1 @ theta - y)
    return per_example.std(dim=0, unbiased=False) / math.sqrt(batch_size)


def _minibatch_mistakes(X1, y, theta, batch_size) -> dict:
    std = _minibatch_std(X1, y, theta, batch_size)
    return {N_("that is the spread of one example's gradient: a mean of B examples varies less"):
            std * math.sqrt(batch_size),
            N_("the spread of a mean of B independent draws falls like 1/√B, not 1/B"):
            std / math.sqrt(batch_size)}


@_seeded(66)
def _data_06_6() -> tuple:
    features, labels = synthetic_data(TRUE_W, TRUE_B, 20)
    w = torch.tensor([[0.5], [0.5]], requires_grad=True)
    return features, labels, w, torch.zeros(1, requires_grad=True), 0.1, 3


def _gd_steps(X, y, w, b, lr, num_steps, accumulate: bool = False) -> torch.Tensor:
    """num_steps of gradient descent on the mean squared loss, by the explicit formula."""
    w, b = w.detach().clone(), b.detach().clone()
    grad_w, grad_b = torch.zeros_like(w), torch.zeros_like(b)
    for _ in range(num_steps):
        r = X @ w + b - y
        step_w, step_b = X.T @ r / len(X), r.mean(dim=0)
        grad_w, grad_b = (grad_w + step_w, grad_b + step_b) if accumulate else (step_w, step_b)
        w, b = w - lr * grad_w, b - lr * grad_b
    return w


def _gd_mistakes(X, y, w, b, lr, num_steps) -> dict:
    return {N_("looks like the gradients accumulated: zero w.grad and b.grad after each step"):
            _gd_steps(X, y, w, b, lr, num_steps, accumulate=True)}


def _trainable_leaf(answer) -> str | None:
    if not isinstance(answer, torch.Tensor):
        return _("the value is right: now give w itself, the tensor your loop trained")
    if answer.grad_fn is not None:
        return _("the value is right, but autograd recorded the update (w has a grad_fn): "
                 "update inside torch.no_grad(), or rebind w to a detached copy")
    if not answer.requires_grad:
        return _("the value is right, but w no longer requires grad, so a next backward() "
                 "could not reach it: keep it a leaf with requires_grad=True")
    return None


@_seeded(67)
def _data_06_7() -> tuple:
    Xn = torch.rand(200, 2) * 4 - 2
    return Xn, 1 + torch.sin(Xn[:, :1]) * Xn[:, 1:], 0.2, 5


def _zero_init_bias(Xn, yn, lr, num_steps, half: bool = False) -> float:
    """The output bias of a 2-4-1 tanh network started at zero, after num_steps of GD."""
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
    for _ in range(num_steps):
        loss = nn.functional.mse_loss(net(Xn), yn) / (2 if half else 1)
        net.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in net.parameters():
                p -= lr * p.grad
    return net[2].bias.item()


def _zero_init_mistakes(Xn, yn, lr, num_steps) -> dict:
    return {N_("that is where the bias is heading, the mean of yn; after a few steps it is "
               "not there yet"): yn.mean().item(),
            N_("mse_loss has no ½: the bias's gradient is 2 (b − mean of yn)"):
            _zero_init_bias(Xn, yn, lr, num_steps, half=True)}


# ---------------------------------------------------------------------------------- registry

EXERCISES = {ex.id: ex for ex in [
    Exercise("01.1", N_("the derivative"), lambda: (2.0,), lambda x: _grad(
        _f_d2l, torch.tensor(x, dtype=torch.float64))[0].item(), _derivative_mistakes,
        hint=N_("product rule for log(x²)·sin x, chain rule for log(x²)"), rtol=1e-5),
    Exercise("01.2", N_("the paths through the graph"), lambda: (3.0,), _path_contributions,
             hint=N_("the contribution of one use of x is its local derivative chained up to "
                     "f, with the other two uses held constant"), rtol=1e-5),
    Exercise("01.3", N_("a vector chain rule by hand"), _data_01_3, _jacobian_01_3,
             lambda A, B, x: {
                 N_("the derivative of tanh, the diagonal factor diag(1 − tanh²(Bx)), is "
                    "missing"):
                     A @ B,
                 N_("diag(tanh(Bx)) is not the derivative of tanh: tanh' = 1 − tanh²"):
                     A @ torch.diag(torch.tanh(B @ x)) @ B},
             hint=N_("three factors: (2, 5), (5, 5), (5, 3)"), rtol=1e-5),
    Exercise("01.4", N_("predicting a finite difference's error"), lambda: (1.5, 1e-3),
             _forward_difference_error, _taylor_mistakes,
             hint=N_("Taylor: f(x + h) = f(x) + h f'(x) + h² f''(x)/2 + ..."), rtol=5e-3),
    Exercise("02.1", N_("one forward pass, any direction"), lambda: ((2.0, 5.0), (1.5, -0.5)),
             lambda point, v: float(_grad(_torch_baydin, torch.tensor(
                 point, dtype=torch.float64))[0] @ torch.tensor(v, dtype=torch.float64)),
             lambda point, v: {N_("looks like the tangents went to the wrong inputs: x1 "
                                  "gets v[0], x2 gets v[1]"): _grad(_torch_baydin, torch.tensor(
                                   point, dtype=torch.float64))[0].flip(0) @ torch.tensor(
                                   v, dtype=torch.float64)},
             hint=N_("seed each input's tangent with the matching entry of v"), rtol=1e-9,
             prepare=_remember_counts("02.1"), process=_one_dual_pass),
    Exercise("02.2", N_("the dual-number rule for a new function"), lambda: (3.0, 0.7),
             _dual_sqrt_tangent,
             lambda a, b: {N_("that is the derivative of √a alone: multiply it by the "
                              "incoming tangent"): 1 / (2 * math.sqrt(a)),
                           N_("the derivative of √a is 1/(2√a): that looks like 1/√a"):
                               b / math.sqrt(a)},
             hint=N_("g(a + bε) = g(a) + g'(a) b ε"), rtol=1e-9),
    Exercise("02.3", N_("a vector-Jacobian product in one backward pass"), _data_02_3, _vjp_50,
             _vjp_mistakes, hint=N_("v·h(x) is one scalar: its gradient is vᵀJ"), rtol=1e-9,
             prepare=_remember_counts("02.3"), process=_one_backward_pass),
    Exercise("02.4", N_("backpropagation through ReLU"), _data_02_4, _relu_b1_grad, _relu_mistakes,
             hint=N_("the bias adjoint sums Z̄ over the examples; ReLU' is an indicator"),
             rtol=1e-9),
    Exercise("03.1", N_("the absolute loss"), _data_03_1,
             lambda S, y, theta: _grad(lambda t: (S @ t - y).abs().mean(), theta)[0],
             _abs_loss_mistakes, hint=N_("d|u|/du = sign(u); the gradient has one entry "
                                         "per column of S")),
    Exercise("03.2", N_("why standardize before gradient descent"), _data_03_2, _stable_lr,
             _stable_lr_mistakes, hint=N_("the bound of section 3.1 with the Hessian AᵀA / n")),
    Exercise("03.3", N_("a prediction in dollars"), _data_03_3, _price_change, _price_mistakes,
             hint=N_("a weight is thousands of dollars per unit of its feature")),
    Exercise("03.4", N_("from standardized back to raw units"), _data_03_4, _raw_coefficients,
             _raw_mistakes, hint=N_("the bias absorbs −Σ_j θ_j m_j / s_j")),
    Exercise("04.1", N_("the gradient by hand"), _data_04_1, _summed_loss_grad,
             _summed_grad_mistakes, hint=N_("the residual Xw + b − y; shape (2, 1)"), rtol=1e-5),
    Exercise("04.2", N_("the short batch"), _data_04_2, _last_batch_fraction, _fraction_mistakes,
             hint=N_("how many examples does the last batch hold?"), rtol=1e-5),
    Exercise("04.3", N_("the noise floor"), _data_04_3, _noise_floor, _noise_mistakes,
             hint=N_("what is the mean of ε²?"), rtol=0.01),
    Exercise("04.4", N_("the first step from zero"), _data_04_4, _first_step, _first_step_mistakes,
             hint=N_("the gradient at w = 0, b = 0 is −Xᵀy (summed loss)"), rtol=1e-5),
    Exercise("05.1", N_("a summed loss"), _data_05_1, _summed_lr, _summed_lr_mistakes,
             hint=N_("the sum over a batch is batch-size times the mean"), rtol=1e-5),
    Exercise("05.2", N_("the gradient by hand"), _data_05_2, _mse_weight_grad, _mse_mistakes,
             hint=N_("no ½, a mean, and nn.Linear's weight has shape (out, in)"), rtol=1e-5),
    Exercise("05.3", N_("forgetting zero_grad"), _data_05_3, _forgot_zero_grad, _zero_grad_mistakes,
             hint=N_("backward() adds into .grad; the step uses whatever .grad holds"), rtol=1e-5),
    Exercise("05.4", N_("the Huber loss"), _data_05_4, _huber_weight_grad, _huber_mistakes,
             hint=N_("which residuals are larger than delta?"), rtol=1e-5),
    Exercise("06.1", N_("a Huber gradient by hand"), _data_06_1, _huber_grad, _huber_grad_mistakes,
             hint=N_("h_δ'(r) = clip(r, −δ, δ) with r = ŷ − y"), rtol=1e-5),
    Exercise("06.2", N_("the absolute loss's constant"), _data_06_2, _abs_minimum,
             _abs_minimum_mistakes, hint=N_("which statistic balances the signs of y_i − c?"),
             rtol=1e-5),
    Exercise("06.3", N_("a learning rate limit"), _data_06_3, _stable_lr_06, _stable_lr_06_mistakes,
             hint=N_("the largest eigenvalue of H = XᵀX / n"), rtol=1e-5),
    Exercise("06.4", N_("accumulating a mean"), _data_06_4, _mean_loss_grad, _accumulation_mistakes,
             hint=N_("a micro-batch of size k contributes k/100 of its mean"), rtol=1e-5,
             prepare=_count_gradients, process=_four_backward_passes),
    Exercise("06.5", N_("the batch size and the noise"), _data_06_5, _minibatch_std,
             _minibatch_mistakes, hint=N_("the spread of a mean of B independent draws"),
             rtol=0.05),
    Exercise("06.6", N_("an update autograd must not record"), _data_06_6, _gd_steps, _gd_mistakes,
             hint=N_("three steps w ← w − lr ∇w of the mean loss"), rtol=1e-5,
             process=_trainable_leaf),
    Exercise("06.7", N_("zero initialisation"), _data_06_7, _zero_init_bias, _zero_init_mistakes,
             hint=N_("with every parameter 0, which gradients are not zero?"), rtol=1e-5),
]}


def get(exercise: str) -> Exercise:
    """The registered exercise with this id ("03.1"); a ValueError names the known ones."""
    if exercise not in EXERCISES:
        raise ValueError(f"exercise must be one of {', '.join(EXERCISES)}, got {exercise!r}")
    return EXERCISES[exercise]


def notebook_exercises(notebook: str) -> list[str]:
    """The ids of a notebook's exercises ("03" -> ["03.1", ...])."""
    return [key for key in EXERCISES if key.split(".")[0] == notebook]


def exercise_inputs(exercise: str):
    """The inputs of an exercise: one object, or a tuple to unpack."""
    ex = get(exercise)
    data = ex.data()
    if ex.prepare is not None:
        ex.prepare(data)
    return data[0] if len(data) == 1 else data


@functools.cache
def reference(exercise: str):
    """The exercise's answer, computed from its inputs (for the checker, not for a notebook)."""
    ex = get(exercise)
    with _isolated():
        return ex.solve(*ex.data())


@functools.cache
def mistakes(exercise: str) -> dict:
    """Hint -> the value a known slip gives, for this exercise's inputs."""
    ex = get(exercise)
    if ex.mistakes is None:
        return {}
    with _isolated():
        return ex.mistakes(*ex.data())
