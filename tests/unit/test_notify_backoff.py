"""Retry waits: exponential, capped, jittered."""

import random

from sealflow_notify.adapters.deliveries import backoff


def test_backoff_grows_exponentially_with_jitter() -> None:
    rng = random.Random(7)
    waits = [backoff(n, 2.0, 600.0, rng) for n in range(1, 8)]
    for n, wait in enumerate(waits, start=1):
        assert 0.5 * min(600, 2 * 2 ** (n - 1)) <= wait < 1.5 * min(600, 2 * 2 ** (n - 1))
    assert backoff(30, 2.0, 600.0, rng) < 900
