"""The course's one stopwatch: the best of a few runs, after a warm-up."""

import timeit
from collections.abc import Callable


def best_time(fn: Callable[[], object], repeats: int = 5) -> float:
    """Seconds taken by the fastest of ``repeats`` calls of ``fn()``, after one untimed call.

    The untimed call pays for first-use costs (imports, caches); the minimum is the run least
    disturbed by other work on the machine.
    """
    if not callable(fn):
        raise ValueError(f"fn must be a callable taking no arguments, got {fn!r}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be an int >= 1, got {repeats!r}")
    fn()
    return min(timeit.repeat(fn, number=1, repeat=repeats))
