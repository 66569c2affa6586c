"""The in-memory rate-limit storage under threads (``homeprogram serve``, gthread workers)."""

import sys
import threading
import time

from limits.storage import MemoryStorage

import homeprogram.extensions  # noqa: F401 (applies the lock, as the app does)


def test_many_threads_counting_at_once_never_fail():
    """Sixteen threads hit the limiter while its expiry timer keeps ending and restarting:
    no hit fails. (Without the lock, two threads could start the same timer and the request
    answered 500; switching threads every microsecond made that show within a second.)"""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        storage = MemoryStorage()
        errors: list[BaseException] = []
        start = threading.Barrier(16)

        def hit() -> None:
            start.wait()
            end = time.monotonic() + 1.5
            while time.monotonic() < end:
                try:
                    storage.incr("api/caller", 60)
                except RuntimeError as error:
                    errors.append(error)
                time.sleep(0.0005)  # lets the 10 ms timer end now and then

        threads = [threading.Thread(target=hit) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert errors == []
    assert storage.get("api/caller") > 0
