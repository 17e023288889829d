"""Mutation testing of the safety core (`make mutation`); see docs/testing.md.

Each target module is mutated by mutmut in a copy of the tree of its own (var/mutation/<name>/),
against only the test modules that cover it, with at most two worker processes. The script then
prints killed, survived and equivalent counts per module. A surviving mutant is equivalent only if
docs/testing.md lists it (the toml block under "Equivalent mutants": file, function, the changed
line before and after, and why); any other survivor, or a listed one that no longer survives,
fails the run.

    .venv/bin/python scripts/mutation.py [TARGET ...] [--workers N]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "mutation"
DOC = ROOT / "docs" / "testing.md"
# Everything a test run imports or reads, copied into each target's tree.
TREE = [
    "config",
    "core",
    "locations",
    "membership",
    "training",
    "equipment",
    "bookings",
    "access",
    "gate_agent",
    "metering",
    "tests",
    "templates",
    "static",
    "docs",
    "scripts",
    "manage.py",
]
PACKAGES = [name for name in TREE[:10]]
# The chain's access tests (plans and local check-outs): they kill the mutants of those lines in
# the decision's facts, the allow-list and the booking rules.
CHAIN = "tests/locations/test_chain_access.py"
# Where an instructor teaches, and what a day pass opens: at the gate and on its offline list.
INSTRUCTORS = "tests/locations/test_instructors.py"
ONE_DAY_ACCESS = "tests/access/test_day_pass_access.py"
GATE_AGENT_TESTS = [
    "tests/gate_agent/test_agent.py",
    "tests/gate_agent/test_agent_record.py",
    "tests/gate_agent/test_guard.py",
    "tests/gate_agent/test_offline.py",
    "tests/gate_agent/test_protocol.py",
    "tests/gate_agent/test_fuzz.py",
    "tests/gate_agent/test_agent_power.py",
]
# The relay's read back and the power logic: the smart relays' twins and the agent with a meter.
RELAY_TESTS = ["tests/gate_agent/test_smart_relays.py", "tests/gate_agent/test_agent_power.py"]


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    tests: list[str]
    # Only these functions of the module ("Class.method" or "function"); all when empty.
    functions: list[str] = field(default_factory=list)


TARGETS = [
    Target("signing", "gate_agent/protocol/signing.py", GATE_AGENT_TESTS),
    Target("guard", "gate_agent/guard.py", GATE_AGENT_TESTS),
    Target("agent", "gate_agent/agent.py", GATE_AGENT_TESTS),
    Target("switch", "gate_agent/switch.py", RELAY_TESTS),
    Target("usage", "gate_agent/usage.py", ["tests/gate_agent/test_agent_power.py"]),
    Target(
        "booking-rules",
        "bookings/rules.py",
        [
            "tests/bookings/test_rules.py",
            "tests/bookings/test_rule_change.py",
            "tests/bookings/test_services.py",
            CHAIN,
        ],
    ),
    Target(
        "booking-span",
        "bookings/selectors.py",
        [
            "tests/bookings/test_services.py",
            CHAIN,
            "tests/bookings/test_day_pass_bookings.py",
            "tests/bookings/test_waitlist.py",
        ],
        functions=["booking_facts"],
    ),
    Target(
        "grace",
        "membership/selectors.py",
        [
            "tests/membership/test_grace.py",
            "tests/membership/test_services.py",
            "tests/membership/test_billing_lifecycle.py",
        ],
        functions=["grace_period", "grace_ends", "membership_in_good_standing"],
    ),
    Target(
        "lapse",
        "membership/billing/lapse.py",
        ["tests/membership/test_grace.py", "tests/membership/test_billing_lifecycle.py"],
    ),
    Target("policy", "access/policy.py", ["tests/access/test_policy.py"]),
    Target(
        "facts",
        "access/facts.py",
        [
            "tests/access/test_facts.py",
            "tests/access/test_services.py",
            "tests/access/test_selectors.py",
            CHAIN,
            INSTRUCTORS,
            ONE_DAY_ACCESS,
        ],
    ),
    Target(
        "allowlist",
        "access/allowlist.py",
        ["tests/access/test_allowlist.py", CHAIN, ONE_DAY_ACCESS],
    ),
    Target(
        "day-pass-rules", "equipment/daypasses/rules.py", ["tests/equipment/test_day_pass_rules.py"]
    ),
    Target("metering-rules", "metering/rules.py", ["tests/metering/test_rules.py"]),
]

KILLED = {"killed", "timeout", "caught by type check"}
SURVIVED = {"survived", "no tests"}


@dataclass
class Result:
    target: Target
    killed: int = 0
    equivalent: int = 0
    survivors: list[tuple[str, str]] = field(default_factory=list)  # (mutant, diff)
    broken: list[tuple[str, str]] = field(default_factory=list)  # (mutant, status)
    stale: list[str] = field(default_factory=list)  # listed equivalents that did not survive
    seconds: float = 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="names; default all")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args()
    by_name = {target.name: target for target in TARGETS}
    unknown = [name for name in args.targets if name not in by_name]
    if unknown:
        parser.error(f"unknown target(s) {unknown}; known: {', '.join(by_name)}")
    equivalents = load_equivalents()
    results = []
    for name in args.targets or by_name:
        target = by_name[name]
        print(f"--- {target.name}: {target.path} ({', '.join(target.tests)})", flush=True)
        results.append(run(target, equivalents, workers=args.workers))
    return report(results)


def load_equivalents() -> list[dict]:
    """The reviewed list of equivalent mutants: the toml block under '## Equivalent mutants'."""
    text = DOC.read_text()
    section = text.partition("\n## Equivalent mutants")[2]
    block = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    if block is None:
        sys.exit(f"{DOC.relative_to(ROOT)}: no ```toml block under '## Equivalent mutants'")
    return tomllib.loads(block.group(1)).get("equivalent", [])


def run(target: Target, equivalents: list[dict], *, workers: int) -> Result:
    tree = WORK / target.name
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in TREE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=ignore)
        else:
            shutil.copy2(source, tree / name)
    (tree / "pyproject.toml").write_text(
        (ROOT / "pyproject.toml").read_text() + mutmut_config(target)
    )
    env = {
        **os.environ,
        "TOOLGATE_MUTATION_DB": str(tree / "test-db.sqlite3"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DATABASE_URL", None)  # SQLite: the copied-database plugin relies on it
    names = [mutant_glob(target, function) for function in target.functions]
    mutmut = str(Path(sys.executable).parent / "mutmut")
    log = WORK / f"{target.name}.log"
    started = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(  # noqa: S603 - this venv's mutmut, our own arguments
            [mutmut, "run", "--max-children", str(workers), *names],
            cwd=tree,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    result = Result(target, seconds=time.monotonic() - started)
    meta = tree / "mutants" / f"{target.path}.meta"
    if done.returncode != 0 or not meta.exists():
        print(log.read_text()[-3000:])
        result.broken.append(("(mutmut run)", f"exit {done.returncode}; log in {log}"))
        return result
    classify(result, tree, json.loads(meta.read_text())["exit_code_by_key"], names, equivalents)
    return result


def mutmut_config(target: Target) -> str:
    config = {
        "source_paths": PACKAGES,
        "only_mutate": [target.path],
        "also_copy": [name for name in TREE if name not in PACKAGES and name != "tests"],
        "pytest_add_cli_args_test_selection": target.tests,
        "pytest_add_cli_args": ["-p", "scripts.mutation_pytest", "--reuse-db"],
        "use_git_change_detection": False,
    }
    lines = [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    return "\n[tool.mutmut]\n" + "\n".join(lines) + "\n"


def module_of(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")


def mutant_glob(target: Target, function: str) -> str:
    return f"{module_of(target.path)}.{mangled(function)}__mutmut_*"


def mangled(function: str) -> str:
    """mutmut's name of a function (x_name) or method (xǁClassǁname)."""
    cls, _, name = function.rpartition(".")
    return f"xǁ{cls}ǁ{name}" if cls else f"x_{name}"


def classify(
    result: Result, tree: Path, codes: dict, names: list[str], equivalents: list[dict]
) -> None:
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    listed = [
        (entry, after)
        for entry in equivalents
        if entry["file"] == result.target.path
        for after in ([entry["after"]] if isinstance(entry["after"], str) else entry["after"])
    ]
    matched: set[int] = set()
    here = Path.cwd()
    os.chdir(tree)
    try:
        for mutant, code in sorted(codes.items()):
            if names and not any(fnmatch.fnmatch(mutant, name) for name in names):
                continue
            status = status_by_exit_code[code]
            if status in KILLED:
                result.killed += 1
                continue
            diff = get_diff_for_mutant(mutant, path=result.target.path)
            if status not in SURVIVED:
                result.broken.append((mutant, status))
                continue
            hits = [i for i, (e, after) in enumerate(listed) if is_listed(e, after, mutant, diff)]
            if hits:
                result.equivalent += 1
                matched.update(hits)
            else:
                result.survivors.append((mutant, f"{status}\n{diff}"))
    finally:
        os.chdir(here)
    result.stale = [
        f"{entry['function']}: {entry['before']!r} -> {after!r}"
        for i, (entry, after) in enumerate(listed)
        if i not in matched
    ]


def changed_lines(diff: str, sign: str) -> str:
    lines = diff.splitlines()[2:]  # past the ---/+++ header
    return "\n".join(line[1:].strip() for line in lines if line.startswith(sign))


def is_listed(entry: dict, after: str, mutant: str, diff: str) -> bool:
    """An entry names the function and the changed line(s), not mutmut's number (which moves)."""
    return (
        mutant.startswith(f"{module_of(entry['file'])}.{mangled(entry['function'])}__mutmut_")
        and changed_lines(diff, "-") == entry["before"].strip()
        and changed_lines(diff, "+") == after.strip()
    )


def report(results: list[Result]) -> int:
    failed = False
    for result in results:
        for mutant, text in result.survivors:
            print(f"\nSURVIVED {mutant}: {text}")
        for mutant, status in result.broken:
            print(f"\nNOT RUN {mutant}: {status}")
        for entry in result.stale:
            print(f"\nLISTED AS EQUIVALENT BUT NOT SURVIVING: {result.target.path} {entry}")
        failed |= bool(result.survivors or result.broken or result.stale)
    print(f"\n{'module':<34} {'killed':>7} {'survived':>9} {'equivalent':>11} {'time':>7}")
    for result in results:
        print(
            f"{result.target.path:<34} {result.killed:>7} {len(result.survivors):>9} "
            f"{result.equivalent:>11} {result.seconds:>6.0f}s"
        )
    print(
        f"{'total':<34} {sum(r.killed for r in results):>7} "
        f"{sum(len(r.survivors) for r in results):>9} {sum(r.equivalent for r in results):>11} "
        f"{sum(r.seconds for r in results):>6.0f}s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
