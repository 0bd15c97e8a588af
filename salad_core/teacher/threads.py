"""Borrowing a number of torch CPU threads for one stage, then giving them back.

Usage:
    from salad_core.teacher.threads import torch_threads
    with torch_threads(2):
        train()

Machines running the pipeline are often shared; a stage takes the threads its config allows
and restores the process-wide setting afterwards (None: leave torch's default alone).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Context manager: run the block with `n` torch CPU threads (None: leave as is), restoring the previous count on exit."""
    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
