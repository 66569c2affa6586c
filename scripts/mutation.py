"""Mutation testing of the rules that guard children's data and the nothing-lost promise.

Run: ``make mutation`` (every module), or ``make mutation MODULES="claims invites"``, or
``python scripts/mutation.py claims invites``. It is not part of ``.ci/run``.

mutmut 3 copies the package into ``mutants/`` and rewrites each function of a target module
so that a switch picks one small change (a mutant: ``<`` for ``<=``, ``None`` for a value,
a dropped argument...). It runs the module's tests once to learn which tests call which
function; then, for each mutant, only those tests. A mutant is *killed* when a test fails,
and *survives* when every test passes: a rule that can break without any test noticing.

Each module runs with the test files that cover it (``MODULES`` below), in a process of
its own, smaller modules first. Results go to ``artifacts/mutation/<module>.json`` (every
mutant with its status, the diff of each survivor) and a table is printed at the end. The
run fails when a module's score is under its target or a survivor is neither killed nor
listed in ``EQUIVALENT`` with the reason it changes no behaviour.

Only function bodies are mutated: module-level statements (the access subqueries
``TEAM_ROLE``/``STAFF_ROLE``, the column lists of a query) are evaluated once at import,
before any mutant is switched on, and are guarded by named tests instead.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "artifacts" / "mutation"
WORK = ROOT / "mutants"  # mutmut's fixed working folder, relative to the project root


@dataclass(frozen=True)
class Target:
    """A module to mutate, the tests that cover it, and the score it must reach."""

    path: str
    tests: tuple[str, ...]
    target: float
    # Mutate only these functions (None: the whole module)...
    functions: tuple[str, ...] | None = None
    # ...but not these: functions run once at import (their mutants can never be switched on).
    skip: tuple[str, ...] = ()

    def counts(self, mutant: str) -> bool:
        name = function_of(mutant)
        return (self.functions is None or name in self.functions) and name not in self.skip

    def mutant_globs(self) -> list[str]:
        """Patterns for mutmut's mutant names, or [] for every mutant of the module."""
        if self.functions is None and not self.skip:
            return []
        dotted = self.path.removesuffix(".py").replace("/", ".")
        tree = ast.parse((ROOT / self.path).read_text())
        mangled = [f"x_{node.name}" for node in tree.body if isinstance(node, ast.FunctionDef)]
        mangled += [
            f"xǁ{node.name}ǁ{item.name}"
            for node in tree.body
            if isinstance(node, ast.ClassDef)
            for item in node.body
            if isinstance(item, ast.FunctionDef)
        ]
        return [
            f"{dotted}.{name}__mutmut_*"
            for name in mangled
            if self.counts(f"{dotted}.{name}__mutmut_1")
        ]


# Modules in the order they run (smaller first), each with the test files that exercise
# it. A test that runs the app in another process (CLI subprocesses, the live server of
# the browser tests) cannot see a mutant, so such files are not listed.
MODULES: dict[str, Target] = {
    "claims": Target(
        "homeprogram/services/claims.py",
        (
            "tests/test_claims.py",
            "tests/test_claim_rules.py",
            "tests/test_reminders.py",
            "tests/test_caregiver_logs.py",
        ),
        0.90,
    ),
    "invites": Target(
        "homeprogram/services/invites.py",
        ("tests/test_invites.py", "tests/test_invite_rules.py", "tests/test_validation.py"),
        0.90,
    ),
    "access": Target(
        "homeprogram/services/access.py",
        (
            "tests/test_access.py",
            "tests/test_access_rules.py",
            "tests/test_authz.py",
            "tests/test_teacher.py",
            "tests/test_caregiver_logs.py",
        ),
        0.90,
    ),
    "logs": Target(
        "homeprogram/services/logs.py",
        (
            "tests/test_caregiver_logs.py",
            "tests/test_log_rules.py",
            "tests/test_caregiver_today.py",
            "tests/test_api.py",
            "tests/test_input_ranges.py",
        ),
        0.90,
    ),
    "exports": Target(
        "homeprogram/services/exports.py",
        ("tests/test_reports.py", "tests/test_export_rules.py"),
        0.80,
    ),
    "sessions": Target(
        "homeprogram/services/sessions.py",
        (
            "tests/test_session_rules.py",
            "tests/test_security.py",
            "tests/test_auth.py",
            "tests/test_access.py",
        ),
        0.80,
    ),
    "accounts": Target(
        "homeprogram/services/accounts.py",
        (
            "tests/test_session_rules.py",
            "tests/test_auth.py",
            "tests/test_security.py",
            "tests/test_access.py",
        ),
        0.80,
        functions=(
            "start_session",
            "_signed_in",
            "signed_in_user",
            "load_session",
            "needs_touch",
            "touch_session",
            "end_session",
            "end_all_sessions",
        ),
    ),
    "adherence": Target(
        "homeprogram/services/adherence.py",
        (
            "tests/test_adherence.py",
            "tests/test_adherence_api.py",
            "tests/test_adherence_cache.py",
            "tests/test_adherence_pages.py",
            "tests/test_adherence_property.py",
            "tests/test_dashboard.py",
            "tests/test_summaries.py",
            "tests/test_adherence_rules.py",
            "tests/test_job_isolation.py",
        ),
        0.80,
        # Called once at import to build _RECENT_SESSIONS; the "often hard" tests cover it.
        skip=("_recent_sessions",),
    ),
}


@dataclass(frozen=True)
class Equivalent:
    """A surviving mutant that changes no behaviour, matched by its function and the
    lines it changes (whitespace-trimmed), so the entry outlives renumbering."""

    module: str
    function: str
    before: str
    after: str
    why: str


# Survivors reviewed and found to change nothing a person or a caller could notice.
EQUIVALENT: list[Equivalent] = [
    Equivalent(
        "invites",
        "accept_invite",
        'password: str = "",',
        'password: str = "XXXX",',
        "Default password: both defaults are refused as too short, in the same words.",
    ),
    *(
        Equivalent(
            "invites",
            "accept_invite",
            before,
            after,
            "The audit event's organization is given twice, as an argument and in the "
            "actor (audit.record uses the actor's only when the argument is None): "
            "dropping either one records the same organization.",
        )
        for before, after in (
            ("organization_id=invite.organization_id,", "organization_id=None,"),
            ("organization_id=invite.organization_id,", ""),
            (
                "Actor(user.id, actor.ip, invite.organization_id),",
                "Actor(user.id, actor.ip, None),",
            ),
            (
                "Actor(user.id, actor.ip, invite.organization_id),",
                "Actor(user.id, actor.ip, ),",
            ),
        )
    ),
    Equivalent(
        "invites",
        "create_invite",
        "token = secrets.token_urlsafe(32)",
        "token = secrets.token_urlsafe(None)",
        "secrets.token_urlsafe() draws 32 bytes when given None: the same token.",
    ),
    Equivalent(
        "invites",
        "create_invite",
        "token = secrets.token_urlsafe(32)",
        "token = secrets.token_urlsafe(33)",
        "33 random bytes instead of 32: a link one character longer, as unguessable; "
        "nothing reads the token's length.",
    ),
    *(
        Equivalent(
            "invites",
            "find_by_token",
            "if not token or len(token) > 100:",
            after,
            "The length check only spares a query: every token is 43 characters, so an "
            "empty or 100-character one finds no invite either way.",
        )
        for after in (
            "if not token and len(token) > 100:",
            "if not token or len(token) >= 100:",
            "if not token or len(token) > 101:",
        )
    ),
    Equivalent(
        "invites",
        "open_invites",
        "Invite.child_id == child_id if child_id is not None else Invite.child_id.is_(None)",
        "Invite.child_id == child_id if (child_id is not None) or True else "
        "Invite.child_id.is_(None)",
        "SQLAlchemy writes `column == None` as `IS NULL`: the same query.",
    ),
    Equivalent(
        "accounts",
        "start_session",
        "token=secrets.token_urlsafe(32),",
        "token=secrets.token_urlsafe(None),",
        "secrets.token_urlsafe() draws 32 bytes when given None: the same token.",
    ),
    *(
        Equivalent(
            module,
            function,
            before,
            before.replace(" > ", " >= "),
            "Differs only when the idle time equals the limit to the microsecond: the clock "
            "moves between the moment last seen and the moment this reads it.",
        )
        for module, function, before in (
            ("accounts", "load_session", "if utcnow() - last_seen_at > timeout:"),
            ("accounts", "needs_touch", "return utcnow() - last_seen_at > _TOUCH_INTERVAL"),
        )
    ),
    Equivalent(
        "logs",
        "_in_force_version",
        "for _ in range(50):  # a chain of versions, never a cycle; bounded all the same",
        "for _ in range(51):  # a chain of versions, never a cycle; bounded all the same",
        "The bound only stops a cycle, which versioning never makes; 51 instead of 50 "
        "matters only to a log replayed across more than 50 changes of one prescription.",
    ),
    Equivalent(
        "logs",
        "_in_force_version",
        "if current.end_date is None or day <= current.end_date:",
        "if current.end_date is None or day < current.end_date:",
        "On a version's last day the mutant looks for the next version, which always starts "
        "the day after (programs.py ends the old one on effective - 1), so it stays.",
    ),
    *(
        Equivalent(
            "exports",
            "logs_csv",
            ".join(Activity, Activity.id == Assignment.activity_id)",
            after,
            "Without an ON clause SQLAlchemy joins on the only foreign key between the two "
            "tables: the same join.",
        )
        for after in (".join(Activity, None)", ".join(Activity, )")
    ),
    Equivalent(
        "exports",
        "to_csv",
        'writer = csv.writer(out, lineterminator="\\r\\n")',
        "writer = csv.writer(out, )",
        "The csv module's default (excel) dialect ends lines with \\r\\n already.",
    ),
    Equivalent(
        "sessions",
        "_live",
        "return stmt.where(UserSession.ended_at.is_(None), "
        "UserSession.last_seen_at > now - MAX_IDLE)",
        "return stmt.where(UserSession.ended_at.is_(None), "
        "UserSession.last_seen_at >= now - MAX_IDLE)",
        "Differs only for a session last seen exactly 14 days before the instant read, to the "
        "microsecond: the clock moves between setting last_seen_at and reading now.",
    ),
    *(
        Equivalent(
            "sessions",
            function,
            f"{start}org_user_ids(session, {arg}){end}",
            f"{start}org_user_ids(None, {arg}){end}",
            "org_user_ids builds a query and never reads its session argument.",
        )
        for function, start, arg, end in (
            ("end_session", "or_(User.id.in_(", "admin_of", ")),"),
            ("org_sessions", ".where(UserSession.user_id.in_(", "organization_id", ")),"),
        )
    ),
    *(
        Equivalent(
            "sessions",
            "org_user_ids",
            ".join(Child, Child.id == CareTeamMember.child_id)",
            after,
            "Without an ON clause SQLAlchemy joins on the only foreign key between the two "
            "tables: the same join.",
        )
        for after in (".join(Child, None)", ".join(Child, )")
    ),
]

# adherence.py: why each listed mutant changes nothing (keys used below).
_ADHERENCE_SAME = {
    "strict": (
        "zip(strict=True) only adds a check: every list zipped here holds one item per day "
        "of the range."
    ),
    "n_lt_e": "When n == e both branches add n to done and nothing to extra.",
    "no_chains": (
        "Only for a child without chains, whose every day is zero: a list one day shorter "
        "or longer reads zero for every span."
    ),
    "init": (
        "The value given to a new ChainAdherence is overwritten a few lines below by the "
        "first version's."
    ),
    "group": (
        "An assignment belongs to one child: grouping by child as well as by assignment and "
        "day changes no group."
    ),
    "running": (
        "Every running total starts one higher: spans are differences of two totals, unchanged."
    ),
    "hi_lt_lo": (
        "For hi == lo the difference of two equal totals is Tally(), what the early return gives."
    ),
    "sort": (
        "The key is only compared: 2 instead of 1 still sorts after 0 and after the -1 of a "
        "child without figures, and 3.0 instead of 2.0 still sorts after every rate (at "
        "most 1.0)."
    ),
    "falsy": "None is as false as False for this flag.",
    "window": (
        "Changes days outside the child's dashboard window (before its first day or after "
        "yesterday), which no overview reads."
    ),
    "fastpath": (
        "Only decides between the whole-column path and the day-by-day path (or recomputes "
        "days already stored); both give the same figures."
    ),
    "allrows": (
        "Reads other children's cache rows too; they are grouped by child and never looked up."
    ),
    "floor": (
        "Any floor earlier than the first session of the lookback does: three days back "
        "instead of two is earlier still."
    ),
    "mergeall": (
        "For a single version the query returns at most the five last sessions' hard ones: "
        "keeping the five newest of them keeps them all."
    ),
    "batch": (
        "Only the batching changes (order of children, overlapping batches); every child's "
        "days are filled once, the claim keeps the rest out."
    ),
    "cycle": (
        "The seen-set only stops a cycle of versions, which programs never writes (each "
        "version points to an older id)."
    ),
    "astext": (
        "_day_index holds each day as a date and as text, so a column read without a type "
        "is found either way."
    ),
    "tz": "ChildAdherence.timezone is read by nothing.",
    "ndays": (
        "Each chain's logged list gets one more zero after the range's end; expected lists "
        "come from the schedule, and every reader stops at the range's end."
    ),
    "joins": (
        "Without an ON clause SQLAlchemy joins on the only foreign key between the two "
        "tables: the same join."
    ),
    "lockstronger": (
        "FOR UPDATE instead of FOR SHARE: the cache triggers' FOR NO KEY UPDATE waits for "
        "either; only two readers filling at once wait for each other."
    ),
    "days": "days() has no caller (dead code).",
}
EQUIVALENT += [
    Equivalent("adherence", function, before, after, _ADHERENCE_SAME[why])
    for function, before, after, why in (
        (
            "between",
            "for e, n in zip(self.expected[lo:hi], self.logged[lo:hi], strict=True):",
            "for e, n in zip(self.expected[lo:hi], self.logged[lo:hi], strict=None):",
            "strict",
        ),
        (
            "between",
            "for e, n in zip(self.expected[lo:hi], self.logged[lo:hi], strict=True):",
            "for e, n in zip(self.expected[lo:hi], self.logged[lo:hi], ):",
            "strict",
        ),
        (
            "between",
            "for e, n in zip(self.expected[lo:hi], self.logged[lo:hi], strict=True):",
            "for e, n in zip(self.expected[lo:hi], self.logged[lo:hi], strict=False):",
            "strict",
        ),
        (
            "_day_totals",
            "expected = list(map(sum, zip(*(c.expected for c in self.chains), strict=True)))",
            "expected = list(map(sum, zip(*(c.expected for c in self.chains), strict=None)))",
            "strict",
        ),
        (
            "_day_totals",
            "expected = list(map(sum, zip(*(c.expected for c in self.chains), strict=True)))",
            "expected = list(map(sum, zip(*(c.expected for c in self.chains), )))",
            "strict",
        ),
        (
            "_day_totals",
            "expected = list(map(sum, zip(*(c.expected for c in self.chains), strict=True)))",
            "expected = list(map(sum, zip(*(c.expected for c in self.chains), strict=False)))",
            "strict",
        ),
        (
            "_day_totals",
            "map(sum, zip(*(map(min, c.expected, c.logged) for c in self.chains), strict=True))",
            "map(sum, zip(*(map(min, c.expected, c.logged) for c in self.chains), strict=None))",
            "strict",
        ),
        (
            "_day_totals",
            "map(sum, zip(*(map(min, c.expected, c.logged) for c in self.chains), strict=True))",
            "map(sum, zip(*(map(min, c.expected, c.logged) for c in self.chains), ))",
            "strict",
        ),
        (
            "_day_totals",
            "map(sum, zip(*(map(min, c.expected, c.logged) for c in self.chains), strict=True))",
            ("map(sum, zip(*(map(min, c.expected, c.logged) for c in self.chains), strict=False))"),
            "strict",
        ),
        (
            "_day_totals",
            "logged = list(map(sum, zip(*(c.logged for c in self.chains), strict=True)))",
            "logged = list(map(sum, zip(*(c.logged for c in self.chains), strict=None)))",
            "strict",
        ),
        (
            "_day_totals",
            "logged = list(map(sum, zip(*(c.logged for c in self.chains), strict=True)))",
            "logged = list(map(sum, zip(*(c.logged for c in self.chains), )))",
            "strict",
        ),
        (
            "_day_totals",
            "logged = list(map(sum, zip(*(c.logged for c in self.chains), strict=True)))",
            "logged = list(map(sum, zip(*(c.logged for c in self.chains), strict=False)))",
            "strict",
        ),
        (
            "adherence_for",
            "chain.expected = [x + y for x, y in zip(chain.expected, version, strict=True)]",
            "chain.expected = [x + y for x, y in zip(chain.expected, version, strict=None)]",
            "strict",
        ),
        (
            "adherence_for",
            "chain.expected = [x + y for x, y in zip(chain.expected, version, strict=True)]",
            "chain.expected = [x + y for x, y in zip(chain.expected, version, )]",
            "strict",
        ),
        (
            "adherence_for",
            "chain.expected = [x + y for x, y in zip(chain.expected, version, strict=True)]",
            "chain.expected = [x + y for x, y in zip(chain.expected, version, strict=False)]",
            "strict",
        ),
        ("between", "if n <= e:", "if n < e:", "n_lt_e"),
        (
            "_day_totals",
            "n = (self.end - self.start).days + 1",
            "n = (self.end - self.start).days - 1",
            "no_chains",
        ),
        (
            "_day_totals",
            "n = (self.end - self.start).days + 1",
            "n = (self.end - self.start).days + 2",
            "no_chains",
        ),
        ("adherence_for", "activity_id=a.activity_id,", "activity_id=None,", "init"),
        ("adherence_for", "activity_title=a.title,", "activity_title=None,", "init"),
        ("adherence_for", "current_id=a.id,", "current_id=None,", "init"),
        ("adherence_for", "measure_name=a.measure_name,", "measure_name=None,", "init"),
        ("adherence_for", "measure_unit=a.measure_unit,", "measure_unit=None,", "init"),
        ("adherence_for", "expected=[0] * n_days,", "expected=None,", "init"),
        ("adherence_for", "expected=[0] * n_days,", "expected=[1] * n_days,", "init"),
        (
            "adherence_for",
            (
                ".group_by(CompletionLog.child_id, CompletionLog.local_date, "
                "CompletionLog.assignment_id)"
            ),
            ".group_by(None, CompletionLog.local_date, CompletionLog.assignment_id)",
            "group",
        ),
        (
            "adherence_for",
            (
                ".group_by(CompletionLog.child_id, CompletionLog.local_date, "
                "CompletionLog.assignment_id)"
            ),
            ".group_by(CompletionLog.local_date, CompletionLog.assignment_id)",
            "group",
        ),
        (
            "_running",
            "return list(accumulate(values, initial=0))",
            "return list(accumulate(values, initial=1))",
            "running",
        ),
        ("between", "if hi <= lo:", "if hi < lo:", "hi_lt_lo"),
        (
            "sort_key",
            (
                "return (0 if self.flags else 1, 2.0 if r7 is None else r7, 2.0 if r28 is None "
                "else r28)"
            ),
            (
                "return (0 if self.flags else 2, 2.0 if r7 is None else r7, 2.0 if r28 is None "
                "else r28)"
            ),
            "sort",
        ),
        (
            "sort_key",
            (
                "return (0 if self.flags else 1, 2.0 if r7 is None else r7, 2.0 if r28 is None "
                "else r28)"
            ),
            (
                "return (0 if self.flags else 1, 3.0 if r7 is None else r7, 2.0 if r28 is None "
                "else r28)"
            ),
            "sort",
        ),
        (
            "sort_key",
            (
                "return (0 if self.flags else 1, 2.0 if r7 is None else r7, 2.0 if r28 is None "
                "else r28)"
            ),
            (
                "return (0 if self.flags else 1, 2.0 if r7 is None else r7, 3.0 if r28 is None "
                "else r28)"
            ),
            "sort",
        ),
        (
            "adherence_flags_on",
            "return _overviews(session, {child_id: today}, often_hard=False)[child_id].flags",
            "return _overviews(session, {child_id: today}, often_hard=None)[child_id].flags",
            "falsy",
        ),
        (
            "_compute_and_store",
            (
                'claims.claim(session, AdherenceDay, rows, key=("child_id", "local_date"), '
                "returning=False)"
            ),
            (
                'claims.claim(session, AdherenceDay, rows, key=("child_id", "local_date"), '
                "returning=None)"
            ),
            "falsy",
        ),
        (
            "daily_totals",
            "n_days = (end - start).days + 1",
            "n_days = (end - start).days + 2",
            "window",
        ),
        (
            "daily_totals",
            "before, after = [0] * a, [0] * (n_days - b - 1)",
            "before, after = [1] * a, [0] * (n_days - b - 1)",
            "window",
        ),
        (
            "daily_totals",
            "before, after = [0] * a, [0] * (n_days - b - 1)",
            "before, after = [0] * a, [1] * (n_days - b - 1)",
            "window",
        ),
        (
            "daily_totals",
            "before, after = [0] * a, [0] * (n_days - b - 1)",
            "before, after = [0] * a, [0] * (n_days - b + 1)",
            "window",
        ),
        (
            "daily_totals",
            "before, after = [0] * a, [0] * (n_days - b - 1)",
            "before, after = [0] * a, [0] * (n_days + b - 1)",
            "window",
        ),
        (
            "daily_totals",
            "before, after = [0] * a, [0] * (n_days - b - 1)",
            "before, after = [0] * a, [0] * (n_days - b - 2)",
            "window",
        ),
        (
            "daily_totals",
            "e, d, x = [0] * n_days, [0] * n_days, [0] * n_days",
            "e, d, x = [1] * n_days, [0] * n_days, [0] * n_days",
            "window",
        ),
        (
            "daily_totals",
            "e, d, x = [0] * n_days, [0] * n_days, [0] * n_days",
            "e, d, x = [0] * n_days, [1] * n_days, [0] * n_days",
            "window",
        ),
        (
            "daily_totals",
            "e, d, x = [0] * n_days, [0] * n_days, [0] * n_days",
            "e, d, x = [0] * n_days, [0] * n_days, [1] * n_days",
            "window",
        ),
        (
            "daily_totals",
            (
                "missing[cid] = [start + timedelta(days=i) for i in range(lo, hi + 1) if i not "
                "in have]"
            ),
            "missing[cid] = [start + timedelta(days=i) for i in range(hi + 1) if i not in have]",
            "window",
        ),
        (
            "daily_totals",
            "a = day_index[found[0][1]] if found else 0",
            "a = day_index[found[0][1]] if (found) and False else 0",
            "fastpath",
        ),
        (
            "daily_totals",
            "a = day_index[found[0][1]] if found else 0",
            "a = day_index[found[0][1]] if found else 1",
            "fastpath",
        ),
        (
            "daily_totals",
            "b = day_index[found[-1][1]] if found else -1",
            "b = day_index[found[-1][1]] if found else +1",
            "fastpath",
        ),
        (
            "daily_totals",
            "b = day_index[found[-1][1]] if found else -1",
            "b = day_index[found[-1][1]] if found else -2",
            "fastpath",
        ),
        (
            "daily_totals",
            "if b - a + 1 == len(found) and a <= lo and b >= hi:",
            "if b + a + 1 == len(found) and a <= lo and b >= hi:",
            "fastpath",
        ),
        ("daily_totals", "have.add(i)", "have.add(None)", "fastpath"),
        ("daily_totals", "AdherenceDay.child_id.in_(list(todays)),", "", "allrows"),
        (
            "_often_hard",
            "floor = datetime.combine(since - timedelta(days=2), time.min, tzinfo=UTC)",
            "floor = datetime.combine(since - timedelta(days=3), time.min, tzinfo=UTC)",
            "floor",
        ),
        ("_often_hard", "if versions > 1:", "if versions >= 1:", "mergeall"),
        (
            "fill_cache",
            (
                "children = session.execute(select(Child.id, "
                "Child.timezone).order_by(Child.id)).all()"
            ),
            "children = session.execute(select(Child.id, Child.timezone).order_by(None)).all()",
            "batch",
        ),
        (
            "fill_cache",
            "for i in range(0, len(children), batch):",
            "for i in range(0, len(children), ):",
            "batch",
        ),
        ("_chain_roots", "seen.add(cur.id)", "seen.add(None)", "cycle"),
        (
            "_as_text",
            "return type_coerce(column, String)",
            "return type_coerce(column, None)",
            "astext",
        ),
        (
            "adherence_for",
            (
                "for cid, tz in session.execute(select(Child.id, "
                "Child.timezone).where(Child.id.in_(ids)))"
            ),
            "for cid, tz in session.execute(select(Child.id, None).where(Child.id.in_(ids)))",
            "tz",
        ),
        (
            "adherence_for",
            (
                "cid: ChildAdherence(cid, timezones[cid], start, end) for cid in ids if cid in "
                "timezones"
            ),
            "cid: ChildAdherence(cid, None, start, end) for cid in ids if cid in timezones",
            "tz",
        ),
        (
            "adherence_for",
            "n_days = (end - start).days + 1",
            "n_days = (end - start).days + 2",
            "ndays",
        ),
        (
            "_load_assignments",
            ".join(Activity, Activity.id == Assignment.activity_id)",
            ".join(Activity, None)",
            "joins",
        ),
        (
            "_load_assignments",
            ".join(Activity, Activity.id == Assignment.activity_id)",
            ".join(Activity, )",
            "joins",
        ),
        (
            "_load_assignments",
            ".join(Assignment, Assignment.id == AssignmentPause.assignment_id)",
            ".join(Assignment, None)",
            "joins",
        ),
        (
            "_load_assignments",
            ".join(Assignment, Assignment.id == AssignmentPause.assignment_id)",
            ".join(Assignment, )",
            "joins",
        ),
        (
            "_compute_and_store",
            ".with_for_update(read=True)",
            ".with_for_update(read=None)",
            "lockstronger",
        ),
        (
            "_compute_and_store",
            ".with_for_update(read=True)",
            ".with_for_update(read=False)",
            "lockstronger",
        ),
        (
            "days",
            "return [start + timedelta(days=i) for i in range((end - start).days + 1)]",
            "return [start - timedelta(days=i) for i in range((end - start).days + 1)]",
            "days",
        ),
        (
            "days",
            "return [start + timedelta(days=i) for i in range((end - start).days + 1)]",
            "return [start + timedelta(days=None) for i in range((end - start).days + 1)]",
            "days",
        ),
        (
            "days",
            "return [start + timedelta(days=i) for i in range((end - start).days + 1)]",
            "return [start + timedelta(days=i) for i in range(None)]",
            "days",
        ),
        (
            "days",
            "return [start + timedelta(days=i) for i in range((end - start).days + 1)]",
            "return [start + timedelta(days=i) for i in range((end - start).days - 1)]",
            "days",
        ),
        (
            "days",
            "return [start + timedelta(days=i) for i in range((end - start).days + 1)]",
            "return [start + timedelta(days=i) for i in range((end + start).days + 1)]",
            "days",
        ),
        (
            "days",
            "return [start + timedelta(days=i) for i in range((end - start).days + 1)]",
            "return [start + timedelta(days=i) for i in range((end - start).days + 2)]",
            "days",
        ),
    )
]

KILLED = {"killed", "timeout"}  # a mutant that hangs the tests is caught by the time limit


@dataclass
class Outcome:
    module: str
    statuses: dict[str, str] = field(default_factory=dict)
    survivors: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def total(self) -> int:
        return len(self.statuses)

    @property
    def killed(self) -> int:
        return sum(status in KILLED for status in self.statuses.values())

    @property
    def equivalent(self) -> int:
        return sum(bool(s["equivalent"]) for s in self.survivors)

    @property
    def unexplained(self) -> list[dict[str, Any]]:
        return [s for s in self.survivors if not s["equivalent"]]

    @property
    def score(self) -> float:
        """Killed among the mutants that can be killed (the equivalent ones cannot)."""
        countable = self.total - self.equivalent
        return self.killed / countable if countable else 1.0


def changed_lines(diff: str) -> tuple[str, str]:
    """The removed and the added lines of a unified diff, trimmed, one string each."""
    lines = diff.splitlines()
    before = [ln[1:].strip() for ln in lines if ln.startswith("-") and not ln.startswith("---")]
    after = [ln[1:].strip() for ln in lines if ln.startswith("+") and not ln.startswith("+++")]
    return "\n".join(before), "\n".join(after)


def function_of(mutant: str) -> str:
    """``homeprogram.services.access.x_roles_for__mutmut_3`` -> ``roles_for``."""
    mangled = mutant.rpartition(".")[2].rpartition("__mutmut_")[0]
    return mangled.removeprefix("x_").rpartition("ǁ")[2]


def why_equivalent(module: str, mutant: str, diff: str) -> str:
    before, after = changed_lines(diff)
    for entry in EQUIVALENT:
        if (entry.module, entry.function, entry.before, entry.after) == (
            module,
            function_of(mutant),
            before,
            after,
        ):
            return entry.why
    return ""


class MigrateOnce:
    """A pytest plugin: migrate the SQLite template database once per module run.

    ``tests/conftest.py`` migrates a template database once per pytest session, and mutmut
    starts a session for every mutant. The first migrated file is kept and copied for the
    sessions after it (as conftest copies the template for each test); PostgreSQL runs
    migrate as usual.
    """

    def __init__(self, cache: Path) -> None:
        self.cache = cache

    def pytest_configure(self, config: Any) -> None:
        conftest = sys.modules.get("tests.conftest")
        if conftest is None or getattr(conftest.upgrade, "migrate_once", False):
            return
        migrate = conftest.upgrade
        cache = self.cache

        def upgrade(url: str) -> None:
            if not url.startswith("sqlite:///"):
                migrate(url)
                return
            path = Path(url.removeprefix("sqlite:///"))
            if cache.exists():
                shutil.copyfile(cache, path)
            else:
                migrate(url)
                shutil.copyfile(path, cache)

        upgrade.migrate_once = True  # type: ignore[attr-defined]
        conftest.upgrade = upgrade


def _listed_equivalents(
    name: str, target: Target, max_children: int
) -> tuple[list[str], dict[str, str]]:
    """Generate the module's mutants (as ``mutmut run`` does first); return the names of
    those that count, and those of them that ``EQUIVALENT`` lists, with the reason."""
    from mutmut.__main__ import create_mutants
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir

    WORK.mkdir(exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):
        copy_src_dir()
        copy_also_copy_files()
        create_mutants(max_children)
    data = SourceFileMutationData(path=Path(target.path))
    data.load()
    counted = [key for key in data.exit_code_by_key if target.counts(key)]
    listed = {}
    for key in counted:
        why = why_equivalent(name, key, get_diff_for_mutant(key, path=target.path))
        if why:
            listed[key] = why
    return counted, listed


def run_one(name: str, max_children: int, again: bool, check_equivalents: bool) -> None:
    """In a fresh process (mutmut imports the mutated package once): mutate one module, run
    its tests against every mutant, and write its results. ``again``: try the survivors of
    the previous pass once more (on the database the environment names). Mutants listed
    in ``EQUIVALENT`` are not run unless ``check_equivalents``."""
    os.chdir(ROOT)
    from mutmut import configuration
    from mutmut.__main__ import _run
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.runners.harness import PytestRunner
    from mutmut.stats import status_by_exit_code

    plugin = MigrateOnce(WORK / "migrated-template.sqlite3")
    execute_pytest = PytestRunner.execute_pytest

    def with_plugin(self: Any, params: list[str], **kwargs: Any) -> int:
        kwargs["plugins"] = [*kwargs.get("plugins", []), plugin]
        return execute_pytest(self, params, **kwargs)

    PytestRunner.execute_pytest = with_plugin  # type: ignore[method-assign]

    target = MODULES[name]
    config = configuration.config()
    config.only_mutate = [target.path]
    config.pytest_add_cli_args_test_selection = list(target.tests)
    result_file = RESULTS / f"{name}.json"
    if again:
        previous = json.loads(result_file.read_text())
        names = [s["mutant"] for s in previous["survivors"] if not s["equivalent"]]
        # Which tests call which function, learnt afresh: tests for one database only
        # were skipped in the first pass and are not in its record.
        (WORK / "mutmut-stats.json").unlink(missing_ok=True)
    else:
        previous = None
        names = target.mutant_globs()
    listed: dict[str, str] = {}
    if not (again or check_equivalents):
        counted, listed = _listed_equivalents(name, target, max_children)
        if listed:
            names = [key for key in counted if key not in listed]
    if names or not listed:
        try:
            _run(names, max_children)
        except SystemExit as stop:  # mutmut ends some runs with exit(0)
            if stop.code not in (None, 0):
                raise
    data = SourceFileMutationData(path=Path(target.path))
    data.load()
    statuses = {
        key: status_by_exit_code[code]
        for key, code in data.exit_code_by_key.items()
        if target.counts(key)
    }
    statuses.update(dict.fromkeys(listed, "equivalent (listed, not run)"))
    database = "postgresql" if os.environ.get("HOMEPROGRAM_TEST_POSTGRES_URL") else "sqlite"
    killed_on = {key: database for key, status in statuses.items() if status in KILLED}
    if previous is not None:
        statuses = {**previous["statuses"], **{key: statuses[key] for key in names}}
        killed_on = {**previous["killed_on"], **{k: v for k, v in killed_on.items() if k in names}}
    survivors = []
    for key, status in sorted(statuses.items()):
        if status not in KILLED:
            diff = get_diff_for_mutant(key, path=target.path)
            survivors.append(
                {
                    "mutant": key,
                    "status": status,
                    "diff": diff,
                    "equivalent": why_equivalent(name, key, diff),
                }
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    result_file.write_text(
        json.dumps(
            {
                "module": name,
                "path": target.path,
                "tests": target.tests,
                "statuses": statuses,
                "killed_on": killed_on,
                "survivors": survivors,
                "passes": [*(previous or {}).get("passes", []), database],
            },
            indent=2,
        )
    )


def _child(name: str, max_children: int, postgres: str = "", check: bool = False) -> bool:
    command = [sys.executable, __file__, "--one", name, "--max-children", str(max_children)]
    if check:
        command.append("--check-equivalents")
    env = dict(os.environ)
    env.pop("HOMEPROGRAM_TEST_POSTGRES_URL", None)
    if postgres:
        command.append("--again")
        env["HOMEPROGRAM_TEST_POSTGRES_URL"] = postgres
    finished = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603
    return finished.returncode == 0


def run_module(name: str, max_children: int, postgres: str, check: bool = False) -> Outcome:
    """Mutate one module from a clean copy and run its tests on SQLite; then try the
    survivors not listed as equivalent on PostgreSQL (CI runs the suite on both: a mutant
    that only PostgreSQL's tests catch is caught). Each pass is a child process."""
    shutil.rmtree(WORK, ignore_errors=True)  # a fresh copy: no mutant left from another run
    result_file = RESULTS / f"{name}.json"
    result_file.unlink(missing_ok=True)
    started, cpu = time.monotonic(), _children_cpu()
    if not _child(name, max_children, check=check):
        raise SystemExit(f"mutation testing of {name} stopped: see the output above")
    survivors = json.loads(result_file.read_text())["survivors"]
    unexplained = [s for s in survivors if not s["equivalent"]]
    # When the PostgreSQL pass stops, the SQLite results stand: the survivors stay survivors.
    if postgres and unexplained and not _child(name, max_children, postgres):
        print(f"\nThe PostgreSQL pass of {name} stopped: see the output above.\n")
    data = json.loads(result_file.read_text())
    data["seconds"] = round(time.monotonic() - started)
    data["cpu_seconds"] = round(_children_cpu() - cpu)
    result_file.write_text(json.dumps(data, indent=2))
    return load_outcome(name)


def load_outcome(name: str) -> Outcome:
    """A module's last results, with the survivors checked against ``EQUIVALENT`` now."""
    data = json.loads((RESULTS / f"{name}.json").read_text())
    survivors = [
        {**s, "equivalent": why_equivalent(name, s["mutant"], s["diff"])} for s in data["survivors"]
    ]
    return Outcome(
        name, data["statuses"], survivors, data.get("seconds", 0), data.get("cpu_seconds", 0)
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def postgres_reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # any failure to connect: say why, carry on with SQLite
        print(f"PostgreSQL at {url} is not reachable ({type(error).__name__}): survivors are")
        print("not tried there. Start it (as for `make test-postgres`) or pass --postgres ''.")
        return False
    return True


def report(outcomes: list[Outcome]) -> bool:
    """Print the table and every unexplained survivor; True when every target is met.

    ``killed`` counts timeouts too; ``score`` is killed / (mutants - equivalent ones).
    """
    ok = True
    print()
    print(
        f"{'module':<10} {'mutants':>7} {'killed':>6} {'equiv.':>6} {'other':>5} "
        f"{'killed%':>7} {'score':>6} {'target':>6} {'time':>6} {'cpu':>6}"
    )
    for o in outcomes:
        target = MODULES[o.module].target
        other = len(o.unexplained)
        print(
            f"{o.module:<10} {o.total:>7} {o.killed:>6} {o.equivalent:>6} {other:>5} "
            f"{o.killed / max(o.total, 1):>7.1%} {o.score:>6.1%} {target:>6.0%} "
            f"{o.seconds / 60:>5.1f}m {o.cpu_seconds / 60:>5.1f}m"
        )
        if o.score < target or other:
            ok = False
    wall = sum(o.seconds for o in outcomes) / 60
    cpu = sum(o.cpu_seconds for o in outcomes) / 60
    print(f"{len(outcomes)} modules in {wall:.1f} min ({cpu:.1f} min of CPU); results in {RESULTS}")
    for o in outcomes:
        for s in o.unexplained:
            print(f"\n{s['status']}: {s['mutant']}\n{s['diff']}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"{', '.join(MODULES)}")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("HOMEPROGRAM_TEST_POSTGRES_URL", ""),
        help="PostgreSQL URL on which to try the survivors of the SQLite pass ('' for none)",
    )
    parser.add_argument(
        "--report", action="store_true", help="print the last results again, run nothing"
    )
    parser.add_argument(
        "--check-equivalents",
        action="store_true",
        help="run the mutants listed as equivalent too, to check the list (slower)",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--again", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        run_one(args.one, args.max_children, args.again, args.check_equivalents)
        return 0
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    if args.report:
        done = [m for m in args.modules or MODULES if (RESULTS / f"{m}.json").exists()]
        return 0 if report([load_outcome(name) for name in done]) else 1
    postgres = args.postgres if args.postgres and postgres_reachable(args.postgres) else ""
    outcomes = [
        run_module(name, args.max_children, postgres, args.check_equivalents)
        for name in args.modules or MODULES
    ]
    return 0 if report(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
