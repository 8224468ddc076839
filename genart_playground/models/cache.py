"""Load each model once, share it between tabs and requests, evict under a memory budget.

Concurrent requests for one model wait for a single load; requests for different models download
side by side and are then built one at a time (see `loading.load`). What a run needs beside the
model (a pipeline's lock, its image-to-image sibling) lives with the model object itself
(`diffusion.runtime`), so it goes when the cache drops the model.
"""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from .. import settings
from ..devices import free_memory
from . import loading, registry


@dataclass
class _Entry:
    model: object
    nbytes: int
    loaded_at: float


class ModelCache:
    def __init__(self, budget_bytes: int = 0):
        self.budget_bytes = budget_bytes  # 0: no limit
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self.loads = 0  # how many times a model was actually built: tests and benches read it

    def load(self, task: str, name: str | None = None, *, progress=None):
        spec = registry.resolve(task, name)
        for required in spec.requires:  # the models this one is built on (a token transformer's autoencoder)
            self.load(registry.family_of(required), required, progress=progress)
        with self._lock:
            entry = self._touch(spec.name)
            if entry is not None:
                return entry.model
            key_lock = self._key_locks.setdefault(spec.name, threading.Lock())
        with key_lock:  # one load per model, however many requests ask at once
            with self._lock:
                entry = self._touch(spec.name)
                if entry is not None:
                    return entry.model
            model = loading.load(spec, progress=progress)
            with self._lock:
                self._entries[spec.name] = _Entry(model, loading.module_bytes(model), time.time())
                self.loads += 1
                evicted = self._evict_over_budget(keep=spec.name)
        if evicted:
            free_memory()
        return model

    def evict(self, name: str) -> bool:
        with self._lock:
            entry = self._entries.pop(name, None)
        if entry is None:
            return False
        del entry
        free_memory()
        return True

    def shrink(self, keep: int = 1) -> list[str]:
        """Evict all but the `keep` most recently used models and free their memory: after an
        out-of-memory error, the model the failed request used stays, the others go."""
        with self._lock:
            victims = list(self._entries)[: max(len(self._entries) - keep, 0)]
            for name in victims:
                del self._entries[name]
        free_memory()
        return victims

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
        free_memory()

    def loaded(self) -> dict[str, int]:
        """Loaded model names and their bytes, least recently used first."""
        with self._lock:
            return {name: entry.nbytes for name, entry in self._entries.items()}

    def _touch(self, name: str):
        entry = self._entries.get(name)
        if entry is not None:
            self._entries.move_to_end(name)
        return entry

    def _evict_over_budget(self, keep: str) -> int:
        evicted = 0
        if not self.budget_bytes:
            return evicted
        while sum(e.nbytes for e in self._entries.values()) > self.budget_bytes:
            victim = next((n for n in self._entries if n != keep), None)
            if victim is None:
                break  # the one model we just loaded is over budget on its own: keep serving it
            self._entries.pop(victim)
            evicted += 1
        return evicted

cache = ModelCache(settings.MEMORY_BUDGET_BYTES)
