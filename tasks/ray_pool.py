"""Running a stage's rows on a pool of Ray actors, streaming, results in input order.

    with ray_session(RayPoolConfig(n_actors=2, num_cpus_per_actor=0.5)):
        actors = start_actors(MyWorker, config, init_args)          # one model per actor
        stream = OrderedActorStream(actors, max_in_flight_per_actor=2,
                                    call_timeout_s=600, replace_actor=actor_factory(MyWorker, config, init_args))
        for item, result in stream.map(lambda actor, item: actor.run.remote(item), items):
            ...   # result, or the exception the call ended with (RayActorError when the actor died,
                  # CallTimedOut when it hung and was replaced)

Why not ``ray.util.ActorPool.map``: it consumes the whole input up front (a corpus does not fit
in memory) and raises on the first failed call. Here at most ``n_actors × max_in_flight``
calls are outstanding, the input is read as results are consumed, and a failed call is handed
back to the caller as a value, so one bad batch never ends the stage.

A call that hangs (a TTS library looping on a pathological text) would stall the stage for
ever: with ``call_timeout_s`` the driver kills an actor whose current call has run longer than
that, starts a replacement, and hands back ``CallTimedOut`` for that call. Calls queued behind it
on the same actor come back as the actor's death error, and the caller retries them (the
synthesis task re-runs failed calls one row each, so only the hanging row is lost). The killed
actor is not restarted by Ray, so a hanging call costs one timeout, not one per Ray retry.
A call's time counts from when its actor is built: the stream waits for its actors (and each
replacement) to finish their constructor (a model load) before it hands them calls, so a slow
start on a loaded machine is never taken for a hung call.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import Field

from salad_core.ray_config import RayActorsConfig, RayStageConfig

T = TypeVar("T")
ACTOR_BUILD_TIMEOUT_S = 600.0  # how long a stream waits for an actor's constructor before timing its calls


class RayPoolConfig(RayActorsConfig):
    """Where the synthesis actors run and how many: execution only, never part of an artifact's fingerprint."""

    n_actors: int = Field(default=2, ge=1, description="Actors in the pool; each loads its own model.")
    rows_per_call: int = Field(default=4, ge=1, description="Rows sent to an actor per call (amortises Ray's per-call cost).")
    call_timeout_s: float | None = Field(
        default=600.0,
        gt=0,
        description="A call running longer than this (seconds) is treated as hung: its actor is killed and replaced, "
        "and the call's rows are retried one by one, a row that hangs again going to quarantine. None: wait for ever.",
    )


@contextmanager
def ray_session(config: RayActorsConfig) -> Iterator[bool]:
    """Ray for the duration of a stage: reuse a running session, else start or join one and stop it after.

    Yields True when this call started (or connected) Ray and will shut it down.
    """
    import ray

    if ray.is_initialized():
        yield False
        return
    if config.address is None:
        ray.init(
            # "local": always a new Ray of our own. Without it ray.init() joins the newest cluster it
            # finds ($RAY_ADDRESS, /tmp/ray/ray_current_cluster): a `ray start` or another job's Ray
            # on this machine (a demo run beside the test suite failed on exactly that).
            address="local",
            num_cpus=config.local_num_cpus or os.cpu_count(),
            num_gpus=config.local_num_gpus,
            include_dashboard=False,
            logging_level=logging.WARNING,
        )
    else:
        ray.init(address=config.address, logging_level=logging.WARNING)
    try:
        yield True
    finally:
        ray.shutdown()


def start_actors(actor_class: type, config: RayPoolConfig | RayStageConfig, *init_args: Any) -> list:
    """``config.n_actors`` instances of a plain class as Ray actors with the configured resources."""
    new_actor = actor_factory(actor_class, config, *init_args)
    return [new_actor() for _ in range(config.n_actors)]


def actor_factory(actor_class: type, config: RayActorsConfig, *init_args: Any) -> Callable[[], Any]:
    """A function that starts one more actor like those of `start_actors` (to replace a hung one)."""
    import ray

    options: dict[str, Any] = dict(
        num_cpus=config.num_cpus_per_actor,
        num_gpus=config.num_gpus_per_actor,
        # always restart a dead actor, so one poisonous row cannot take a pool member away for good;
        # the call it was running is retried a bounded number of times, then fails as RayActorError
        max_restarts=-1,
        max_task_retries=config.call_retries_on_worker_death,
    )
    if config.worker_niceness is not None:  # Ray reads its worker settings from RAY_* variables
        options["runtime_env"] = {"env_vars": {"RAY_worker_niceness": str(config.worker_niceness)}}
    remote_class = ray.remote(actor_class).options(**options)
    return lambda: remote_class.remote(*init_args)


class CallTimedOut(Exception):
    """A call ran longer than the stream's `call_timeout_s`; its actor was killed and replaced."""


class OrderedActorStream:
    """Bounded, ordered fan-out of calls over a fixed number of actors, with a hung-call watchdog."""

    def __init__(
        self,
        actors: list,
        max_in_flight_per_actor: int = 2,
        call_timeout_s: float | None = None,
        replace_actor: Callable[[], Any] | None = None,
    ) -> None:
        if not actors:
            raise ValueError("OrderedActorStream needs at least one actor")
        if call_timeout_s is not None and replace_actor is None:
            raise ValueError("call_timeout_s needs replace_actor: a hung actor is killed and must be replaced")
        self.actors = actors  # replaced in place when one hangs: the caller's list stays current
        self.max_in_flight_per_actor = max_in_flight_per_actor
        self.call_timeout_s = call_timeout_s
        self.replace_actor = replace_actor
        self.calls_timed_out = 0
        # completed results waiting for an earlier, slower one; bounds memory with the in-flight limit
        self.reorder_window = 2 * len(actors) * max_in_flight_per_actor
        if call_timeout_s is not None:
            wait_until_built(self.actors)

    def map(self, call: Callable[[Any, T], Any], items: Iterable[T]) -> Iterator[tuple[T, Any]]:
        """Yield ``(item, result)`` in the order of ``items``; a failed call yields its exception."""
        import ray

        items = iter(items)
        queues: list[deque] = [deque() for _ in self.actors]  # per actor, its refs in submission order
        started = [0.0] * len(self.actors)  # when the head of each queue began to run (as the driver sees it)
        in_flight: dict[Any, tuple[int, int]] = {}  # object ref -> (sequence number, actor index)
        submitted: dict[int, T] = {}
        finished: dict[int, Any] = {}
        next_seq = head = 0
        exhausted = False
        while True:
            while not exhausted and next_seq - head < self.reorder_window:
                actor = min(range(len(self.actors)), key=lambda i: len(queues[i]))
                if len(queues[actor]) >= self.max_in_flight_per_actor:
                    break
                try:
                    item = next(items)
                except StopIteration:
                    exhausted = True
                    break
                ref = call(self.actors[actor], item)
                if not queues[actor]:
                    started[actor] = time.monotonic()
                queues[actor].append(ref)
                in_flight[ref] = (next_seq, actor)
                submitted[next_seq] = item
                next_seq += 1
            if head in finished:
                yield submitted.pop(head), finished.pop(head)
                head += 1
                continue
            if not in_flight:
                return  # input exhausted and everything yielded
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=self._wait_s(queues, started))
            for ref in ready:
                seq, actor = in_flight.pop(ref)
                was_head = queues[actor][0] == ref
                queues[actor].remove(ref)
                if was_head:
                    started[actor] = time.monotonic()
                finished[seq] = _result(ref)
            if not ready:  # the earliest deadline passed: that actor's current call hung
                for actor in self._overdue(queues, started):
                    hung, *queued = queues[actor]
                    queues[actor].clear()
                    self._replace(actor)
                    finished[in_flight.pop(hung)[0]] = self._timed_out()
                    for ref in queued:  # died with the killed actor: the caller retries them
                        finished[in_flight.pop(ref)[0]] = _result(ref)

    def call(self, call: Callable[[Any, T], Any], item: T, actor_index: int = 0) -> Any:
        """One call, waited for (at most `call_timeout_s`); returns the result or the exception it ended with."""
        import ray

        index = actor_index % len(self.actors)
        ref = call(self.actors[index], item)
        ready, _ = ray.wait([ref], timeout=self.call_timeout_s)
        if ready:
            return _result(ref)
        self._replace(index)
        return self._timed_out()

    def _wait_s(self, queues: list[deque], started: list[float]) -> float | None:
        if self.call_timeout_s is None:
            return None
        deadlines = [started[i] + self.call_timeout_s for i, q in enumerate(queues) if q]
        return max(0.0, min(deadlines) - time.monotonic())

    def _overdue(self, queues: list[deque], started: list[float]) -> list[int]:
        now = time.monotonic()
        return [i for i, q in enumerate(queues) if q and now - started[i] >= self.call_timeout_s]

    def _replace(self, index: int) -> None:
        import ray

        ray.kill(self.actors[index], no_restart=True)  # its queued calls fail now, not after Ray's retries
        self.actors[index] = self.replace_actor()
        wait_until_built([self.actors[index]])

    def _timed_out(self) -> CallTimedOut:
        self.calls_timed_out += 1
        return CallTimedOut(f"the call ran longer than call_timeout_s={self.call_timeout_s:g} s; its actor was killed and replaced")


def wait_until_built(actors: list, timeout_s: float = ACTOR_BUILD_TIMEOUT_S) -> None:
    """Returns once every actor's constructor has ended (or `timeout_s` passed).

    A constructor that raised is not raised here: the actor's first call hands that error back,
    where the caller already deals with a dead actor. One that has not ended after `timeout_s`
    (a cluster without the resources) is left to the call's own timeout, as before.
    """
    import ray

    ray.wait([actor.__ray_ready__.remote() for actor in actors], num_returns=len(actors), timeout=timeout_s)


def _result(ref: Any) -> Any:
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:
        return exc
