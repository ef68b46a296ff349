"""An injectable clock: the real time plus an offset tests can move forward, or frozen."""
from __future__ import annotations

import time


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen: float | None = None

    def now(self) -> float:
        return self.frozen if self.frozen is not None else time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if self.frozen is not None:
            self.frozen += seconds
        else:
            self.offset += seconds

    def freeze(self, at: float | None = None) -> None:
        self.frozen = self.now() if at is None else at

    def reset(self) -> None:
        self.offset = 0.0
        self.frozen = None

    def unfreeze(self) -> None:
        if self.frozen is not None:
            self.offset = self.frozen - time.time()
            self.frozen = None
