"""Did a code change make any benchmark cell slower? OLD and NEW code, run side by side, against the noise.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/compare_revisions.py OLD_REV [NEW_REV] \\
        --bench speed --rounds 2 -- --repeats 5
    python benchmarks/compare_revisions.py HEAD~1 --bench step --quick --out /tmp/compare_step.md   # smoke test

OLD_REV is a git revision; NEW_REV is a git revision or, by default, the working tree (uncommitted and
untracked files included, copied once at the start so that later edits do not leak into the run). Each is
exported into a temporary directory (``git archive REV | tar -x``; the repository is left untouched), and
each run starts that tree's OWN ``benchmarks/bench_<bench>.py`` (the benchmark scripts change between
revisions too) in a fresh process of this interpreter with ``PYTHONPATH=<tree>/src`` in front; a
``python -c`` check in the same environment first makes sure that ``mlpkit`` is imported from that tree and
not from the installed package. Arguments after ``--`` go to every benchmark run (``--quick`` is shorthand
for ``-- --quick``).

The runs are interleaved in ABBA order (old, new, new, old, old, new, ...; ``--rounds`` of each), so that a
slow drift of the machine's load falls on both sides alike. Each run's markdown results are parsed into
cells (bench_speed: the "Seconds per epoch" table, keyed by network, batch, dtype, act and opt, with the
mlpkit seconds and its "vs <trainer>" speed-ups, which divide out much of the machine's noise because the
reference trainers are the same code on both sides; bench_step: the plan table, keyed by network, batch,
act and opt, with the plan's microseconds per step and its speed-up columns, and the threads table, keyed by
network and batch, with its three ms/step columns). Only the columns that both revisions' tables have are
compared, by header name; the others are listed.

How to read the report, per cell and value:

- ``old`` / ``new``: the median over that side's runs;
- ``change``: new / old for times and old / new for speed-ups, so that above 1 always means NEW is slower;
- ``old spread`` / ``new spread``: the run-to-run noise of one revision, max / min - 1 over its runs (it
  needs two rounds; with one, noise cannot be measured and only the ``--min-change`` floor applies);
- verdict: ``slower`` when the change exceeds 1 + the larger of the two spreads and of ``--min-change``,
  ``faster`` when it is below 1 / (1 + that threshold), else ``within noise``.

Comparing a revision with itself (OLD_REV = NEW_REV) measures how often the noise alone gives a verdict.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from machine import machine_lines, write_results

REPO = Path(__file__).resolve().parents[1]
GIT_ENV = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # read-only: never take the index lock to refresh it
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class TableSpec:
    """Which table of a results file to compare: the ``## `` heading it sits under (a regex matched at the
    heading's start, since headings get reworded), its key columns, and the headers (full regex matches) of
    its values that are times (higher is slower) and speed-ups (higher is faster)."""

    heading: str
    keys: tuple[str, ...]
    times: str
    speedups: str | None = None

    def kind(self, header: str) -> str | None:
        if re.fullmatch(self.times, header):
            return "time"
        if self.speedups and re.fullmatch(self.speedups, header):
            return "speed-up"
        return None


BENCHES: dict[str, tuple[TableSpec, ...]] = {
    "speed": (TableSpec(r"Seconds per epoch", ("network", "batch", "dtype", "act", "opt"), r"mlpkit", r"vs .+"),),
    "step": (TableSpec(r"1\. Step plan", ("network", "batch", "act", "opt"), r"plan us/step", r".+ / (fused )?plan"),
             TableSpec(r"2\. ", ("network", "batch"), r".+ ms/step")),
}


@dataclass(frozen=True)
class Table:
    heading: str
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Comparison:
    old: float
    new: float
    change: float
    old_spread: float | None
    new_spread: float | None
    verdict: str


@dataclass(frozen=True)
class Revision:
    label: str  # "old" or "new"
    description: str  # resolved commit (or the working tree) for the report
    tree: Path


def split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def parse_tables(text: str) -> list[Table]:
    """Every markdown table in ``text`` with the ``## `` heading above it (header row, separator, rows)."""
    tables, heading, lines, i = [], "", text.splitlines(), 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if line.startswith("|") and i + 1 < len(lines) and re.fullmatch(r"\|?[\s:|-]+\|?", lines[i + 1].strip()):
            headers, rows, i = split_row(line), [], i + 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(split_row(lines[i]))
                i += 1
            tables.append(Table(heading, headers, [row for row in rows if len(row) == len(headers)]))
            continue
        i += 1
    return tables


def find_table(text: str, spec: TableSpec) -> Table | None:
    return next((t for t in parse_tables(text) if re.match(spec.heading, t.heading)), None)


def number(cell: str) -> float | None:
    """The number a cell starts with ("0.98x" -> 0.98, "5,120" -> 5120, "8.9 (6%)" -> 8.9, "n/a" -> None)."""
    match = NUMBER.match(cell.strip())
    return float(match.group().replace(",", "")) if match else None


def table_values(table: Table, spec: TableSpec) -> dict[tuple[str, ...], dict[str, float]]:
    """{cell key: {value column: number}} for the columns that ``spec`` compares."""
    index = {h: i for i, h in enumerate(table.headers)}
    missing = [k for k in spec.keys if k not in index]
    if missing:
        raise ValueError(f"table '{table.heading}' lacks the key columns {missing}")
    columns = [h for h in table.headers if spec.kind(h)]
    values = {}
    for row in table.rows:
        parsed = {h: number(row[index[h]]) for h in columns}
        values[tuple(row[index[k]] for k in spec.keys)] = {h: v for h, v in parsed.items() if v is not None}
    return values


def spread(values: list[float]) -> float | None:
    """Run-to-run spread, max / min - 1; None with fewer than two values (or a non-positive one)."""
    if len(values) < 2 or min(values) <= 0:
        return None
    return max(values) / min(values) - 1


def compare(old: list[float], new: list[float], speedup: bool, min_change: float) -> Comparison:
    """Medians, change (above 1: NEW slower, for a time or a speed-up alike), spreads and the verdict."""
    old_median, new_median = statistics.median(old), statistics.median(new)
    change = old_median / new_median if speedup else new_median / old_median
    old_spread, new_spread = spread(old), spread(new)
    threshold = max([min_change] + [s for s in (old_spread, new_spread) if s is not None])
    verdict = "slower" if change > 1 + threshold else "faster" if change < 1 / (1 + threshold) else "within noise"
    return Comparison(old_median, new_median, change, old_spread, new_spread, verdict)


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True,
                          env=GIT_ENV).stdout.rstrip("\n")


def resolve(rev: str) -> str:
    try:
        return git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"compare_revisions: '{rev}' is not a git revision of {REPO}") from None


def describe(commit: str) -> str:
    return git("log", "-1", "--format=%H (%cs, %s)", commit)


def export_revision(commit: str, dest: Path) -> None:
    """``git archive COMMIT | tar -x -C dest``: the revision's files, without touching the repository."""
    dest.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(REPO), "archive", "--format=tar", commit], stdout=subprocess.PIPE,
                               env=GIT_ENV)
    assert archive.stdout is not None
    tar = subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, check=False)
    archive.stdout.close()
    if archive.wait() or tar.returncode:
        raise SystemExit(f"compare_revisions: exporting {commit} failed")


def copy_working_tree(dest: Path) -> str:
    """Copy the working tree's tracked and untracked (not ignored) files; return a description of it."""
    for name in git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0"):
        source = REPO / name
        if name and (source.is_file() or source.is_symlink()):  # a tracked file deleted in the tree is skipped
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name, follow_symlinks=False)
    entries = iter(git("status", "--porcelain", "-z", "--untracked-files=all").split("\0"))
    changed = []
    for entry in entries:
        if entry:
            changed.append(entry[3:])
            if entry[0] in "RC":  # a rename or copy: the next entry is the original path
                next(entries)
    head = describe("HEAD")
    if not changed:
        return f"working tree, no uncommitted changes: HEAD {head}"
    listed = ", ".join(changed[:12]) + (f" and {len(changed) - 12} more" if len(changed) > 12 else "")
    return (f"working tree with uncommitted changes in {len(changed)} file(s) ({listed}), "
            f"copied at the start, on top of HEAD {head}")


def child_env(tree: Path) -> dict[str, str]:
    paths = [str(tree / "src")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def check_import(tree: Path) -> None:
    """Fail loudly unless a child with ``child_env(tree)`` imports mlpkit from ``tree/src``."""
    proc = subprocess.run([sys.executable, "-c", "import mlpkit; print(mlpkit.__file__)"], cwd=tree,
                          env=child_env(tree), capture_output=True, text=True, check=False)
    expected = (tree / "src" / "mlpkit").resolve()
    imported = Path(proc.stdout.strip().splitlines()[-1]).resolve().parent if proc.stdout.strip() else None
    if proc.returncode or imported != expected:
        raise SystemExit(f"compare_revisions: the benchmark process would import mlpkit from {imported}, "
                         f"not from {expected}\n{proc.stderr}")


def run_benchmark(rev: Revision, bench: str, extra: list[str], out: Path) -> float:
    """Run ``rev``'s own benchmark script into ``out`` in a fresh process; return its wall-clock seconds."""
    check_import(rev.tree)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(rev.tree / "benchmarks" / f"bench_{bench}.py"), *extra,
                           "--out", str(out)], cwd=rev.tree, env=child_env(rev.tree), capture_output=True,
                          text=True, check=False)
    if proc.returncode or not out.is_file():
        raise SystemExit(f"compare_revisions: bench_{bench}.py of the {rev.label} revision failed "
                         f"(exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def abba(rounds: int) -> list[str]:
    """old, new, new, old, old, new, ...: ``rounds`` runs of each side."""
    return [label for r in range(rounds) for label in (("old", "new") if r % 2 == 0 else ("new", "old"))]


def fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:.1f}%" if percent else f"{value:.4g}"


def compare_table(spec: TableSpec, texts: dict[str, list[str]], min_change: float) -> tuple[list[str], list[float],
                                                                                             dict[str, int]]:
    """The report section of one table, the changes it compared, and its verdict counts."""
    tables = {side: [find_table(text, spec) for text in texts[side]] for side in ("old", "new")}
    absent = [side.upper() for side, found in tables.items() if any(t is None for t in found)]
    if absent:
        return [f"## (heading matching `{spec.heading}`)", "",
                f"No such table in the {' and '.join(absent)} results.", ""], [], {}
    old_table, new_table = tables["old"][0], tables["new"][0]
    lines = [f"## {new_table.heading}", ""]
    if old_table.heading != new_table.heading:
        lines.append(f"- OLD heading: {old_table.heading}")
    for side, mine, other in (("OLD", old_table, new_table), ("NEW", new_table, old_table)):
        only = [h for h in mine.headers if h not in other.headers]
        if only:
            lines.append(f"- columns only in {side} (not compared): " + ", ".join(f"`{h}`" for h in only))
    values = {side: [table_values(t, spec) for t in found] for side, found in tables.items()}
    keys = {side: list(dict.fromkeys(k for v in values[side] for k in v)) for side in values}
    for side, other in (("old", "new"), ("new", "old")):
        only = [k for k in keys[side] if k not in keys[other]]
        if only:
            lines.append(f"- cells only in {side.upper()}: " + "; ".join(" ".join(k) for k in only))
    columns = [h for h in new_table.headers if spec.kind(h) and h in old_table.headers]
    if len(lines) > 2:  # notes above: a blank line before the table
        lines.append("")
    lines += ["| " + " | ".join(spec.keys) + " | value | old | new | change | old spread | new spread | verdict |",
              "|" + "---|" * (len(spec.keys) + 7)]
    changes, counts = [], {"slower": 0, "within noise": 0, "faster": 0}
    for key in (k for k in keys["new"] if k in keys["old"]):
        for column in columns:
            series = {side: [v[key][column] for v in values[side] if column in v.get(key, {})] for side in values}
            if not series["old"] or not series["new"]:
                continue
            speedup = spec.kind(column) == "speed-up"
            c = compare(series["old"], series["new"], speedup, min_change)
            changes.append(c.change)
            counts[c.verdict] += 1
            verdict = f"**{c.verdict}**" if c.verdict == "slower" else c.verdict
            lines.append(f"| {' | '.join(key)} | {column}{' (speed-up)' if speedup else ''} | {fmt(c.old)} | "
                         f"{fmt(c.new)} | {c.change:.3f} | {fmt(c.old_spread, True)} | {fmt(c.new_spread, True)} "
                         f"| {verdict} |")
    lines += ["", summary(changes, counts), ""]
    return lines, changes, counts


def summary(changes: list[float], counts: dict[str, int]) -> str:
    if not changes:
        return "Nothing compared."
    return (f"{counts['slower']} slower, {counts['within noise']} within noise, {counts['faster']} faster "
            f"of {len(changes)} values; median change {statistics.median(changes):.3f} (above 1: NEW slower).")


def main(argv: list[str] | None = None) -> str:
    argv = list(sys.argv[1:] if argv is None else argv)
    own, extra = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     usage="%(prog)s OLD_REV [NEW_REV] [options] [-- benchmark arguments]")
    parser.add_argument("old", metavar="OLD_REV", help="git revision of the old code")
    parser.add_argument("new", metavar="NEW_REV", nargs="?", help="git revision of the new code (default: the "
                        "working tree, uncommitted changes included)")
    parser.add_argument("--bench", choices=sorted(BENCHES), default="speed",
                        help="which benchmark: bench_speed.py or bench_step.py (default speed)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each revision, in ABBA order (default 2)")
    parser.add_argument("--min-change", type=float, default=0.05,
                        help="smallest change that can be a verdict, whatever the noise (default 0.05 = 5%%)")
    parser.add_argument("--quick", action="store_true", help="pass --quick to every benchmark run (smoke test)")
    parser.add_argument("--out", help="report path (default benchmarks/results/compare_<bench>.md)")
    parser.add_argument("--keep-runs", metavar="DIR", help="keep every run's results file in DIR")
    args = parser.parse_args(own)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.quick and "--quick" not in extra:
        extra.append("--quick")
    out = Path(args.out) if args.out else Path(__file__).parent / "results" / f"compare_{args.bench}.md"
    started, t0 = time.strftime("%Y-%m-%d %H:%M", time.gmtime()), time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="mlpkit-compare-") as tmp:
        old_commit = resolve(args.old)
        export_revision(old_commit, Path(tmp) / "old")
        revisions = {"old": Revision("old", f"`{args.old}` = {describe(old_commit)}", Path(tmp) / "old")}
        if args.new is None:
            (Path(tmp) / "new").mkdir()
            revisions["new"] = Revision("new", copy_working_tree(Path(tmp) / "new"), Path(tmp) / "new")
        else:
            new_commit = resolve(args.new)
            export_revision(new_commit, Path(tmp) / "new")
            revisions["new"] = Revision("new", f"`{args.new}` = {describe(new_commit)}", Path(tmp) / "new")
        runs_dir = Path(args.keep_runs) if args.keep_runs else Path(tmp) / "runs"
        runs_dir.mkdir(parents=True, exist_ok=True)
        order = abba(args.rounds)
        texts: dict[str, list[str]] = {"old": [], "new": []}
        timings = []
        for i, label in enumerate(order, 1):
            path = runs_dir / f"{args.bench}_{i:02d}_{label}.md"
            seconds = run_benchmark(revisions[label], args.bench, extra, path)
            texts[label].append(path.read_text(encoding="utf-8"))
            timings.append(f"{label} {seconds:.0f} s")
            print(f"[{i}/{len(order)}] {label}: bench_{args.bench}.py {shlex.join(extra)} took {seconds:.1f} s",
                  flush=True)

    sections, changes, counts = [], [], {"slower": 0, "within noise": 0, "faster": 0}
    for spec in BENCHES[args.bench]:
        lines, table_changes, table_counts = compare_table(spec, texts, args.min_change)
        sections += lines
        changes += table_changes
        for verdict, n in table_counts.items():
            counts[verdict] += n
    total = summary(changes, counts)
    command = "python benchmarks/compare_revisions.py " + shlex.join(argv)
    noise = ("" if args.rounds > 1 else " With one round, run-to-run noise cannot be measured: the spreads are "
             "n/a and the verdicts use the floor only.")
    header = [f"# Revision comparison: bench_{args.bench}", "",
              f"- OLD: {revisions['old'].description}", f"- NEW: {revisions['new'].description}",
              f"- run: {started} UTC, {(time.perf_counter() - t0) / 60:.1f} min; command: `{command}`",
              f"- each run: `python benchmarks/bench_{args.bench}.py {shlex.join([*extra, '--out', 'FILE'])}` "
              f"from the revision's own tree, its `src` first on PYTHONPATH",
              f"- {args.rounds} round(s), in order: {', '.join(timings)}", *machine_lines(), "",
              "Per cell and value: medians over each side's runs; change = new / old for times and old / new for "
              "speed-ups (above 1: NEW slower); spread = max / min - 1 over one side's runs (its run-to-run "
              f"noise). Verdict `slower` (`faster`) when the change is beyond 1 + the larger spread, and at least "
              f"{100 * args.min_change:.0f}% (`--min-change`).{noise}", "",
              f"**Summary: {total}**", ""]
    text = write_results(out, "\n".join(header + sections).rstrip("\n") + "\n")
    print(f"Summary: {total} Report: {out}")
    return text


if __name__ == "__main__":
    main()
