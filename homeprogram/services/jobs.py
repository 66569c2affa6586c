"""Scheduled jobs serve each item on its own: one bad row is logged with its id and skipped,
and everyone else is served.

A therapist, child or reminder plan whose stored data a job cannot use (a time zone that
zoneinfo cannot load, a value an old version wrote) must not stop the weekly summaries,
alerts or reminders of the whole server. Work that writes runs in a SAVEPOINT, so what a
failed item half-wrote is undone and the transaction stays usable (on PostgreSQL a failed
statement would otherwise abort it for everyone after).
"""

import logging
from collections.abc import Callable, Hashable, Iterable, Sequence
from contextlib import nullcontext
from typing import Any, TypeVar

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K", bound=Hashable)

# (job, item, error type) already logged with a traceback by this process.
_traced: set[tuple[str, str, str]] = set()


def skipped(job: str, item: str, error: BaseException) -> None:
    """Log one skipped item: one ERROR line every time (the row stays broken until someone
    fixes it), with the traceback the first time this process meets it."""
    key = (job, item, type(error).__name__)
    first = key not in _traced
    _traced.add(key)
    log.error("%s: skipped %s (%s: %s)", job, item, type(error).__name__, error, exc_info=first)


def _attempt(session: Session | None) -> Any:
    return session.begin_nested() if session is not None else nullcontext()


def each(
    items: Iterable[T],
    work: Callable[[T], R],
    *,
    job: str,
    label: Callable[[T], str],
    session: Session | None = None,
) -> list[tuple[T, R]]:
    """``work`` on every item; the items it fails on are logged and left out."""
    done: list[tuple[T, R]] = []
    for item in items:
        try:
            with _attempt(session):
                result = work(item)
        except Exception as error:  # one item's failure skips that item only
            skipped(job, label(item), error)
        else:
            done.append((item, result))
    return done


def batch_or_each(
    items: Sequence[T],
    compute: Callable[[Sequence[T]], dict[K, R]],
    *,
    job: str,
    label: Callable[[T], str],
    session: Session | None = None,
) -> tuple[dict[K, R], list[T]]:
    """``compute`` all items at once (the fast path, a fixed number of queries); if that
    fails, once per item, to serve the good ones and name the bad. Returns the merged
    results and the items that failed."""
    if not items:
        return {}, []
    try:
        with _attempt(session):
            return compute(items), []
    except Exception as error:  # which item? ask each of them
        if len(items) == 1:
            skipped(job, label(items[0]), error)
            return {}, list(items)
    results: dict[K, R] = {}
    failed: list[T] = []
    for item in items:
        try:
            with _attempt(session):
                results.update(compute([item]))
        except Exception as error:
            skipped(job, label(item), error)
            failed.append(item)
    return results, failed
