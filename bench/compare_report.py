#!/usr/bin/env python3
"""compare_report.py: the Markdown report of bench/compare.sh from its raw JSON files (stdlib only).

Reads RAW/bench.<tag>.{llama,duet}.<alternation>.json (llama-bench -o json, duet bench --json),
RAW/serve.{llama,duet}.<alternation>.json (duet bench --url --json) and the small files compare.sh leaves there
(started, load_start, load_end, duet_version, *.spec). Each figure is the median over the alternations of each
run's mean; ratios are duet / llama.cpp (higher is better for duet, except TPOT where lower is)."""

import argparse
import glob
import json
import os
import re
import statistics
import subprocess


def read_text(path, default=""):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return default


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return None


def median(values):
    return statistics.median(values) if values else None


def fmt(x, digits=1):
    return "–" if x is None else f"{x:.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_ratio(r):
    return "–" if r is None else f"{r:.2f}×"


def runs(values, digits=1):
    return " / ".join(fmt(v, digits) for v in values) if values else "–"


def alternation_files(raw, prefix):
    """{alternation: parsed JSON} for RAW/prefix.<a>.json."""
    out = {}
    for path in glob.glob(os.path.join(raw, prefix + ".*.json")):
        m = re.search(r"\.(\d+)\.json$", path)
        if m:
            out[int(m.group(1))] = read_json(path)
    return dict(sorted(out.items()))


def machine(raw, args, probe):
    info = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    wanted = ["avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni",
              "amx_int8", "asimddp", "sve"]
    flags = set((info.get("flags") or info.get("Features") or "").split())
    lines = [
        f"- CPU: {info.get('model name', 'unknown')} (family {info.get('cpu family', '?')}, model "
        f"{info.get('model', '?')}), {os.cpu_count()} logical CPUs; flags: "
        + (" ".join(f for f in wanted if f in flags) or "none of " + " ".join(wanted)),
        f"- load average (1/5/15 min) at start: {read_text(os.path.join(raw, 'load_start'), '?')}, at end: "
        f"{read_text(os.path.join(raw, 'load_end'), '?')}",
    ]
    if probe:
        lines.append(f"- duet's read-bandwidth probe ({args.threads} threads), per duet bench run: {probe}")
    lines.append(f"- {read_text(os.path.join(raw, 'duet_version'), 'duet ?')}; llama.cpp {llama_version(raw, args)}")
    lines.append(f"- every run: -t {args.threads}, -r {args.reps}; {args.alternations} alternations, order flipped "
                 "each time; figures are medians over the alternations of each run's mean (each run in brackets)")
    return lines


def llama_version(raw, args):
    for path in sorted(glob.glob(os.path.join(raw, "bench.*.llama.*.json"))):
        data = read_json(path)
        if data:
            return f"{data[0].get('build_commit', '?')} (build {data[0].get('build_number', '?')}) from {args.llama_cpp}"
    try:
        out = subprocess.run(["git", "-C", args.llama_cpp, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        if out.returncode == 0:
            return f"{out.stdout.strip()} from {args.llama_cpp}"
    except OSError:
        pass
    return f"from {args.llama_cpp}"


def llama_rate(data, pp):
    for row in data or []:
        if (row.get("n_prompt", 0) > 0) == pp and (row.get("n_gen", 0) > 0) != pp:
            return row.get("avg_ts")
    return None


def duet_rate(data, pp):
    for row in (data or {}).get("results", []):
        if (row.get("n_prompt", 0) > 0) == pp:
            return row.get("tokens_per_second")
    return None


# A duet bench run whose probe read under this fraction of the report's best probe ran while something outside
# duet took memory bandwidth (on a shared VM host, another guest): its model's rows are marked.
LOW_PROBE_FRACTION = 0.8


def probe_values(raw, pattern="bench.*.duet.*.json"):
    return [d["read_bandwidth_gbs"] for path in glob.glob(os.path.join(raw, pattern))
            for d in [read_json(path)] if d and d.get("read_bandwidth_gbs")]


def best_probe(raw):
    """The best probe of the report: duet bench runs and the served half's probes together."""
    return max(probe_values(raw) + probe_values(raw, "serve_probe.*.json"), default=0)


def low_probe(value, best):
    return value < LOW_PROBE_FRACTION * best


def bench_section(raw, best):
    lines = []
    probes = []
    specs = sorted(glob.glob(os.path.join(raw, "bench.*.spec")))
    if not specs:
        return lines, probes
    marked = ceilings = False
    lines += ["| model | test | llama.cpp t/s | duet t/s | duet / llama.cpp | duet tg GB/s, % of probe | "
              "llama.cpp tg GB/s, % of probe, lead ceiling |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for spec_path in specs:
        spec, _, p, n = (read_text(spec_path).split() + ["", "", "", ""])[:4]
        tag = os.path.basename(spec_path)[len("bench."):-len(".spec")]
        llama = alternation_files(raw, f"bench.{tag}.llama")
        duet = alternation_files(raw, f"bench.{tag}.duet")
        low = []
        for d in duet.values():
            if d and d.get("read_bandwidth_gbs"):
                method = d.get("read_bandwidth_method")
                probes.append(f"{d['read_bandwidth_gbs']:.1f}" + (f" ({method})" if method else ""))
                if low_probe(d["read_bandwidth_gbs"], best):
                    low.append(d["read_bandwidth_gbs"])
        mark = " †" if low else ""
        marked = marked or bool(low)
        for pp, test in ((True, f"pp{p}"), (False, f"tg{n}")):
            lr = [r for r in (llama_rate(d, pp) for d in llama.values()) if r is not None]
            dr = [r for r in (duet_rate(d, pp) for d in duet.values()) if r is not None]
            duet_cell, llama_cell = tg_bandwidth(duet, median(lr)) if not pp else ("", "")
            ceilings = ceilings or bool(llama_cell)
            lines.append(f"| {spec}{mark} | {test} | {fmt(median(lr), 2)} ({runs(lr)}) | {fmt(median(dr), 2)} ({runs(dr)}) | "
                         f"{fmt_ratio(ratio(median(dr), median(lr)))} | {duet_cell} | {llama_cell} |")
    if ceilings:
        lines += ["", "lead ceiling: duet's probe over llama.cpp's tg GB/s (its tok/s times the bytes a token reads, "
                      "the same file for both), the most any program reading those bytes at the probe's rate could "
                      "lead its tg by."]
    if marked:
        lines += ["", f"† in at least one duet bench run of this model the probe read under "
                      f"{LOW_PROBE_FRACTION:.0%} of the best ({best:.1f} GB/s): something outside duet was "
                      "taking memory bandwidth then (another guest of a shared host, or a process here), so that "
                      "model's duet figures (tg most) are low; rerun for a clean figure."]
    return lines, probes


def tg_bandwidth(duet, llama_tg):
    """The two GB/s cells of a tg row (empty strings where a figure is missing): duet's (median GB/s and % of its probe, as duet bench reports them), and
    llama.cpp's, from its median tok/s times the bytes a token reads (duet's GB/s over its tok/s, same file) against
    the median probe of the same runs, with the lead ceiling (that probe over llama.cpp's GB/s)."""
    fractions, gbs, bytes_per_token, probes = [], [], [], []
    for d in duet.values():
        for row in (d or {}).get("results", []):
            if row.get("n_gen", 0) > 0 and row.get("gbs"):
                gbs.append(row["gbs"])
                fractions.append(row.get("bandwidth_fraction", 0) * 100)
                if row.get("tokens_per_second"):
                    bytes_per_token.append(row["gbs"] / row["tokens_per_second"])
        if d and d.get("read_bandwidth_gbs"):
            probes.append(d["read_bandwidth_gbs"])
    if not gbs:
        return "", ""
    duet_cell = f"{fmt(median(gbs))} GB/s, {fmt(median(fractions), 0)}%"
    if not (llama_tg and bytes_per_token and probes):
        return duet_cell, ""
    llama_gbs = llama_tg * median(bytes_per_token)
    return duet_cell, (f"{fmt(llama_gbs)} GB/s, {fmt(100 * llama_gbs / median(probes), 0)}%, ceiling "
                       f"{fmt_ratio(median(probes) / llama_gbs)}")


def level_map(data):
    return {lv["concurrency"]: lv for lv in (data or {}).get("levels", [])}


def serve_section(raw, args, best):
    llama = alternation_files(raw, "serve.llama")
    duet = alternation_files(raw, "serve.duet")
    if not llama and not duet:
        return []
    spec = read_text(os.path.join(raw, "serve.spec"))
    first = next((d for d in list(duet.values()) + list(llama.values()) if d), {}) or {}
    lines = [f"Served ({spec}): llama-server --parallel {args.parallel} and duet serve, both up; client "
             f"`duet bench --url --endpoint completions`, {first.get('requests', '?')} requests per level, "
             f"~{first.get('prompt_tokens', '?')} prompt tokens, {first.get('max_tokens', '?')} output tokens.", "",
             "| streams | llama-server out tok/s | duet out tok/s | duet / llama | llama TPOT ms (med) | "
             "duet TPOT ms (med) | duet / llama TPOT | failed llama / duet |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    levels = sorted({c for d in list(llama.values()) + list(duet.values()) for c in level_map(d)})
    for c in levels:
        def collect(runs_by_alt, key):
            vals, failed = [], 0
            for d in runs_by_alt.values():
                lv = level_map(d).get(c)
                if not lv:
                    continue
                failed += lv.get("failed", 0)
                if lv.get("completed", 0) > 0:
                    vals.append(lv["output_token_throughput"] if key == "tps" else lv["tpot"]["median_ms"])
            return vals, failed
        lt, lf = collect(llama, "tps")
        dt, df = collect(duet, "tps")
        lp, _ = collect(llama, "tpot")
        dp, _ = collect(duet, "tpot")
        lines.append(f"| {c} | {fmt(median(lt))} ({runs(lt)}) | {fmt(median(dt))} ({runs(dt)}) | "
                     f"{fmt_ratio(ratio(median(dt), median(lt)))} | {fmt(median(lp))} ({runs(lp, 0)}) | "
                     f"{fmt(median(dp))} ({runs(dp, 0)}) | {fmt_ratio(ratio(median(dp), median(lp)))} | {lf} / {df} |")
    lines += tpot_scaling(duet, levels)
    probes = alternation_files(raw, "serve_probe")
    values = [d["read_bandwidth_gbs"] for d in probes.values() if d and d.get("read_bandwidth_gbs")]
    if values:
        low = [v for v in values if low_probe(v, best)]
        lines += ["", "duet's read-bandwidth probe before each alternation and after the last: "
                  + ", ".join(fmt(v) for v in values) + " GB/s"
                  + (f" — † {len(low)} under {LOW_PROBE_FRACTION:.0%} of the best ({best:.1f} GB/s): something "
                     "outside duet took memory bandwidth around the served runs, so their figures, and the TPOT ratio "
                     "above, moved with it (one stream's decode is bandwidth-bound, four streams' mostly "
                     "compute-bound); rerun for a clean figure." if low else ".")]
    errors = []
    for who, runs_by_alt in (("llama-server", llama), ("duet", duet)):
        for d in runs_by_alt.values():
            for lv in (d or {}).get("levels", []):
                if lv.get("first_error") and len(errors) < 4:
                    errors.append(f"- {who}, {lv['concurrency']} streams: first error: {lv['first_error']}")
    return lines + ([""] + errors if errors else [])


def tpot_scaling(duet, levels):
    """duet's median TPOT at the most streams against one stream's: per alternation and of the medians."""
    if 1 not in levels or max(levels) <= 1:
        return []
    top = max(levels)
    per_run, ones, tops = [], [], []
    for d in duet.values():
        one, many = level_map(d).get(1), level_map(d).get(top)
        if not one or not many or one.get("completed", 0) == 0 or many.get("completed", 0) == 0:
            continue
        ones.append(one["tpot"]["median_ms"])
        tops.append(many["tpot"]["median_ms"])
        per_run.append(tops[-1] / ones[-1])
    if not per_run:
        return []
    return ["", f"duet's TPOT at {top} streams against 1 stream's: {fmt_ratio(ratio(median(tops), median(ones)))} "
                f"({fmt(median(tops))} / {fmt(median(ones))} ms; per alternation "
                + " / ".join(fmt_ratio(r) for r in per_run) + ")."]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--llama-cpp", default="?")
    ap.add_argument("--threads", default="?")
    ap.add_argument("--reps", default="?")
    ap.add_argument("--alternations", default="?")
    ap.add_argument("--parallel", default="?")
    args = ap.parse_args()
    best = best_probe(args.raw)
    bench_lines, probes = bench_section(args.raw, best)
    print(f"## duet vs llama.cpp on this machine, {read_text(os.path.join(args.raw, 'started'), '?')}")
    print()
    print("\n".join(machine(args.raw, args, ", ".join(probes))))
    if bench_lines:
        print()
        print("\n".join(bench_lines))
    serve_lines = serve_section(args.raw, args, best)
    if serve_lines:
        print()
        print("\n".join(serve_lines))


if __name__ == "__main__":
    main()
