"""A lock the in-memory rate-limit storage lacks in the release of ``limits`` we install.

``MemoryStorage`` restarts its expiry timer with a check-then-start and no lock, so two
threads of one process (``homeprogram serve``'s waitress, gunicorn's gthread workers) can
start the same timer: the request fails with "threads can only be started once", a 500.
Fixed upstream with a ``_timer_lock`` (alisaifee/limits#352); until the installed release
carries that fix, the restart is serialised here. Redis storage is not affected.
"""

import threading
from typing import Any

from limits.storage import MemoryStorage

_RESTART = "_MemoryStorage__schedule_expiry"  # the name-mangled private method


def lock_timer_restart() -> None:
    """Serialise ``MemoryStorage``'s timer restart, unless the installed release does."""
    restart = getattr(MemoryStorage, _RESTART)
    if "_timer_lock" in restart.__code__.co_names or getattr(restart, "locked", False):
        return
    lock = threading.Lock()

    def locked_restart(self: Any) -> None:
        with lock:
            restart(self)

    locked_restart.locked = True  # type: ignore[attr-defined]
    setattr(MemoryStorage, _RESTART, locked_restart)
