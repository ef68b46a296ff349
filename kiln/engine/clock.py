"""kiln's clock: the real time plus an offset tests can move forward, or frozen.

The offset and the frozen time live in the store (Store.clock_state), so every
worker process and every replica on one store agrees on "now", and a clock moved
through one of them is moved for all, and stays moved across restarts until a
reset. Reading it costs no query while the store is unchanged (see
Store.clock_state). A Clock without a store keeps its state in this process (for
code that runs without one).

Moving the clock does not apply what fell due: the next request does, or the
caller asks the engine (kiln/admin.py's advance_clock does).
"""
from __future__ import annotations

import time


class Clock:
    def __init__(self, store=None) -> None:
        self.store = store
        self._state: tuple[float, float | None] = (0.0, None)  # without a store

    def _get(self) -> tuple[float, float | None]:
        return self.store.clock_state() if self.store is not None else self._state

    def _change(self, change) -> None:
        if self.store is not None:
            self.store.change_clock(change)
        else:
            self._state = change(*self._state)

    @property
    def offset(self) -> float:
        return self._get()[0]

    @property
    def frozen(self) -> float | None:
        return self._get()[1]

    def now(self) -> float:
        return self.at(self._get())

    @staticmethod
    def at(state: tuple[float, float | None]) -> float:
        """The time a clock in `state` (offset, frozen) reads now."""
        offset, frozen = state
        return frozen if frozen is not None else time.time() + offset

    def advance(self, seconds: float) -> None:
        def move(offset, frozen):
            return (offset, frozen + seconds) if frozen is not None else (offset + seconds, None)

        self._change(move)

    def freeze(self, at: float | None = None) -> None:
        def stop(offset, frozen):
            if at is not None:
                return offset, at
            return offset, frozen if frozen is not None else time.time() + offset

        self._change(stop)

    def reset(self) -> None:
        self._change(lambda offset, frozen: (0.0, None))

    def unfreeze(self) -> None:
        def go(offset, frozen):
            return (frozen - time.time(), None) if frozen is not None else (offset, None)

        self._change(go)
