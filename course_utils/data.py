"""Data for the course: synthetic regression data and minibatch readers."""

import random

import torch
from torch.utils import data


def synthetic_data(w: torch.Tensor, b: float, num_examples: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Generate y = Xw + b + noise, noise ~ N(0, 0.01^2); X is (n, d), y is (n, 1)."""
    if not isinstance(w, torch.Tensor) or w.dim() != 1:
        raise ValueError(f"w must be a 1-D tensor of weights, got {w!r}")
    if isinstance(num_examples, bool) or not isinstance(num_examples, int) or num_examples < 0:
        raise ValueError(f"num_examples must be an int >= 0, got {num_examples!r}")
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def data_iter(batch_size: int, features: torch.Tensor, labels: torch.Tensor):
    """Yield shuffled minibatches (X, y); the last one is shorter when n % batch_size != 0."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    if len(features) != len(labels):
        raise ValueError(f"features and labels must have the same length, "
                         f"got {len(features)} and {len(labels)}")
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i:i + batch_size])
        yield features[batch_indices], labels[batch_indices]


def load_array(data_arrays: tuple[torch.Tensor, ...], batch_size: int,
               is_train: bool = True) -> data.DataLoader:
    """Wrap tensors of equal length in a DataLoader (shuffled when is_train)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    lengths = [len(a) for a in data_arrays]
    if not lengths or len(set(lengths)) != 1:
        raise ValueError(f"data_arrays must be tensors of one length, got lengths {lengths}")
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)
