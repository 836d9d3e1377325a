"""Definitions a notebook writes out by hand and course_utils also holds (d2l's ``#@save`` idea)
must stay identical, code and docstrings: notebook 02's two engines, notebook 04's linear
regression from scratch.

Decorators are not compared: the package adds input checks and work counters through them, so
that the lines a student reads stay free of validation."""

import ast
import inspect
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from course_utils import autodiff, data, regression

NOTEBOOKS = Path(__file__).parents[1] / "notebooks"
# notebook -> (the modules holding the package's copies, the names the notebook defines)
SHARED = {
    "02_forward_and_reverse_accumulation.ipynb": (
        (autodiff,), ("Scalar", "elementary", "log", "exp", "sin", "cos", "tanh", "relu", "Dual",
                      "Var", "topological_order")),
    "04_linear_regression_from_scratch.ipynb": (
        (data, regression), ("synthetic_data", "data_iter", "linreg", "squared_loss", "sgd")),
}
Definition = ast.FunctionDef | ast.ClassDef


def definitions(source: str) -> dict[str, list[Definition]]:
    """Top-level functions and classes of ``source`` by name, decorators removed at every depth."""
    found: dict[str, list[Definition]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    inner.decorator_list = []
            found.setdefault(node.name, []).append(node)
    return found


def notebook_source(path: Path) -> str:
    """The notebook's code cells as one Python source (IPython magics and shell lines left out)."""
    cells = [cell.source for cell in nbformat.read(path, as_version=4).cells
             if cell.cell_type == "code"]
    return "\n".join(line for line in "\n".join(cells).splitlines()
                     if not line.lstrip().startswith(("%", "!")))


def package_definitions(modules: tuple[ModuleType, ...]) -> dict[str, Definition]:
    found = {}
    for module in modules:
        found.update({name: nodes[0] for name, nodes in
                      definitions(inspect.getsource(module)).items()})
    return found


def differences(source: str, modules: tuple[ModuleType, ...], names) -> list[str]:
    """Why the definitions ``names`` in a notebook's ``source`` differ from the package's, if
    they do: missing, defined more than once, or not the same code and docstrings."""
    ours, theirs = definitions(source), package_definitions(modules)
    problems = []
    for name in names:
        found = ours.get(name, [])
        if len(found) != 1:
            problems.append(f"{name}: defined {len(found)} times in the notebook, expected once")
        elif ast.dump(found[0]) != ast.dump(theirs[name]):
            problems.append(f"{name}: differs from course_utils (copy the package's version, "
                            f"decorators left out, or change both)")
    return problems


@pytest.mark.parametrize("notebook", sorted(SHARED))
def test_notebook_defines_the_package_definitions_verbatim(notebook):
    modules, names = SHARED[notebook]
    assert differences(notebook_source(NOTEBOOKS / notebook), modules, names) == []


@pytest.mark.parametrize("notebook", sorted(SHARED))
def test_every_definition_the_notebook_shares_with_the_package_is_compared(notebook):
    modules, names = SHARED[notebook]
    shared = set(definitions(notebook_source(NOTEBOOKS / notebook))) & set(
        package_definitions(modules))
    assert shared == set(names), f"add {sorted(shared - set(names))} to SHARED"


def _one_character_changed(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1 and len(old) == len(new)
    assert sum(a != b for a, b in zip(old, new)) == 1
    return source.replace(old, new)


@pytest.mark.parametrize("old, new, name", [
    ("parent.grad += node.grad * local", "parent.grad -= node.grad * local", "Var"),  # code
    ('"""A dual number ', '"""A dual mumber ', "Dual"),                                # docstring
    ('(1.0, -1.0))', '(1.0, +1.0))', "Scalar"),                                          # constant
])
def test_a_one_character_change_in_the_notebook_is_reported(old, new, name):
    notebook = "02_forward_and_reverse_accumulation.ipynb"
    modules, names = SHARED[notebook]
    source = notebook_source(NOTEBOOKS / notebook)
    changed = _one_character_changed(source, old, new)
    problems = differences(changed, modules, names)
    assert len(problems) == 1 and problems[0].startswith(f"{name}: differs")


def test_decorators_are_left_out_of_the_comparison():
    """The package's Var carries checks and counters as decorators; the notebook's has none."""
    package_var = inspect.getsource(autodiff.Var)
    assert "@_before(" in package_var
    undecorated = "\n".join(line for line in package_var.splitlines()
                            if not line.lstrip().startswith("@"))
    assert differences(undecorated, (autodiff,), ["Var"]) == []
