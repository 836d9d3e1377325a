"""Helpers for the course on automatic differentiation and linear regression.

One module per idea:

- ``data``: synthetic data, a minibatch reader, the Boston housing table;
- ``regression``: the linear model, the squared loss, the SGD step, the closed form;
- ``validate``: the argument checks of ``data`` and ``regression``, as decorators;
- ``plotting``: deterministic, readable figures;
- ``autodiff``: the forward- and reverse-mode teaching engines;
- ``graph``: drawing computation graphs with networkx and matplotlib;
- ``exercises``: each exercise's inputs, and its reference computed from them;
- ``checks``: instant feedback on exercise answers, and the grader's assertion;
- ``timing``: the best of a few runs, for the timing experiments;
- ``widgets``: sliders that redraw a figure, which stays a plain figure where nothing runs.
"""

__version__ = "0.1.0"
