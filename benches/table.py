#!/usr/bin/env python3
"""Turns the raw results of benches/run (hyperfine JSON, /usr/bin/time -v,
wrk output, Lambda test lines) into the markdown ratio table.

Usage: table.py RAW_DIR SIZES TERRITORIES API_SECONDS RUNS [ONLY]

A measurement whose raw files are missing (not run, see `benches/run --only`)
has no section and no target row.
"""
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from datetime import datetime, timezone

raw, sizes, territories, api_seconds, runs = sys.argv[1:6]
only = sys.argv[6] if len(sys.argv) > 6 else "build,figures,check,api,lambda"
sizes = [int(s) for s in sizes.split(",")]
largest = max(sizes)


def path(name):
    return os.path.join(raw, name)


def have(name):
    return os.path.exists(path(name))


def hyperfine(name):
    """(median wall s, mean user+sys CPU s, min, max) of a hyperfine export."""
    with open(path(name + ".json")) as f:
        r = json.load(f)["results"][0]
    return {"median": r["median"], "cpu": r["user"] + r["system"],
            "min": r["min"], "max": r["max"]}


def peak_mb(name):
    with open(path(name + ".time")) as f:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
    return int(m.group(1)) / 1024 if m else float("nan")


def seconds(text):
    """A duration as wrk or Rust's Debug print it: 950us, 950µs, 3.2ms, 1.5s."""
    text = text.strip()
    if text.startswith("Some(") and text.endswith(")"):  # an Option<Duration>
        text = text[5:-1]
    m = re.fullmatch(r"([\d.]+)(ns|us|µs|ms|s|m)", text)
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    scale = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
    return float(m.group(1)) * scale[m.group(2)]


def wrk(name):
    with open(path(name)) as f:
        text = f.read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = seconds(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
    p99 = seconds(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"rps": rps, "p50": p50, "p99": p99,
            "non2xx": int(errors.group(1)) if errors else 0,
            "ran_out": "ran out of events" in text}


def ms(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def mb(x):
    return f"{x:.0f} MB"


def ok(met):
    return "**met**" if met else "**not met**"


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1) if m else cpu
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
            mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, AttributeError):
        pass
    return f"{platform.machine()}, {cpu}, {os.cpu_count()} cores{mem}, Linux {platform.release()}"


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


pages = {}
if have("pages.txt"):
    with open(path("pages.txt")) as f:
        for line in f:
            key, value = line.split()
            pages[key] = int(value)

commit = version(["git", "rev-parse", "--short", "HEAD"])
out = []
w = out.append
w(f"# Benchmark results, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC\n")
w(f"- machine: {machine()}")
w(f"- Pavé at commit {commit}; {version(['hugo', 'version'])}; {version(['hyperfine', '--version'])}; {version(['wrk', '--version'])}")
w(f"- command: `benches/run --sizes {','.join(map(str, sizes))} --territories {territories} "
  f"--api-seconds {api_seconds} --runs {runs}"
  + (f" --only {only}" if only != "build,figures,check,api,lambda" else "") + "`; corpus `pave corpus OUT --projects N "
  f"--territories {territories} --hugo` (seed 42); files in /dev/shm")
w("- wall: median of the hyperfine runs; CPU: mean user + system; peak memory: "
  "maximum RSS of one run (`/usr/bin/time -v`)\n")

targets = []  # (target, measured, met)

if have(f"build-pave-{largest}.json"):
    w("## 1. Full build, Pavé vs Hugo (empty output folder)\n")
    w("| projects | pages Pavé / Hugo | wall Pavé | wall Hugo | **ratio Pavé/Hugo** | CPU Pavé | CPU Hugo | peak memory Pavé | peak memory Hugo |")
    w("|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        p, h = hyperfine(f"build-pave-{n}"), hyperfine(f"build-hugo-{n}")
        w(f"| {n:,} | {pages[f'pages-pave-{n}']:,} / {pages[f'pages-hugo-{n}']:,} | {ms(p['median'])} | "
          f"{ms(h['median'])} | **{p['median'] / h['median']:.2f}** | {ms(p['cpu'])} | {ms(h['cpu'])} | "
          f"{mb(peak_mb(f'build-pave-{n}'))} | {mb(peak_mb(f'build-hugo-{n}'))} |")
    p, h = hyperfine(f"build-pave-{largest}"), hyperfine(f"build-hugo-{largest}")
    ratio, rss = p["median"] / h["median"], peak_mb(f"build-pave-{largest}")
    targets.append((f"full build of {largest:,} ≤ ¼ of Hugo's wall time", f"{ratio:.2f} × Hugo", ratio <= 0.25))
    targets.append(("peak memory of that build < 500 MB", mb(rss), rss < 500))

if have("figures-pave-incremental.json"):
    inc, full, hugo_full = (hyperfine("figures-pave-incremental"), hyperfine("figures-pave-full"),
                            hyperfine("figures-hugo-full"))
    warm = []
    if have("figures-serve.txt"):
        with open(path("figures-serve.txt")) as f:
            warm = [tuple(float(x) / 1000 for x in line.split()) for line in f if line.strip()]
    w(f"\n## 2. One project's figures after a pledge, {largest:,} projects (output folder in place)\n")
    w("| path | wall (median) | min–max | CPU | vs Pavé incremental |")
    w("|---|---|---|---|---|")
    base = inc["median"]
    if warm:
        renders = [r for r, _ in warm]
        ends = [e for _, e in warm]
        base = statistics.median(renders)
        w(f"| Pavé incremental in `pave serve` (content kept loaded; the server's own timing, {len(warm)} paid pledges) | "
          f"{ms(base)} | {ms(min(renders))}–{ms(max(renders))} | | 1× |")
        w(f"| … from the webhook's answer to the new amount on disk (client side) | "
          f"{ms(statistics.median(ends))} | {ms(min(ends))}–{ms(max(ends))} | | {statistics.median(ends) / base:.1f}× |")
    for label, r in [("Pavé incremental from the command line (`build --changed`: loads and checks all the content)", inc),
                     ("Pavé full rebuild", full), ("Hugo full rebuild", hugo_full)]:
        w(f"| {label} | {ms(r['median'])} | {ms(r['min'])}–{ms(r['max'])} | {ms(r['cpu'])} | "
          f"{r['median'] / base:.0f}× |")
    targets.append(("one project's figures < 20 ms" + (" (`pave serve`)" if warm else " (`build --changed`)"),
                    ms(base), base < 0.020))

if have("check.json"):
    check = hyperfine("check")
    w(f"\n## 3. `pave check`, {largest:,} projects\n")
    w("| wall (median) | min–max | CPU | peak memory |")
    w("|---|---|---|---|")
    w(f"| {ms(check['median'])} | {ms(check['min'])}–{ms(check['max'])} | {ms(check['cpu'])} | {mb(peak_mb('check'))} |")
    targets.append((f"`pave check` of {largest:,} < 1 s", ms(check["median"]), check["median"] < 1))

if have("wrk-webhooks.txt"):
    pledges, hooks = wrk("wrk-pledges.txt"), wrk("wrk-webhooks.txt")
    with open(path("webhooks-paid.txt")) as f:
        paid = int(f.read().split()[1])
    paid_rate = paid / float(api_seconds)
    w(f"\n## 4. API on the embedded SQLite store, loopback, wrk 2 threads × 16 connections, {api_seconds} s each\n")
    w("| request | requests/s | p50 | p99 | non-2xx |")
    w("|---|---|---|---|---|")
    w(f"| `POST /api/pledges` (JSON) | {pledges['rps']:,.0f} | {ms(pledges['p50'])} | {ms(pledges['p99'])} | {pledges['non2xx']} |")
    w(f"| `POST /api/webhooks/stripe` (signed `checkout.session.completed`) | {hooks['rps']:,.0f} | "
      f"{ms(hooks['p50'])} | {ms(hooks['p99'])} | {hooks['non2xx']} |")
    w(f"\nPledges paid by the webhooks: {paid:,} ({paid_rate:,.0f}/s)"
      + (" — WARNING: wrk ran out of events, some were re-sent duplicates" if hooks["ran_out"] else "") + ".")
    targets.append(("≥ 2,000 paid pledges/s (webhooks)", f"{paid_rate:,.0f}/s", paid_rate >= 2000))
    targets.append(("p99 < 10 ms (pledges, webhooks)", f"{ms(pledges['p99'])}, {ms(hooks['p99'])}",
                    pledges["p99"] < 0.010 and hooks["p99"] < 0.010))

if have("lambda-sizes.txt"):
    sizes_lambda = {}
    with open(path("lambda-sizes.txt")) as f:
        for line in f:
            name, size, gz = line.split()
            sizes_lambda[name] = (int(size), int(gz))
    startup = {}
    lines = []
    if have("lambda-startup.txt"):
        with open(path("lambda-startup.txt")) as f:
            lines = f.readlines()
    for line in lines:
        m = re.search(r"(pave-[\w-]+): spawn → init done (\S+), → first answer (\S+)", line)
        if m:
            startup.setdefault(m.group(1), []).append((seconds(m.group(2)), seconds(m.group(3))))
    w(f"\n## 5. Lambda binaries (`slim` profile, stripped, x86_64), start-up under the local Runtime API, {runs} runs\n")
    w("| binary | size | gzip -9 | spawn → init done (median) | spawn → first answer (median, min–max) |")
    w("|---|---|---|---|---|")
    first_answers = {}
    for name, (size, gz) in sorted(sizes_lambda.items()):
        s = startup.get(name, [])
        if s:
            inits, firsts = [a for a, _ in s], [b for _, b in s]
            first_answers[name] = statistics.median(firsts)
            w(f"| `{name}` | {size / 1e6:.1f} MB | {gz / 1e6:.1f} MB | {ms(statistics.median(inits))} | "
              f"{ms(statistics.median(firsts))} ({ms(min(firsts))}–{ms(max(firsts))}) |")
        else:
            w(f"| `{name}` | {size / 1e6:.1f} MB | {gz / 1e6:.1f} MB | not measured | not measured |")
    biggest = max(size for size, _ in sizes_lambda.values())
    targets.append(("Lambda binary < 10 MB", f"largest {biggest / 1e6:.1f} MB", biggest < 10e6))
    if "pave-api" in first_answers:
        api_start = first_answers["pave-api"]
        targets.append(("Lambda start < 50 ms (`pave-api`, spawn → first answer)", ms(api_start), api_start < 0.050))

w("\n## Targets\n")
w("| target | measured | |")
w("|---|---|---|")
for target, measured, met in targets:
    w(f"| {target} | {measured} | {ok(met)} |")
if largest != 10000:
    w(f"\nThe targets are set for 10,000 projects; this run's largest corpus is {largest:,}.")
print("\n".join(out))
