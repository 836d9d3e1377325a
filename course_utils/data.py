"""Data for the course: synthetic regression data, a minibatch reader, the Boston housing table."""

import hashlib
import io
import random
from importlib import resources
from pathlib import Path

import pandas as pd
import torch

from course_utils import validate


@validate.checked(validate.synthetic_data)
def synthetic_data(w: torch.Tensor, b: float, num_examples: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Generate y = Xw + b + noise, noise ~ N(0, 0.01^2); X is (n, d), y is (n, 1)."""
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


@validate.checked(validate.data_iter)
def data_iter(batch_size: int, features: torch.Tensor, labels: torch.Tensor):
    """Yield shuffled minibatches (X, y); the last one is shorter when n % batch_size != 0."""
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i:i + batch_size])
        yield features[batch_indices], labels[batch_indices]


BOSTON_CSV = "boston_house_prices.csv"
BOSTON_SHA256 = "d98212636026544fc9b9c0f372e5f819872e6fa6fa757ab025efdda22180f2d6"


@validate.checked(validate.load_boston_housing)
def load_boston_housing(path: str | Path | None = None) -> pd.DataFrame:
    """The Boston housing table (Harrison & Rubinfeld 1978) as shipped: 506 rows, 14 columns.

    Columns CRIM ... LSTAT (13 features, B included: the table is loaded faithfully; see
    ``resources/README.md`` for why models should leave B out) and the target MEDV in $1000s,
    with the dtypes pandas infers from the CSV. The file is the package's copy, found with
    ``importlib.resources``, unless ``path`` names another copy. Its SHA-256 is checked before
    parsing: a changed or truncated file raises ``ValueError`` naming it.
    """
    if path is None:
        source = resources.files("course_utils").joinpath("resources", BOSTON_CSV)
    else:
        source = Path(path)
    raw = source.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != BOSTON_SHA256:
        raise ValueError(f"{source}: SHA-256 is {digest}, expected {BOSTON_SHA256}; the file "
                         f"is changed or truncated ({len(raw)} bytes), so it is not loaded. "
                         f"Restore the original {BOSTON_CSV} (reinstall course_utils).")
    # Line 1 is "506,13,..." (rows, features); line 2 holds the column names.
    return pd.read_csv(io.BytesIO(raw), skiprows=1)
