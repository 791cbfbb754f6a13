"""A pull fetch that runs out of time raises the type FastStream's pull loop expects (nats-io/nats.py#1008):
a bare TimeoutError used to kill the loop with an ERROR and a traceback in every service's log."""

import asyncio

import nats.errors
import pytest
from nats.js.client import JetStreamContext
from nats.js.errors import FetchTimeoutError
from sealflow_runtime.bus import fetch_timeouts_as_documented


def test_every_pull_subscription_fetch_is_wrapped_once() -> None:
    fetch = JetStreamContext.PullSubscription.fetch
    assert fetch.raises_documented_timeouts
    assert fetch_timeouts_as_documented(fetch) is fetch  # importing twice does not wrap twice


def test_a_bare_timeout_becomes_the_nats_timeout_and_others_pass_unchanged() -> None:
    async def runs_out_between_requests() -> list:
        raise TimeoutError

    async def no_messages() -> list:
        raise FetchTimeoutError

    async def gone() -> list:
        raise nats.errors.ConnectionClosedError

    async def two() -> list:
        return ["a", "b"]

    with pytest.raises(nats.errors.TimeoutError) as caught:
        asyncio.run(fetch_timeouts_as_documented(runs_out_between_requests)())
    assert isinstance(caught.value.__cause__, TimeoutError)
    with pytest.raises(FetchTimeoutError):
        asyncio.run(fetch_timeouts_as_documented(no_messages)())
    with pytest.raises(nats.errors.ConnectionClosedError):
        asyncio.run(fetch_timeouts_as_documented(gone)())
    assert asyncio.run(fetch_timeouts_as_documented(two)()) == ["a", "b"]
