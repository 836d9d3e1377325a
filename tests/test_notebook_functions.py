"""Notebook 04 defines synthetic_data, data_iter, linreg, squared_loss and sgd by hand; they must
stay identical (code and docstrings) to the ones in course_utils that the other notebooks import."""

import ast
import inspect
import textwrap
from pathlib import Path

import nbformat
import pytest

from course_utils import data, regression

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "04_linear_regression_from_scratch.ipynb"
PACKAGE_FUNCTIONS = {
    "synthetic_data": data.synthetic_data,
    "data_iter": data.data_iter,
    "linreg": regression.linreg,
    "squared_loss": regression.squared_loss,
    "sgd": regression.sgd,
}


def _notebook_definitions() -> dict[str, list[ast.FunctionDef]]:
    """Every top-level function definition in the notebook's code cells, by name."""
    definitions: dict[str, list[ast.FunctionDef]] = {}
    for cell in nbformat.read(NOTEBOOK, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        # IPython magics and shell escapes are not Python; the notebook has none, but be safe.
        source = "\n".join(line for line in cell.source.splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef):
                definitions.setdefault(node.name, []).append(node)
    return definitions


def _package_definition(function) -> ast.FunctionDef:
    (node,) = ast.parse(textwrap.dedent(inspect.getsource(function))).body
    return node


@pytest.mark.parametrize("name", sorted(PACKAGE_FUNCTIONS))
def test_notebook_04_defines_the_package_function_verbatim(name):
    definitions = _notebook_definitions().get(name, [])
    assert len(definitions) == 1, f"notebook 04 should define {name} exactly once"
    ours = ast.dump(definitions[0])
    theirs = ast.dump(_package_definition(PACKAGE_FUNCTIONS[name]))
    assert ours == theirs, (
        f"{name} in {NOTEBOOK.name} differs from course_utils: copy the package's version "
        f"(inspect.getsource) into the notebook, or change both")


def test_the_comparison_sees_docstrings_and_bodies():
    """ast.dump keeps docstrings and constants, so a one-character change is caught."""
    node = _package_definition(regression.sgd)
    changed = ast.parse(ast.unparse(node).replace("grad / batch_size", "grad / (batch_size + 1)"))
    assert ast.dump(changed.body[0]) != ast.dump(node)
    redoc = ast.parse(ast.unparse(node).replace("One minibatch", "A minibatch"))
    assert ast.dump(redoc.body[0]) != ast.dump(node)
