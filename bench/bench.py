#!/usr/bin/env python3
"""opsdesk against the DuckDB reference, side by side, on generated POS data.

    python3 bench/bench.py --size M --runs 3            # SQLite
    python3 bench/bench.py --size S --pg postgres://postgres@127.0.0.1/postgres

For each run, alternating: opsdesk (`init`, `import stores`, `import sales`
into a fresh database, then `report pack`: all nine reports into a folder,
among them the six files of bench/REPORTS.md) and the DuckDB reference
(`reference/duckdb_reports.py`, load + those six files). `--per-command`
makes the six files with six `report` commands instead, a process each. Prints
each run, the medians, the ratio opsdesk / DuckDB, the peak RSS of both, and
whether the outputs are byte-identical. Data is generated once with
`gen_pos.py` into bench/data/ (ignored by git). Needs `pip install duckdb`.
"""
import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.environ.get("OPSDESK_SHARED_BENCH", os.path.join(ROOT, "..", "shared", "bench"))
SIZES = {"S": 1_000_000, "M": 10_000_000, "L": 50_000_000}
REPORTS = ["r1_daily", "r2_monthly", "r3_traffic", "r4_category", "r5_rfm_members", "r5_rfm_segments"]
PARAMS = {"date": "2026-10-31", "month": "2026-10", "asof": "2026-10-31"}


def run(cmd, env=None):
    """Runs a command; returns (seconds, peak RSS in KiB)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    return secs, usage.ru_maxrss


def opsdesk_run(binary, data, out, db_url, per_command):
    env = dict(os.environ, OPSDESK_DATABASE_URL=db_url)
    steps = [
        [binary, "init", "-q"],
        [binary, "import", "stores", f"{data}/stores.csv", "-q"],
        [binary, "import", "sales", f"{data}/sales_lines.csv", "-q"],
    ]
    pack = [[binary, "report", "pack", "--out", out, "--date", PARAMS["date"], "--month", PARAMS["month"],
             "--asof", PARAMS["asof"], "-q"]]
    each = [
        [binary, "report", "daily", "--date", PARAMS["date"], "--format", "csv", "--out", f"{out}/r1_daily.csv"],
        [binary, "report", "monthly", "--format", "csv", "--out", f"{out}/r2_monthly.csv"],
        [binary, "report", "traffic", "--month", PARAMS["month"], "--format", "csv", "--out", f"{out}/r3_traffic.csv"],
        [binary, "report", "category", "--format", "csv", "--out", f"{out}/r4_category.csv"],
        [binary, "report", "rfm", "--asof", PARAMS["asof"], "--format", "csv", "--out", f"{out}/r5_rfm_members.csv"],
        [binary, "report", "rfm-segments", "--asof", PARAMS["asof"], "--format", "csv", "--out", f"{out}/r5_rfm_segments.csv"],
    ]
    steps += each if per_command else pack
    total, peak, phases = 0.0, 0, []
    for cmd in steps:
        secs, rss = run(cmd, env)
        total += secs
        peak = max(peak, rss)
        phases.append(secs)
    return total, peak, phases


def duckdb_run(data, out):
    cmd = [sys.executable, os.path.join(SHARED, "reference", "duckdb_reports.py"), "--data", data, "--out", out,
           "--date", PARAMS["date"], "--month", PARAMS["month"], "--asof", PARAMS["asof"]]
    secs, rss = run(cmd)
    return secs, rss


def digests(folder):
    return {r: hashlib.sha256(open(f"{folder}/{r}.csv", "rb").read()).hexdigest() for r in REPORTS}


def fresh_pg_db(admin_url, name):
    base = admin_url.rsplit("/", 1)[0]
    subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True, capture_output=True)
    subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return f"{base}/{name}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", choices=SIZES, default="S")
    p.add_argument("--lines", type=int, help="instead of --size")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--pg", help="a PostgreSQL server URL (admin database) to run opsdesk on instead of SQLite")
    p.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "opsdesk"))
    p.add_argument("--per-command", action="store_true",
                   help="the six reports by six `report` commands (a process each) instead of one `report pack`")
    a = p.parse_args()
    try:
        import duckdb  # noqa: F401
    except ImportError:
        sys.exit("the DuckDB reference needs: pip install duckdb")
    lines = a.lines or SIZES[a.size]
    name = a.size if not a.lines else f"n{lines}"
    data = os.path.join(HERE, "data", f"{name}_seed{a.seed}")
    if not os.path.exists(os.path.join(data, "sales_lines.csv")):
        print(f"generating {lines:,} lines into {data}", file=sys.stderr)
        subprocess.run([sys.executable, os.path.join(SHARED, "gen_pos.py"), "--lines", str(lines), "--seed", str(a.seed),
                        "--out", data], check=True)
    if not os.environ.get("OPSDESK_BENCH_NO_BUILD"):
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "opsdesk"], cwd=ROOT, check=True)
    size = os.path.getsize(os.path.join(data, "sales_lines.csv"))
    how = "six report commands" if a.per_command else "report pack"
    print(f"data: {data} ({size / 1e6:.0f} MB); opsdesk on {'PostgreSQL' if a.pg else 'SQLite'}, {how}; {a.runs} runs")
    work = tempfile.mkdtemp(prefix="opsdesk_bench_")
    ours, theirs, our_rss, their_rss = [], [], 0, 0
    identical = True
    try:
        for i in range(a.runs):
            out_o, out_d = os.path.join(work, f"o{i}"), os.path.join(work, f"d{i}")
            os.makedirs(out_o)
            url = fresh_pg_db(a.pg, "opsdesk_bench") if a.pg else f"sqlite://{work}/run{i}.db"
            t, rss, phases = opsdesk_run(a.binary, data, out_o, url, a.per_command)
            ours.append(t)
            our_rss = max(our_rss, rss)
            td, rssd = duckdb_run(data, out_d)
            theirs.append(td)
            their_rss = max(their_rss, rssd)
            same = digests(out_o) == digests(out_d)
            identical &= same
            print(f"run {i + 1}: opsdesk {t:6.2f} s (import {phases[2]:.2f} s, reports {sum(phases[3:]):.2f} s), "
                  f"DuckDB {td:6.2f} s, outputs {'identical' if same else 'DIFFER'}")
            if a.pg:
                subprocess.run(["psql", a.pg, "-qc", "DROP DATABASE IF EXISTS opsdesk_bench"], capture_output=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mo, md = statistics.median(ours), statistics.median(theirs)
    print(f"median: opsdesk {mo:.2f} s, DuckDB {md:.2f} s, ratio {mo / md:.2f}")
    print(f"peak RSS: opsdesk {our_rss / 1024:.0f} MiB, DuckDB {their_rss / 1024:.0f} MiB, ratio {our_rss / their_rss:.2f}")
    print(f"outputs byte-identical in every run: {'yes' if identical else 'NO'}")
    sys.exit(0 if identical else 1)


if __name__ == "__main__":
    main()
