"""`make mutation`: how many wrong security decisions the test suite notices.

For every target in `mutation/targets.toml` (one module and the tests that pin its decisions),
cosmic-ray makes one small change at a time to the module (a flipped comparison, a negated
condition, a dropped decorator, ...) and the target's tests run against it. A change the tests
notice is *killed*; one they do not is a *survivor*. Survivors of the first, fast stage
(SQLite, in-memory limits) run again against PostgreSQL and Redis with the target's
`survivor-tests` added, since some behaviour only exists there.

In each stage a mutant runs only the tests that execute its statement (measured once per
target and stage with coverage's per-test contexts), plus, in the second, the survivor tests
in full; a mutant of code that runs at import time runs the whole list, and one of code no
test executes survives without a run (or, in the second stage, runs the survivor tests alone,
whose servers coverage does not see).

Mutants that cannot change behaviour are not counted: those inside type annotations (every
module has `from __future__ import annotations`, so they are never evaluated) and those listed
in `mutation/equivalent.toml`, each with its reason. The score of a module is
killed / (killed + survived); the run fails when a module scores under 95%.

Everything happens in a copy of the work tree (`.mutation/tree`), so the checkout is never
left mutated, whatever happens to the run. Each module's result is kept in
`.mutation/results.json` (a run of some modules updates theirs), and the report of every
module run so far, with each survivor's diff, is written to `.mutation/report.md`.

    python mutation/run.py                       # every target
    python mutation/run.py --module myapi/security/scopes.py --module myapi/ratelimits.py
    python mutation/run.py --list                # count the mutants, run nothing
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cosmic_ray.plugins
from cosmic_ray.commands.init import init as generate_mutants
from cosmic_ray.mutating import mutate_and_test, mutate_code
from cosmic_ray.work_db import WorkDB
from cosmic_ray.work_item import MutationSpec, TestOutcome, WorkerOutcome, WorkItem, WorkResult
from coverage import CoverageData

ROOT = Path(__file__).resolve().parent.parent
# MUTATION_WORK: another directory for the copy and the results, for a second run beside
# the first (one per core).
WORK = Path(os.environ.get("MUTATION_WORK", ROOT / ".mutation")).resolve()
TREE = WORK / "tree"
TARGETS = ROOT / "mutation" / "targets.toml"
EQUIVALENTS = ROOT / "mutation" / "equivalent.toml"
RESULTS = WORK / "results.json"
TARGET_SCORE = 0.95

# The second stage's services: the machine's own, unless the environment names others. The
# Redis databases are the mutation run's, so a test run or CI beside it keeps its own.
SERVICES = {
    "TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "TEST_REDIS_URL": "redis://127.0.0.1:6379/5",
    "TEST_SECURITY_REDIS_DB": "4",
}


@dataclass(frozen=True)
class Target:
    module: str
    tests: tuple[str, ...]
    survivor_tests: tuple[str, ...]


@dataclass(frozen=True)
class Equivalent:
    """A mutant that cannot change behaviour: its module, the line before and after."""

    module: str
    line: str
    mutant: str
    reason: str


@dataclass
class Outcome:
    """One module's mutants, by what became of them."""

    module: str
    killed: int = 0
    survivors: list[dict[str, str | int]] = field(default_factory=list)
    equivalent: int = 0
    listed_equivalents: set[Equivalent] = field(default_factory=set)
    in_annotations: int = 0
    not_applied: list[dict[str, str | int]] = field(default_factory=list)

    @property
    def score(self) -> float:
        counted = self.killed + len(self.survivors)
        return self.killed / counted if counted else 1.0

    def as_record(self) -> dict[str, object]:
        return {
            "date": datetime.date.today().isoformat(),
            "killed": self.killed,
            "survived": len(self.survivors),
            "equivalent": self.equivalent,
            "in_annotations": self.in_annotations,
            "score": self.score,
            "survivors": self.survivors,
            "not_applied": self.not_applied,
        }


@dataclass
class Stage:
    """One way of running a target's tests against its mutants.

    Which tests reach each line is measured on first use, on the unmutated tree, which must
    pass; three times that run's length (plus a margin) bounds each mutant's run.
    """

    name: str
    services: bool
    tests: tuple[str, ...]
    always: tuple[str, ...] = ()
    by_line: dict[int, set[str]] | None = None
    timeout: float = 0.0

    def run(self, item: WorkItem, lines: range) -> WorkResult:
        stage_environment(self.services)
        if self.by_line is None:
            self.by_line, seconds = self.measure()
            self.timeout = 3 * seconds + 60
        contexts = set().union(*(self.by_line.get(line, set()) for line in lines))
        if not contexts and not self.always:
            # Not even at import time: no test executes this code, so none can notice. (The
            # survivor tests run servers in processes of their own, which coverage does not
            # see, so with them nothing is skipped.)
            before, after = changed_line(
                Path(item.mutations[0].module_path).read_text(), item.mutations[0]
            )
            return WorkResult(
                worker_outcome=WorkerOutcome.NORMAL,
                test_outcome=TestOutcome.SURVIVED,
                diff=f"(no test executes it)\n-{before}\n+{after}",
            )
        reaching = contexts - {""}
        if reaching:
            selected = [shlex.quote(n) for n in sorted(reaching)]
        else:
            selected = list(self.tests) if contexts else []
        command = pytest_command([*selected, *self.always])
        return mutate_and_test(item.mutations, command, self.timeout)

    def measure(self) -> tuple[dict[int, set[str]], float]:
        data_file = WORK / (re.sub(r"[/:]", "_", self.name) + ".coverage")
        data_file.unlink(missing_ok=True)
        command = pytest_command([*self.tests, *self.always])
        command += " -p pytest_cov --cov=myapi --cov-context=test --cov-report="
        seconds = passing_seconds(command, os.environ | {"COVERAGE_FILE": str(data_file)})
        data = CoverageData(basename=str(data_file))
        data.read()
        module = self.name.split(":")[0]
        contexts = data.contexts_by_lineno(str(TREE / module))
        # By test function: a parameter id may hold characters no command line gives back.
        by_line = {
            line: {re.sub(r"\[.*", "", c.split("|")[0]) for c in names}
            for line, names in contexts.items()
        }
        # A mutant counts as killed when its command fails; a test id the command cannot
        # name would fail it too, so every id must first be collected as is.
        every_test = sorted(set().union(*by_line.values()) - {""})
        if every_test:
            passing_seconds(pytest_command(map(shlex.quote, every_test)) + " --collect-only")
        return by_line, seconds


def load_targets() -> tuple[list[str], list[Target]]:
    settings = tomllib.loads(TARGETS.read_text())
    targets = [
        Target(
            module=entry["module"],
            tests=tuple(entry["tests"]),
            survivor_tests=tuple(entry.get("survivor-tests", ())),
        )
        for entry in settings["target"]
    ]
    return settings["exclude-operators"], targets


def load_equivalents() -> list[Equivalent]:
    entries = tomllib.loads(EQUIVALENTS.read_text()).get("equivalent", [])
    return [
        Equivalent(e["module"], e["line"].strip(), e["mutant"].strip(), e["reason"])
        for e in entries
    ]


def equivalent_to(listed: list[Equivalent], change: tuple[str, str]) -> Equivalent | None:
    """The listed entry for this change; spacing is ignored (cosmic-ray writes `x= 1`)."""

    def bare(text: str) -> str:
        return "".join(text.split())

    before, after = map(bare, change)
    return next((e for e in listed if (bare(e.line), bare(e.mutant)) == (before, after)), None)


def changed_line(source: str, mutation: MutationSpec) -> tuple[str, str]:
    """The line a mutant changes, before and after (stripped)."""
    operator = cosmic_ray.plugins.get_operator(mutation.operator_name)(**mutation.operator_args)
    mutated = mutate_code(source, operator, mutation.occurrence).splitlines()
    line = mutation.start_pos[0] - 1
    return source.splitlines()[line].strip(), mutated[line].strip()


def copy_work_tree() -> None:
    """The files git knows of (tracked, or new and not ignored), as they are in the checkout."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    shutil.rmtree(TREE, ignore_errors=True)
    for name in filter(None, (raw.decode() for raw in listed)):
        source = ROOT / name
        if source.is_file():
            destination = TREE / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the module's annotations are, as (line, column) ranges."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [a for a in (arguments.vararg, arguments.kwarg) if a]
            annotations = [a.annotation for a in every] + [node.returns]
        elif isinstance(node, ast.AnnAssign):
            annotations = [node.annotation]
        spans += [
            ((a.lineno, a.col_offset), (a.end_lineno or a.lineno, a.end_col_offset or 0))
            for a in annotations
            if a is not None
        ]
    return spans


def in_any(position: tuple[int, int], spans: Iterable[tuple[tuple[int, int], tuple[int, int]]]):
    return any(start <= tuple(position) < end for start, end in spans)


def pytest_command(tests: Iterable[str]) -> str:
    """Pytest without the plugins it would load by itself (see `main`), stopping at a failure."""
    return f"{sys.executable} -m pytest -x -q -p no:cacheprovider -o addopts= {' '.join(tests)}"


def stage_environment(services: bool) -> None:
    """SQLite and in-memory limits for the first stage; PostgreSQL and Redis for survivors."""
    for name, default in SERVICES.items():
        if services:
            os.environ[name] = os.environ.get(f"MUTATION_{name}", default)
        else:
            os.environ.pop(name, None)


def mutants(target: Target, exclude_operators: list[str]) -> list[WorkItem]:
    """The target's mutants, without the excluded operators."""
    database = WORK / (target.module.replace("/", "_") + ".sqlite")
    database.unlink(missing_ok=True)
    excluded = re.compile("|".join(f"(?:{pattern})" for pattern in exclude_operators))
    work_db = WorkDB(database, WorkDB.Mode.create)
    try:
        generate_mutants([Path(target.module)], work_db, {})
        items = list(work_db.work_items)
    finally:
        work_db.close()
    return [item for item in items if not excluded.match(item.mutations[0].operator_name)]


def passing_seconds(command: str, environment: dict[str, str] | None = None) -> float:
    """The unmutated tree must pass its tests; their time sets each mutant's timeout."""
    started = time.monotonic()
    result = subprocess.run(shlex.split(command), capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        sys.exit(f"The tests fail without any mutation:\n{command}\n{result.stdout[-4000:]}")
    return time.monotonic() - started


def statement_lines(tree: ast.Module, line: int) -> range:
    """The lines of the innermost statement holding `line`: coverage records one of them."""
    innermost = range(line, line + 1)
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or line):
            span = range(node.lineno, (node.end_lineno or node.lineno) + 1)
            if innermost == range(line, line + 1) or len(span) < len(innermost):
                innermost = span
    return innermost


def test_mutants(target: Target, items: list[WorkItem], equivalents: list[Equivalent]) -> Outcome:
    outcome = Outcome(target.module)
    source = (TREE / target.module).read_text()
    spans = annotation_spans(source)
    listed = [e for e in equivalents if e.module == target.module]
    runnable = []
    for item in items:
        mutation = item.mutations[0]
        if in_any(mutation.start_pos, spans):
            outcome.in_annotations += 1
        elif listed and (match := equivalent_to(listed, changed_line(source, mutation))):
            outcome.equivalent += 1
            outcome.listed_equivalents.add(match)
        else:
            runnable.append(item)
    if not runnable:
        return outcome

    fast = Stage(f"{target.module}:fast", services=False, tests=target.tests)
    thorough = Stage(
        f"{target.module}:thorough",
        services=True,
        tests=target.tests,
        always=target.survivor_tests,
    )
    module_tree = ast.parse(source)
    for number, item in enumerate(runnable, 1):
        mutation = item.mutations[0]
        lines = statement_lines(module_tree, mutation.start_pos[0])
        result = fast.run(item, lines)
        if result.test_outcome == TestOutcome.SURVIVED:
            result = thorough.run(item, lines)
        verdict = result.test_outcome
        if verdict == TestOutcome.SURVIVED:
            outcome.survivors.append(
                {
                    "operator": mutation.operator_name,
                    "line": mutation.start_pos[0],
                    "diff": result.diff or "",
                }
            )
        elif verdict == TestOutcome.KILLED:
            outcome.killed += 1
        else:
            # cosmic-ray 8.7 cannot apply some mutants (its ExceptionReplacer on a handler
            # naming a tuple with a dotted name): a fault of the tool, not a verdict.
            outcome.not_applied.append(
                {"operator": mutation.operator_name, "line": mutation.start_pos[0]}
            )
            verdict = "not applied by cosmic-ray"
        print(
            f"  {number}/{len(runnable)} line {mutation.start_pos[0]} "
            f"{mutation.operator_name}: {getattr(verdict, 'value', verdict)}",
            flush=True,
        )
    return outcome


def unused_equivalents(equivalents: list[Equivalent], outcomes: list[Outcome]) -> list[Equivalent]:
    """Entries of equivalent.toml that matched no mutant: the list must stay true."""
    modules = {o.module for o in outcomes}
    used = set().union(*(o.listed_equivalents for o in outcomes))
    return [e for e in equivalents if e.module in modules and e not in used]


def record(outcomes: list[Outcome]) -> dict[str, dict]:
    """Keep these modules' results beside those of earlier runs."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results |= {o.module: o.as_record() for o in outcomes}
    RESULTS.write_text(json.dumps(results, indent=2))
    return results


def write_report(targets: list[Target], results: dict[str, dict], stale: list[Equivalent]) -> str:
    table = [
        "| Module | Killed | Survived | Equivalent (listed) | In annotations | Score | Run on |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    table += [
        f"| `{t.module}` | {r['killed']} | {r['survived']} | {r['equivalent']} | "
        f"{r['in_annotations']} | {math.floor(r['score'] * 100)}% | {r['date']} |"
        for t in targets
        if (r := results.get(t.module))
    ]
    details = [
        f"\n### `{module}` line {s['line']} ({s['operator']})\n\n```diff\n{s['diff'].strip()}\n```"
        for module, r in results.items()
        for s in r["survivors"]
    ]
    details += [
        f"\nNot applied by cosmic-ray (not counted): `{module}` line {n['line']} ({n['operator']})"
        for module, r in results.items()
        for n in r.get("not_applied", [])
    ]
    details += [f"\nStale entry in equivalent.toml: {e.module}: `{e.line}`" for e in stale]
    (WORK / "report.md").write_text("\n".join(table + details) + "\n")
    return "\n".join(table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--module", action="append", help="only this target (repeatable; run in this order)"
    )
    parser.add_argument("--list", action="store_true", help="count mutants, run nothing")
    arguments = parser.parse_args()

    exclude_operators, every_target = load_targets()
    targets = every_target
    if arguments.module:
        unknown = set(arguments.module) - {t.module for t in targets}
        if unknown:
            sys.exit(f"not a target in mutation/targets.toml: {', '.join(sorted(unknown))}")
        by_module = {t.module: t for t in targets}
        targets = [by_module[module] for module in dict.fromkeys(arguments.module)]
    equivalents = load_equivalents()

    # Each mutant starts pytest afresh; the plugins installed for the security suite
    # (hypothesis', schemathesis', anyio's) would double that start, and these tests need none.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    WORK.mkdir(exist_ok=True)
    copy_work_tree()
    os.chdir(TREE)
    outcomes = []
    for target in targets:
        items = mutants(target, exclude_operators)
        print(f"{target.module}: {len(items)} mutants", flush=True)
        if not arguments.list:
            outcomes.append(test_mutants(target, items, equivalents))
            record(outcomes[-1:])
    if arguments.list:
        return 0

    stale = unused_equivalents(equivalents, outcomes)
    print(write_report(every_target, record([]), stale))
    print(f"Survivors' diffs: {WORK / 'report.md'}")
    below = [o.module for o in outcomes if o.score < TARGET_SCORE]
    if below or stale:
        print(f"Under {TARGET_SCORE:.0%}: {', '.join(below) or 'none'}")
        print(f"Stale entries in equivalent.toml: {len(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
