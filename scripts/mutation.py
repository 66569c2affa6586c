"""Mutation testing of the rules that guard children's data and the nothing-lost promise.

Run: ``make mutation`` (every module), or ``make mutation MODULES="claims invites"``, or
``python scripts/mutation.py [--postgres URL] claims invites``; ``--report`` prints the last
results again; ``python scripts/mutation.py adherence --only MUTANT...`` runs just the named
mutants again (a test added for them), on SQLite then on PostgreSQL, and updates the
module's results. It is not part of ``.ci/run``.

mutmut 3 copies the package into ``mutants/`` and rewrites each function of a target module
so that a switch picks one small change (a mutant: ``<`` for ``<=``, ``None`` for a value,
a dropped argument...). It runs the module's tests once to learn which tests call which
function; then, for each mutant, only those tests. A mutant is *killed* when a test fails,
and *survives* when every test passes: a rule that can break without any test noticing.

Each module runs with the test files that cover it (``MODULES`` below), in a process of
its own, smaller modules first, on SQLite; the survivors are then tried on PostgreSQL
(``--postgres``), where CI runs the suite too. Mutants listed in
``scripts/mutation_equivalents.py`` (reviewed: they change no behaviour) are not run unless
``--check-equivalents``. Results go to ``artifacts/mutation/<module>.json`` (every mutant
with its status, the diff of each survivor) and a table is printed at the end. The run
fails when a module's score is under its target or a survivor is neither killed nor listed.

Only function bodies are mutated: module-level statements (the access subqueries
``TEAM_ROLE``/``STAFF_ROLE``, the column lists of a query) are evaluated once at import,
before any mutant is switched on, and are guarded by named tests instead. For the same
reason ``adherence._recent_sessions`` (called once at import) is left out.
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

from mutation_equivalents import EQUIVALENT

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
    # The tests that try the SQLite survivors on PostgreSQL (default: all of ``tests``).
    postgres_tests: tuple[str, ...] = ()

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
        postgres_tests=("tests/test_claims.py", "tests/test_claim_rules.py"),
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
        postgres_tests=("tests/test_log_rules.py", "tests/test_caregiver_logs.py"),
    ),
    "exports": Target(
        "homeprogram/services/exports.py",
        ("tests/test_reports.py", "tests/test_export_rules.py"),
        0.80,
        postgres_tests=("tests/test_export_rules.py",),
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
            # Today runs the engine once for the week, the streak and the barrier flags.
            "tests/test_caregiver_today.py",
            "tests/test_request_queries.py",
        ),
        0.80,
        # Called once at import to build _RECENT_SESSIONS; the "often hard" tests cover it.
        skip=("_recent_sessions",),
        postgres_tests=("tests/test_adherence_rules.py", "tests/test_adherence_cache.py"),
    ),
}


KILLED = {"killed", "timeout"}  # a mutant that hangs the tests is caught by the time limit


@dataclass
class Outcome:
    module: str
    statuses: dict[str, str] = field(default_factory=dict)
    survivors: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    # Mutants of the full run that the source no longer has: it changed since.
    stale: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.statuses)

    @property
    def killed(self) -> int:
        return sum(status in KILLED for status in self.statuses.values())

    @property
    def equivalent(self) -> int:
        return sum(bool(s["equivalent"]) and not s.get("accepted") for s in self.survivors)

    @property
    def accepted(self) -> int:
        return sum(bool(s.get("accepted")) for s in self.survivors)

    @property
    def unexplained(self) -> list[dict[str, Any]]:
        return [s for s in self.survivors if not s["equivalent"]]

    @property
    def score(self) -> float:
        """Killed among the mutants that can be killed (the equivalent ones cannot; the
        accepted ones could, and count as not killed)."""
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


def listed(module: str, mutant: str, diff: str) -> Any:
    """The ``EQUIVALENT`` entry that explains this survivor, or None."""
    before, after = changed_lines(diff)
    for entry in EQUIVALENT:
        if (entry.module, entry.function, entry.before, entry.after) == (
            module,
            function_of(mutant),
            before,
            after,
        ):
            return entry
    return None


def explained(module: str, mutant: str, diff: str) -> dict[str, Any]:
    """A survivor's ``equivalent`` (the reason, or "") and ``accepted`` fields."""
    entry = listed(module, mutant, diff)
    return {"equivalent": entry.why if entry else "", "accepted": bool(entry and entry.accepted)}


def why_equivalent(module: str, mutant: str, diff: str) -> str:
    return explained(module, mutant, diff)["equivalent"]


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


def run_one(
    name: str,
    max_children: int,
    again: bool,
    check_equivalents: bool,
    only: list[str] | None = None,
) -> None:
    """In a fresh process (mutmut imports the mutated package once): mutate one module, run
    its tests against every mutant, and write its results. ``again``: try the survivors of
    the previous pass once more (on the database the environment names, with the module's
    ``postgres_tests``). ``only``: run just these mutants again, the other results kept.
    Mutants listed in ``EQUIVALENT`` are not run unless ``check_equivalents``."""
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
        config.pytest_add_cli_args_test_selection = list(target.postgres_tests or target.tests)
    # Which tests call which function, learnt afresh every time: mutmut keeps the record of
    # an earlier run and does not learn functions added since (their mutants would count as
    # "no tests"), and tests for one database only were skipped in the first pass.
    (WORK / "mutmut-stats.json").unlink(missing_ok=True)
    if again or only:
        previous = json.loads(result_file.read_text())
        names = only or [s["mutant"] for s in previous["survivors"] if not s["equivalent"]]
    else:
        previous = None
        names = target.mutant_globs()
    listed: dict[str, str] = {}
    if not (again or only or check_equivalents):
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
    stale: list[str] = []
    known: dict[str, str] = {}
    if previous is not None:
        # Mutants of the previous pass that the source no longer has (it changed since):
        # their diffs cannot be read back, and the module must be run again in full.
        stale = sorted(set(previous["statuses"]) - set(statuses))
        statuses = {**previous["statuses"], **{key: statuses[key] for key in names}}
        killed_on = {
            **{k: v for k, v in previous["killed_on"].items() if k not in names},
            **{k: v for k, v in killed_on.items() if k in names},
        }
        known = {s["mutant"]: s["diff"] for s in previous["survivors"] if s["mutant"] not in names}
    survivors = []
    for key, status in sorted(statuses.items()):
        if status not in KILLED:
            diff = known.get(key) or get_diff_for_mutant(key, path=target.path)
            survivors.append(
                {
                    "mutant": key,
                    "status": status,
                    "diff": diff,
                    **explained(name, key, diff),
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
                "passes": [
                    *(previous or {}).get("passes", []),
                    f"{database}: {len(names)} named" if only else database,
                ],
                "stale": stale or (previous or {}).get("stale", []),
                # A full run's time (run_module sets it after both passes) outlives a rerun.
                **{k: v for k, v in (previous or {}).items() if k in ("seconds", "cpu_seconds")},
            },
            indent=2,
        )
    )


def _child(
    name: str,
    max_children: int,
    postgres: str = "",
    check: bool = False,
    only: list[str] | None = None,
) -> bool:
    command = [sys.executable, __file__, "--one", name, "--max-children", str(max_children)]
    if check:
        command.append("--check-equivalents")
    if only:
        command += ["--only", *only]
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


def run_named(name: str, mutants: list[str], max_children: int, postgres: str) -> Outcome:
    """Run the named mutants of a module again (after a test was added for them) on SQLite,
    and those still surviving on PostgreSQL; the module's other results are kept."""
    if not (RESULTS / f"{name}.json").exists():
        raise SystemExit(f"no results for {name} yet: run the module in full first")
    # A fresh copy of the package and the migrated database: other modules may have changed
    # since (mutmut copies only what is missing; it remakes the mutated module if needed).
    shutil.rmtree(WORK / Path(MODULES[name].path).parts[0], ignore_errors=True)
    (WORK / "migrated-template.sqlite3").unlink(missing_ok=True)
    if not _child(name, max_children, only=mutants):
        raise SystemExit(f"mutation testing of {name} stopped: see the output above")
    survivors = json.loads((RESULTS / f"{name}.json").read_text())["survivors"]
    left = [s["mutant"] for s in survivors if s["mutant"] in mutants and not s["equivalent"]]
    if postgres and left and not _child(name, max_children, postgres, only=left):
        print(f"\nThe PostgreSQL pass of {name} stopped: see the output above.\n")
    return load_outcome(name)


def load_outcome(name: str) -> Outcome:
    """A module's last results, with the survivors checked against ``EQUIVALENT`` now."""
    data = json.loads((RESULTS / f"{name}.json").read_text())
    survivors = [{**s, **explained(name, s["mutant"], s["diff"])} for s in data["survivors"]]
    return Outcome(
        name,
        data["statuses"],
        survivors,
        data.get("seconds", 0),
        data.get("cpu_seconds", 0),
        data.get("stale", []),
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

    ``killed`` counts timeouts too; ``score`` is killed / (mutants - equivalent ones);
    ``accepted`` survivors are listed with the reason no test reaches them.
    """
    ok = True
    print()
    print(
        f"{'module':<10} {'mutants':>7} {'killed':>6} {'equiv.':>6} {'accepted':>8} {'other':>5} "
        f"{'killed%':>7} {'score':>6} {'target':>6} {'time':>6} {'cpu':>6}"
    )
    for o in outcomes:
        target = MODULES[o.module].target
        other = len(o.unexplained)
        print(
            f"{o.module:<10} {o.total:>7} {o.killed:>6} {o.equivalent:>6} {o.accepted:>8} "
            f"{other:>5} {o.killed / max(o.total, 1):>7.1%} {o.score:>6.1%} {target:>6.0%} "
            f"{o.seconds / 60:>5.1f}m {o.cpu_seconds / 60:>5.1f}m"
        )
        if o.score < target or other:
            ok = False
        if o.stale:
            ok = False
            print(
                f"  {o.module}: the source changed since the full run ({len(o.stale)} of its "
                f"mutants are gone, new ones were never run): run `make mutation "
                f"MODULES={o.module}` again"
            )
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
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="MUTANT",
        help="run just these mutants of the one MODULE again, keeping its other results",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--again", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        run_one(args.one, args.max_children, args.again, args.check_equivalents, args.only)
        return 0
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    if args.report:
        done = [m for m in args.modules or MODULES if (RESULTS / f"{m}.json").exists()]
        return 0 if report([load_outcome(name) for name in done]) else 1
    postgres = args.postgres if args.postgres and postgres_reachable(args.postgres) else ""
    if args.only:
        if len(args.modules) != 1:
            parser.error("--only names mutants of one MODULE")
        return (
            0 if report([run_named(args.modules[0], args.only, args.max_children, postgres)]) else 1
        )
    outcomes = [
        run_module(name, args.max_children, postgres, args.check_equivalents)
        for name in args.modules or MODULES
    ]
    return 0 if report(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
