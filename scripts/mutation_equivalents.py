"""Surviving mutants reviewed and found equivalent: the change makes no difference a
person, a caller or a test could observe. ``scripts/mutation.py`` does not run them (pass
``--check-equivalents`` to run them all the same) and counts them apart from the score.

An entry names the module, the function and the lines the mutant changes (trimmed), so it
outlives mutmut's renumbering; when that code changes the entry stops matching, and the
mutant is run and reported again.
"""

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Equivalent:
    """A surviving mutant that changes no behaviour, matched by its function and the
    lines it changes (whitespace-trimmed), so the entry outlives renumbering."""

    module: str
    function: str
    before: str
    after: str
    why: str
    # True for a survivor that does change behaviour, but only in a race or a query plan no
    # test can bring about on purpose: it counts against the score, and ``why`` says so.
    accepted: bool = False


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
EQUIVALENT += [
    Equivalent(
        "adherence",
        "_compute_and_store",
        "select(Child.id)",
        "select(None)",
        "PostgreSQL accepts an empty select list and locks the same rows FOR SHARE; SQLite "
        "takes no row locks (its write transaction keeps other writers out).",
    ),
    Equivalent(
        "adherence",
        "adherence_for",
        "CompletionLog.child_id.in_(ids),",
        "",
        "Other children's logs are counted too, then dropped: only the requested children's "
        "assignments are looked up.",
    ),
    Equivalent(
        "adherence",
        "_compute_and_store",
        ".order_by(Child.id)",
        ".order_by(None)",
        "Not equivalent: taking the row locks in id order keeps two requests that fill "
        "overlapping caseloads at once from deadlocking; no test races two fillers.",
        accepted=True,
    ),
    Equivalent(
        "adherence",
        "_load_assignments",
        ".order_by(Assignment.id)",
        ".order_by(None)",
        "Not equivalent: versions must come after what they replace. SQLite returns rows in "
        "id order anyway, and PostgreSQL did in every plan the tests led it to (a version "
        "edited after its successor was written included).",
        accepted=True,
    ),
    *(
        Equivalent(
            "adherence",
            "daily_totals",
            ".order_by(AdherenceDay.child_id, AdherenceDay.local_date)  # the primary key",
            after,
            "Not equivalent: a child's cache rows must come in day order. Both databases "
            "return them so when they read the primary key's index, as they usually do; the "
            "test that moves a row (a late log, then a new day) catches it only when "
            "PostgreSQL reads the table instead.",
            accepted=True,
        )
        for after in (
            ".order_by(AdherenceDay.child_id, None)  # the primary key",
            ".order_by(AdherenceDay.child_id, )  # the primary key",
        )
    ),
]

# adherence_for's engine now lives in adherence_of (adherence_for reads the time zones and
# the counted assignments and hands them over; Today passes those it has read): the same
# lines there, for the same reasons.
EQUIVALENT += [
    replace(entry, function="adherence_of")
    for entry in EQUIVALENT
    if entry.module == "adherence" and entry.function == "adherence_for"
]
EQUIVALENT += [
    Equivalent(
        "adherence",
        "adherence_flags_from",
        "if data.start > today - timedelta(days=LOW_RATE_DAYS) or data.end < yesterday:",
        after,
        "The guard's own edge: a range that starts exactly 14 days back, or ends exactly "
        "yesterday, is then read from the database instead of the figures handed over: the "
        "same flags (tests/test_request_queries.py compares both ways over such ranges), one "
        "query more.",
    )
    for after in (
        "if data.start >= today - timedelta(days=LOW_RATE_DAYS) or data.end < yesterday:",
        "if data.start > today - timedelta(days=LOW_RATE_DAYS) or data.end <= yesterday:",
    )
]
EQUIVALENT.append(
    Equivalent(
        "adherence",
        "adherence_of",
        "result = {cid: ChildAdherence(cid, tz, start, end) for cid, tz in timezones.items()}",
        "result = {cid: ChildAdherence(cid, None, start, end) for cid, tz in timezones.items()}",
        _ADHERENCE_SAME["tz"],
    )
)


def markdown() -> str:
    """docs/mutation-equivalents.md: every listed survivor with the reason it is listed."""
    lines = [
        "# Mutation survivors listed as equivalent",
        "",
        "Generated from `scripts/mutation_equivalents.py` by "
        "`python scripts/mutation_equivalents.py > docs/mutation-equivalents.md`; a test keeps",
        "it current. *Equivalent*: the change makes no difference a person, a caller or a test",
        "could observe. *Accepted*: it does change behaviour, but only in a race or a query plan",
        "no test can bring about on purpose; it counts against the score.",
        "",
        "| module | function | code | mutated to | kind | why |",
        "| --- | --- | --- | --- | --- | --- |",
    ]

    def cell(text: str) -> str:
        return "`" + text.replace("|", "\\|") + "`" if text else "(removed)"

    for entry in sorted(EQUIVALENT, key=lambda e: (e.module, e.function, e.before, e.after)):
        kind = "accepted" if entry.accepted else "equivalent"
        why = entry.why.replace("|", "\\|")
        lines.append(
            f"| {entry.module} | `{entry.function}` | {cell(entry.before)} | {cell(entry.after)}"
            f" | {kind} | {why} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
