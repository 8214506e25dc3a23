#!/usr/bin/env python3
"""Merges the Google Benchmark JSON files of one lightq run into docs/benchmarks.md and plots.

    python3 bench/report.py [--out docs/benchmarks.md] [--plots docs/benchmarks] [--summary] FILE.json...

Benchmark names follow BM_<op>/<dtypes>/<impl>/<shape...> (bench/bench_common.hpp). For every op
it writes tables with one row per shape and one column per impl/dtype: time, GOP/s and GB/s
with % of the measured peak, speed-ups of fp16 / int8 over fp32 on the same backend, lightq
against the peers, and the model (weight / KV) bytes. Names outside the grammar go into a
generic table. Plots (time and model bytes per op) need matplotlib; without it they are skipped
with a note. Needs only the standard library (+ matplotlib for plots).
"""
import argparse
import datetime
import json
import math
import os
import re
import statistics
import sys

LIGHTQ_BACKENDS = ["scalar", "avx2", "avx512_vnni", "neon", "neon_dotprod"]
PEERS = ["onednn", "openblas", "xnnpack"]
NAME_SUFFIX = re.compile(r"^(real_time|manual_time|process_time|threads:\d+|repeats:\d+|min_time:.*|"
                         r"min_warmup_time:.*|iterations:\d+)$")
TIME_TO_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


# ------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------
class Result:
    """One benchmark's median over the repetitions of one run."""

    def __init__(self, name, seconds, counters, source, arch, cv=None, error=None, compiler=""):
        self.name = name
        self.compiler = compiler  # "g++", "clang++", ...
        self.dram_gbs = self.copy_gbs = None  # the executable's measured peaks
        self.tag = ""  # set to the compiler when a run holds several compilers
        self.seconds = seconds
        self.counters = counters
        self.source = source
        self.arch = arch
        self.cv = cv
        self.error = error
        parts = name.split("/")
        self.grammar = len(parts) >= 3 and parts[0].startswith("BM_")
        self.op = self.dtypes = self.impl = None
        self.shape = ""
        if self.grammar:
            # BM_<op>/<dtypes>/<impl>/<shape...>; tolerate extra op levels before the dtypes
            # (BM_attention/decode/f16/avx2/...) by finding the impl among the known ones.
            at = next((i for i in range(2, len(parts)) if parts[i] in LIGHTQ_BACKENDS + PEERS), 2)
            self.op = "/".join([parts[0][3:]] + parts[1:at - 1])
            self.dtypes = parts[at - 1]
            self.impl = parts[at]
            self.shape = "/".join(parts[at + 1:])

    @property
    def column(self):
        return f"{self.impl}{'@' + self.tag if self.tag else ''} {self.dtypes}"

    def bandwidth_kind(self):
        """True when %peak was taken of a bandwidth (GB/s over the DRAM read or copy peak)."""
        c = self.counters
        if "%peak" not in c or "GB/s" not in c:
            return False
        for peak in (self.dram_gbs, self.copy_gbs):
            if peak and abs(100.0 * c["GB/s"] / peak - c["%peak"]) <= 0.01 * max(1.0, c["%peak"]):
                return True
        return False

    @property
    def is_lightq(self):
        return self.impl in LIGHTQ_BACKENDS


def impl_of(column):
    """'avx512_vnni@clang++ qs8_qc8w' -> 'avx512_vnni'."""
    return column.split(" ", 1)[0].split("@")[0]


def tag_of(column):
    head = column.split(" ", 1)[0]
    return head.split("@", 1)[1] if "@" in head else ""


def tag_order(tag):
    """g++ (the usual first compiler) before the others."""
    return (0 if tag in ("", "g++") else 1, tag)


def dtypes_of(column):
    return column.split(" ", 1)[1]


def dtype_class(dtypes):
    """fp32, fp16, int8 or other, from a dtype token (f32, f16w_f32, qs8_qc8w, qu8_qs8, ...)."""
    d = dtypes.lower()
    if d.startswith("q") or "i8" in d or "int8" in d or "u8" in d.split("_")[0]:
        return "int8"
    if "f16" in d or "fp16" in d or "bf16" in d:
        return "fp16"
    if d.startswith("f32") or d.startswith("fp32"):
        return "fp32"
    return "other"


def base_name(entry):
    name = entry.get("run_name") or entry["name"]
    parts = name.split("/")
    real_time = any(p in ("real_time", "manual_time") for p in parts)
    while len(parts) > 1 and NAME_SUFFIX.match(parts[-1]):
        parts.pop()
    return "/".join(parts), real_time


def load(paths):
    contexts, results, notes = [], [], []
    for path in paths:
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            notes.append(f"{os.path.basename(path)}: unreadable ({e})")
            continue
        ctx = data.get("context", {})
        ctx["_source"] = os.path.relpath(path, os.path.dirname(os.path.abspath(paths[0])))
        contexts.append(ctx)
        arch = ctx.get("lightq_arch", "?")
        compiler = (ctx.get("lightq_compiler") or "?").split(" ")[0]
        groups = {}
        for entry in data.get("benchmarks", []):
            name, real_time = base_name(entry)
            g = groups.setdefault(name, {"median": None, "cv": None, "runs": [], "error": None, "real": real_time})
            if entry.get("error_occurred"):
                g["error"] = entry.get("error_message", "error")
                continue
            if entry.get("run_type") == "aggregate":
                if entry.get("aggregate_name") == "median":
                    g["median"] = entry
                elif entry.get("aggregate_name") == "cv":
                    g["cv"] = entry
            else:
                g["runs"].append(entry)
        for name, g in groups.items():
            if g["median"] is None and not g["runs"]:
                results.append(Result(name, None, {}, ctx["_source"], arch, error=g["error"] or "no result",
                                      compiler=compiler))
                continue
            entries = [g["median"]] if g["median"] is not None else g["runs"]
            key = "real_time" if g["real"] else "cpu_time"
            secs = statistics.median(e[key] * TIME_TO_SECONDS.get(e.get("time_unit", "ns"), 1e-9) for e in entries)
            counters = {}
            skip = {"name", "run_name", "run_type", "repetitions", "repetition_index", "threads", "iterations",
                    "real_time", "cpu_time", "time_unit", "aggregate_name", "aggregate_unit", "family_index",
                    "per_family_instance_index", "label", "error_occurred", "error_message"}
            for e in entries:
                for k, v in e.items():
                    if k not in skip and isinstance(v, (int, float)):
                        counters.setdefault(k, []).append(float(v))
            counters = {k: statistics.median(v) for k, v in counters.items()}
            cv = None
            if g["cv"] is not None:
                cv = g["cv"].get(key)
            r = Result(name, secs, counters, ctx["_source"], arch, cv=cv, compiler=compiler)
            try:
                r.dram_gbs = float(ctx.get("lightq_peak_dram_read_gbs", 0)) or None
                r.copy_gbs = float(ctx.get("lightq_peak_copy_gbs", 0)) or None
            except ValueError:
                pass
            results.append(r)
    # Several compilers in one run (run.sh --compilers): lightq's columns carry the compiler.
    if len({r.compiler for r in results if r.grammar and r.is_lightq}) > 1:
        for r in results:
            if r.grammar and r.is_lightq:
                r.tag = r.compiler
    # The same name from several executables (e.g. peers run in every backend's executable):
    # keep the one from the widest backend, note the others.
    by_name = {}
    order = {a: i for i, a in enumerate(LIGHTQ_BACKENDS)}
    for r in results:
        key = (r.name, r.tag)
        old = by_name.get(key)
        if old is None:
            by_name[key] = r
        else:
            keep, drop = (r, old) if order.get(r.arch, -1) > order.get(old.arch, -1) else (old, r)
            by_name[key] = keep
            notes.append(f"{r.name}: measured in {keep.source} and {drop.source}; the table shows {keep.source}")
    ordered = []
    seen = set()
    for r in results:
        key = (r.name, r.tag)
        if key not in seen:
            seen.add(key)
            ordered.append(by_name[key])
    return contexts, ordered, notes


# ------------------------------------------------------------------------------------------
# Formatting
# ------------------------------------------------------------------------------------------
def sig(v):
    """About 3 significant digits, never in exponent notation."""
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def fmt_time(s):
    if s is None:
        return "–"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= scale * 0.9995 or unit == "ns":  # 999.6 µs prints as 1.00 ms
            return f"{sig(s / scale)} {unit}"
    return f"{s:g} s"


def fmt_num(v, digits=3):
    if v is None:
        return "–"
    if v == 0:
        return "0"
    return sig(v)


def fmt_bytes(b):
    if b is None:
        return "–"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b:.0f} B"


def fmt_ratio(r):
    return "–" if r is None else f"{r:.2f}x"


def md_table(header, rows, align_right=True):
    rule = "|" + "|".join("---" if i == 0 or not align_right else "--:" for i in range(len(header))) + "|"
    out = ["| " + " | ".join(header) + " |", rule]
    for row in rows:
        out.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(out)


# Order of the dtype classes in tables and pairs.
CLASS_ORDER = {"fp32": 0, "fp16": 1, "int8": 2, "other": 3}


def column_sort_key(column):
    impl, dtypes = impl_of(column), dtypes_of(column)
    if impl in LIGHTQ_BACKENDS:
        group = (0, LIGHTQ_BACKENDS.index(impl))
    elif impl in PEERS:
        group = (1, PEERS.index(impl))
    else:
        group = (2, 0)
    return (group, impl, tag_order(tag_of(column)), CLASS_ORDER[dtype_class(dtypes)], dtypes)


def head_of(column):
    """'avx512_vnni@clang++ qs8' -> 'avx512_vnni@clang++': the impl with its compiler tag."""
    return column.split(" ", 1)[0]


def best_lightq_head(cols):
    """lightq's widest backend with the first compiler ('avx512_vnni', 'avx512_vnni@g++'), or None."""
    heads = sorted({head_of(c) for c in cols if impl_of(c) in LIGHTQ_BACKENDS},
                   key=lambda h: (LIGHTQ_BACKENDS.index(impl_of(h + " x")), tag_order(tag_of(h + " x"))))
    if not heads:
        return None
    widest = impl_of(heads[-1] + " x")
    return [h for h in heads if impl_of(h + " x") == widest][0]


def same_dtype_pairs(cols, head):
    """(lightq column, peer column) pairs with the same dtypes token: lightq's `head` (backend and
    compiler) against each peer column of that type, like with like (qs8 / onednn qs8)."""
    mine = {dtypes_of(c): c for c in cols if head_of(c) == head}
    return [(mine[dtypes_of(p)], p) for p in cols if impl_of(p) not in LIGHTQ_BACKENDS and dtypes_of(p) in mine]


def cross_dtype_pairs(cols, head, total_seconds):
    """(lightq column, peer column) pairs of one class but different dtypes: each lightq column of
    `head` against a peer's fastest column of the class (ranked by total_seconds(column)) when that
    is another type, and either the peer also runs the lightq column's type (so the pair shows what
    the peer gains with its own faster type: lightq qs8 vs onednn qu8 beside onednn qs8) or lightq
    has no column of the peer's type (no same-type pair to show instead)."""
    mine = [c for c in cols if head_of(c) == head]
    mine_dtypes = {dtypes_of(c) for c in mine}
    peer_cols = [c for c in cols if impl_of(c) not in LIGHTQ_BACKENDS]
    out = []
    for impl in dict.fromkeys(impl_of(c) for c in peer_cols):
        for cls in dict.fromkeys(dtype_class(dtypes_of(c)) for c in peer_cols if impl_of(c) == impl):
            theirs = [c for c in peer_cols if impl_of(c) == impl and dtype_class(dtypes_of(c)) == cls]
            fastest = min(theirs, key=total_seconds)
            their_dtypes = {dtypes_of(c) for c in theirs}
            for m in mine:
                if dtype_class(dtypes_of(m)) != cls or dtypes_of(m) == dtypes_of(fastest):
                    continue
                if dtypes_of(m) in their_dtypes or dtypes_of(fastest) not in mine_dtypes:
                    out.append((m, fastest))
    return out


def timed(r):
    """True for a result with a time (not missing, not failed)."""
    return bool(r and not r.error and r.seconds)


def speed_ratio(lightq, peer):
    """t(peer) / t(lightq) of two results, None where either is missing or failed."""
    return peer.seconds / lightq.seconds if timed(lightq) and timed(peer) else None


# ------------------------------------------------------------------------------------------
# Sections
# ------------------------------------------------------------------------------------------
def peaks_section(contexts):
    lines = []
    by_arch = {}
    multi = len({(c.get("lightq_compiler") or "?").split(" ")[0] for c in contexts if "lightq_arch" in c}) > 1
    for c in contexts:
        if "lightq_arch" in c:
            key = c["lightq_arch"] + ("@" + (c.get("lightq_compiler") or "?").split(" ")[0] if multi else "")
            by_arch.setdefault(key, []).append(c)

    def med(cs, key):
        vals = [float(c[key]) for c in cs if key in c and float(c[key]) > 0]
        return statistics.median(vals) if vals else None

    rows = []
    def arch_key(a):
        base = a.split("@")[0]
        return (LIGHTQ_BACKENDS.index(base) if base in LIGHTQ_BACKENDS else 99, a)

    for arch in sorted(by_arch, key=arch_key):
        cs = by_arch[arch]
        rows.append([f"`{arch}`", fmt_num(med(cs, "lightq_peak_fp32_gflops"), 4), fmt_num(med(cs, "lightq_peak_int8_gops"), 4),
                     fmt_num(med(cs, "lightq_peak_int8_maddubs_gops"), 4), fmt_num(med(cs, "lightq_peak_int16_madd_gops"), 4),
                     fmt_num(med(cs, "lightq_peak_dram_read_gbs"), 3), fmt_num(med(cs, "lightq_peak_copy_gbs"), 3),
                     fmt_num(med(cs, "lightq_peak_copy_store_gbs"), 3),
                     fmt_num(med(cs, "lightq_clock_ghz"), 3), str(len(cs))])
    if rows:
        lines.append(md_table(["backend", "fp32 GFLOP/s", "int8 GOP/s", "avx2 maddubs GOP/s", "avx2 int16 madd GOP/s",
                               "DRAM read GB/s", "memcpy GB/s", "copy, plain stores GB/s", "clock GHz", "probes"], rows))
        lines.append("")
        lines.append("Single thread, thread CPU time, median of several short runs, measured by each executable "
                     "at start-up (the `probes` column: how many executables' probes the median is over; each "
                     "benchmark's `%peak` uses its own executable's probe). `int8 GOP/s` is the backend's "
                     "dot-product instruction (avx512_vnni: vpdpbusd zmm; avx2: vpmaddubsw+vpmaddwd+vpaddd ymm; "
                     "neon_dotprod: sdot; neon: smull+smlal2+sadalp). Copies count bytes read + bytes written; `memcpy` "
                     "is glibc's on buffers large enough for its non-temporal stores (the `copy` peak of "
                     "`%peak`), `copy, plain stores` a vector loop with ordinary stores (each line is read "
                     "before it is written): what a kernel without non-temporal stores can reach.")
        probe_lines = []
        for arch, cs in by_arch.items():
            c = cs[0]
            for k in sorted(k for k in c if k.startswith("lightq_probe_")):
                probe_lines.append(f"- `{arch}`: {c[k]}")
        if probe_lines:
            lines.append("")
            lines.append("<details><summary>probe lines (first executable of each backend)</summary>\n")
            lines.extend(probe_lines)
            lines.append("\n</details>")
    else:
        lines.append("No peaks in these results (the files lack the lightq context).")
    return "\n".join(lines)


def machine_section(contexts):
    if not contexts:
        return "No results."
    c = contexts[0]
    compilers = sorted({x.get("lightq_compiler", "?") for x in contexts})
    flags = {}
    for x in contexts:
        if "lightq_arch" in x:
            flags[x["lightq_arch"]] = x.get("lightq_flags", "?")
    caches = ", ".join(f"L{k.get('level')} {k.get('type', '')} {fmt_bytes(k.get('size'))}".replace("  ", " ")
                       for k in c.get("caches", []))
    llc = c.get("lightq_llc_bytes")
    rows = [
        ["cpu", c.get("lightq_cpu", "?") + f" (best lightq backend: `{c.get('lightq_best_cpu_arch', '?')}`)"],
        ["host", f"{c.get('host_name', '?')}, {c.get('num_cpus', '?')} cpus, {c.get('mhz_per_cpu', '?')} MHz (as reported)"],
        ["caches", (caches or "?") + (f"; LLC used for rotation: {fmt_bytes(float(llc))}" if llc else "")],
        ["date", c.get("date", "?")],
        ["compiler", ", ".join(compilers)],
        ["Google Benchmark library", f"built as {c.get('library_build_type', '?')}"],
    ]
    for arch, f in sorted(flags.items(), key=lambda kv: LIGHTQ_BACKENDS.index(kv[0]) if kv[0] in LIGHTQ_BACKENDS else 99):
        rows.append([f"flags `{arch}`", f"`{f}`"])
    for x in contexts:
        for k in sorted(x):
            if k.startswith("lightq_peer_"):
                rows.append([k[len("lightq_peer_"):], x[k]])
    seen, dedup = set(), []
    for r in rows:
        if tuple(r) not in seen:
            seen.add(tuple(r))
            dedup.append(r)
    return md_table(["", ""], dedup, align_right=False)


def op_section(op, results, plots_dir, plot_notes):
    cols = sorted({r.column for r in results}, key=column_sort_key)
    shapes = []
    for r in results:
        if r.shape not in shapes:
            shapes.append(r.shape)
    cell = {(r.shape, r.column): r for r in results}
    out = []

    def cell_text(r):
        """'1.05 ms · 144 GOP/s (68%)': time, then the rate %peak refers to."""
        if r is None:
            return ""
        if r.error:
            return "error"
        t = fmt_time(r.seconds)
        if r.cv is not None and r.cv > 0.05:
            t += f" ±{r.cv * 100:.0f}%"
        c = r.counters
        peak = c.get("%peak")
        rate = None
        if "GB/s" in c and (r.bandwidth_kind() or "GOP/s" not in c):
            rate = f"{fmt_num(c['GB/s'])} GB/s"
        elif "GOP/s" in c:
            rate = f"{fmt_num(c['GOP/s'])} GOP/s"
        if rate:
            t += f" · {rate}" + (f" ({peak:.0f}%)" if peak is not None else "")
        return t

    # One table per lightq backend (and compiler), one for the peers and other impls: narrow
    # enough to read; every cell holds time, rate and % of peak.
    groups = []
    for c in cols:
        key = c.split(" ", 1)[0] if impl_of(c) in LIGHTQ_BACKENDS else "peers and others"
        for g in groups:
            if g[0] == key:
                g[1].append(c)
                break
        else:
            groups.append((key, [c]))
    out.append("Each cell: median time per call · rate (% of the measured peak: compute peak, or DRAM "
               "read / copy bandwidth when the rate shown is GB/s).\n")
    for key, gcols in groups:
        rows = [[s or "–"] + [cell_text(cell.get((s, c))) for c in gcols] for s in shapes]
        rows = [r for r in rows if any(x for x in r[1:])]
        title = f"lightq `{key}`" if key != "peers and others" else "peers and others"
        out.append(f"**{title}**\n")
        out.append(md_table(["shape"] + [f"`{dtypes_of(c)}`" if key != "peers and others" else f"`{c}`" for c in gcols],
                            rows))
        out.append("")

    # Speed-ups over fp32 on the same lightq backend: t(f32) / t(other).
    ratio_dtype, ratio_peer, ratio_compiler = [], [], []
    for c in cols:
        impl, dtypes = impl_of(c), dtypes_of(c)
        head = c.split(" ", 1)[0]
        if impl in LIGHTQ_BACKENDS and dtype_class(dtypes) in ("fp16", "int8") and f"{head} f32" in cols:
            ratio_dtype.append((f"{head}: {dtypes} vs f32", f"{head} f32", c))
    # lightq against peers, same class: t(peer) / t(fastest lightq of that class, widest backend,
    # first compiler).
    best_head = best_lightq_head(cols)
    best_impl = impl_of(best_head + " x") if best_head else None
    peer_cols = [c for c in cols if impl_of(c) not in LIGHTQ_BACKENDS]
    ratio_same = []
    if best_head:
        for c in peer_cols:
            cls = dtype_class(dtypes_of(c))
            mine = [x for x in cols if head_of(x) == best_head and dtype_class(dtypes_of(x)) == cls]
            if mine:
                ratio_peer.append((f"{best_head} {cls} vs {c}", mine, c))
        # Where lightq runs several types of a class (conv: qs8 and qu8), the fastest of the class
        # hides which one met the peer: also each lightq type against the peer's same type.
        for mine, c in same_dtype_pairs(cols, best_head):
            cls = dtype_class(dtypes_of(c))
            if sum(1 for x in cols if head_of(x) == best_head and dtype_class(dtypes_of(x)) == cls) > 1:
                ratio_same.append((f"{mine} vs {c}", c, mine))
    # Compilers: t(other compiler) / t(first compiler) for the same backend and dtypes.
    tags = sorted({tag_of(c) for c in cols if tag_of(c)})
    if len(tags) > 1:
        first_tag = "g++" if "g++" in tags else tags[0]
        for c in cols:
            if tag_of(c) == first_tag:
                for t in tags:
                    if t != first_tag:
                        other = f"{impl_of(c)}@{t} {dtypes_of(c)}"
                        if other in cols:
                            ratio_compiler.append((f"{impl_of(c)} {dtypes_of(c)}: {first_tag} vs {t}", other, c))
    def ratio_table(caption, ratio_cols):
        if not ratio_cols:
            return
        rows = []
        for s in shapes:
            row = [s or "–"]
            for _, base, other in ratio_cols:
                if isinstance(base, list):  # lightq's best of the class vs a peer
                    mine = [cell.get((s, b)) for b in base]
                    mine = [m for m in mine if m and not m.error and m.seconds]
                    peer = cell.get((s, other))
                    ok = mine and peer and not peer.error and peer.seconds
                    row.append(fmt_ratio(peer.seconds / min(m.seconds for m in mine)) if ok else "")
                else:
                    b, o = cell.get((s, base)), cell.get((s, other))
                    ok = b and o and not b.error and not o.error and b.seconds and o.seconds
                    row.append(fmt_ratio(b.seconds / o.seconds) if ok else "")
            if any(row[1:]):
                rows.append(row)
        if rows:
            out.append(caption + "\n")
            out.append(md_table(["shape"] + [t for t, _, _ in ratio_cols], rows))
            out.append("")

    ratio_table("**speed-up over fp32** on the same backend: t(f32) / t(dtype); > 1: the dtype is faster",
                ratio_dtype)
    ratio_table("**lightq vs peers**: t(peer) / t(lightq's fastest dtype of the same class on its widest backend); "
                "> 1: lightq is faster", ratio_peer)
    ratio_table("**lightq vs peers, same dtypes**: t(peer) / t(lightq) for the same activation and weight "
                "types on lightq's widest backend; > 1: lightq is faster", ratio_same)
    ratio_table("**g++ vs clang++**: t(clang++) / t(g++) for the same backend and dtypes: g++'s speed as a "
                "fraction of clang++'s", ratio_compiler)

    # Model bytes (weights, KV cache) per dtype.
    if any("model_bytes" in r.counters for r in results):
        dts = []
        for c in cols:
            d = dtypes_of(c)
            if d not in dts:
                dts.append(d)
        rows = []
        for s in shapes:
            row = [s or "–"]
            for d in dts:
                vals = [cell[(s, c)].counters.get("model_bytes") for c in cols
                        if dtypes_of(c) == d and (s, c) in cell and "model_bytes" in cell[(s, c)].counters]
                row.append(fmt_bytes(vals[0]) if vals else "")
            rows.append(row)
        out.append("**model bytes** (weights or KV cache the layer stores)\n")
        out.append(md_table(["shape"] + [f"`{d}`" for d in dts], rows))
        out.append("")

    pics = make_plots(op, shapes, cols, cell, plots_dir, plot_notes, best_impl)
    for title, path in pics:
        out.append(f"![{title}]({path})")
    if pics:
        out.append("")
    return "\n".join(out)


# What a row of a family summary is called, singular and plural (default: case, cases).
FAMILY_UNITS = {"conv": ("layer", "layers")}


def case_families(ops, results):
    """Families of ops that hold one case each, the case in the op's name (BM_conv/<layer>/<dtypes>/<impl>:
    op conv/<layer>, no shape): {family: [ops]} for a family of two or more such ops."""
    shapes = {}
    for r in results:
        if r.grammar:
            shapes.setdefault(r.op, set()).add(r.shape)
    families = {}
    for op in ops:
        if "/" in op and shapes.get(op) == {""}:
            families.setdefault(op.split("/", 1)[0], []).append(op)
    return {f: fam_ops for f, fam_ops in families.items() if len(fam_ops) > 1}


def best_type_lines(fam_ops, cols, cell, head, is_sequence, units):
    """Count lines of each side at its best: per case, lightq's faster column of a dtype class
    (qs8 or qu8) against a peer's faster column of that class, where either side has more than one
    column of the class (else the like-with-like line says it)."""
    lines = []
    mine = [c for c in cols if head_of(c) == head]
    for impl in dict.fromkeys(impl_of(c) for c in cols if impl_of(c) not in LIGHTQ_BACKENDS):
        for cls in CLASS_ORDER:
            ours = [c for c in mine if dtype_class(dtypes_of(c)) == cls]
            theirs = [c for c in cols if impl_of(c) == impl and dtype_class(dtypes_of(c)) == cls]
            if not ours or not theirs or len(ours) + len(theirs) < 3:
                continue
            won = of = 0
            for op in fam_ops:
                a = [cell[(op, c)].seconds for c in ours if timed(cell.get((op, c)))]
                b = [cell[(op, c)].seconds for c in theirs if timed(cell.get((op, c)))]
                if a and b and not is_sequence(op):
                    won += min(b) >= min(a)
                    of += 1
            if of:
                def names(cs):
                    return ("the faster of " if len(cs) > 1 else "") + " / ".join(dtypes_of(c) for c in cs)
                lines.append(f"- each at its best, {head} {cls} ({names(ours)}) vs {impl} {cls} ({names(theirs)}): "
                             f"lightq >= {impl} on {won} of {of} {units}")
    return lines


def family_section(family, fam_ops, results):
    """One row per op of the family, one column per lightq / peer pair: t(peer) / t(lightq) for the
    same dtypes, and the cross pairs of cross_dtype_pairs; a count line per pair. Rows timed as a
    sequence of cases (a `layers` counter above 1, e.g. the whole MobileNetV2 stack) are shown in
    bold and not counted. None when there is no pair."""
    results = [r for r in results if r.grammar and r.op in fam_ops]
    cols = sorted({r.column for r in results}, key=column_sort_key)
    cell = {(r.op, r.column): r for r in results}
    head = best_lightq_head(cols)
    if not head:
        return None

    def total_seconds(column):  # a peer's columns of one class, ranked over the ops all of them ran
        theirs = [c for c in cols if impl_of(c) == impl_of(column) and
                  dtype_class(dtypes_of(c)) == dtype_class(dtypes_of(column))]
        common = [op for op in fam_ops if all(timed(cell.get((op, c))) for c in theirs)]
        return sum(cell[(op, column)].seconds for op in common) if common else cols.index(column)

    same = same_dtype_pairs(cols, head)
    pairs = same + cross_dtype_pairs(cols, head, total_seconds)
    pairs.sort(key=lambda p: (column_sort_key(p[1])[0], CLASS_ORDER[dtype_class(dtypes_of(p[1]))], p not in same,
                              dtypes_of(p[1]), dtypes_of(p[0])))
    if not pairs:
        return None
    unit, units = FAMILY_UNITS.get(family, ("case", "cases"))

    def is_sequence(op):
        return any(r.counters.get("layers", 0) > 1 for r in results if r.op == op)

    rows, counts, sequences = [], [[0, 0] for _ in pairs], []
    for op in fam_ops:
        name = op.split("/", 1)[1]
        ratios = [speed_ratio(cell.get((op, mine)), cell.get((op, peer))) for mine, peer in pairs]
        if not any(x is not None for x in ratios):
            continue
        if is_sequence(op):
            sequences.append(name)
            name = f"**{name}**"
        else:
            for count, x in zip(counts, ratios):
                if x is not None:
                    count[0] += x >= 1.0
                    count[1] += 1
        rows.append([name] + [fmt_ratio(x) if x is not None else "" for x in ratios])
    if not rows:
        return None
    labels = [f"{mine} vs {peer}" for mine, peer in pairs]
    if not any(of for _, of in counts):
        sequences = []  # nothing counted: no line saying what was not
    out = [f"t(peer) / t(lightq) for each {family} benchmark, lightq on its widest backend: the same "
           "activation and weight types side by side (like with like), then a peer's faster type against "
           f"lightq's where the peer runs both; > 1: lightq is faster. The {family} sections below hold "
           "the times.\n"]
    out.append(md_table([unit] + labels, rows))
    out.append("")
    for label, (_, peer), (won, of) in zip(labels, pairs, counts):
        if of:
            out.append(f"- {label}: lightq >= {impl_of(peer)} on {won} of {of} {units}")
    out.extend(best_type_lines(fam_ops, cols, cell, head, is_sequence, units))
    if sequences:
        out.append(f"- not counted (a sequence timed as one): {', '.join(sequences)}")
    out.append("")
    return "\n".join(out)


def generic_section(results):
    rows = []
    for r in results:
        counters = ", ".join(f"{k}={fmt_num(v)}" for k, v in sorted(r.counters.items()))
        rows.append([f"`{r.name}`", "error: " + r.error if r.error else fmt_time(r.seconds), counters, r.source])
    return md_table(["benchmark", "time", "counters", "file"], rows, align_right=False)


# ------------------------------------------------------------------------------------------
# Plots
# ------------------------------------------------------------------------------------------
_plt = None


def pyplot():
    global _plt
    if _plt is None:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            _plt = plt
        except Exception:  # noqa: BLE001 - any import problem means no plots
            _plt = False
    return _plt


def make_plots(op, shapes, cols, cell, plots_dir, plot_notes, best_impl):
    if not plots_dir:
        return []
    plt = pyplot()
    if not plt:
        if not any("matplotlib" in n for n in plot_notes):
            plot_notes.append("matplotlib is not installed: no plots (apt-get install python3-matplotlib)")
        return []
    os.makedirs(plots_dir, exist_ok=True)
    # The widest lightq backend (every compiler) and the peers: all backends make unreadable bars.
    plot_cols = [c for c in cols if impl_of(c) == best_impl or impl_of(c) not in LIGHTQ_BACKENDS] or cols
    rel = os.path.basename(os.path.normpath(plots_dir))
    pics = []
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", op)

    def ok(r):
        return r is not None and not r.error and r.seconds

    def bars(series, value, title, xlabel, filename, log, label_fmt, ref_line=None):
        present = [k for k in series if any(value(s, k) for s in shapes)]
        rows = [s for s in shapes if any(value(s, k) for k in present)]
        if not present or not rows:
            return
        height = max(2.5, 0.22 * len(rows) * len(present) + 1.5)
        fig, ax = plt.subplots(figsize=(10, min(height, 60)))
        width = 0.8 / len(present)
        for i, k in enumerate(present):
            ys = [j + i * width for j in range(len(rows))]
            vals = [value(s, k) or 0 for s in rows]
            bars_ = ax.barh(ys, vals, height=width, label=k)
            for b, v in zip(bars_, vals):
                if v:
                    ax.text(b.get_width(), b.get_y() + b.get_height() / 2, " " + label_fmt(v), va="center", fontsize=6)
        ax.set_yticks([j + 0.4 - width / 2 for j in range(len(rows))])
        ax.set_yticklabels([s or "–" for s in rows])
        ax.invert_yaxis()
        if log:
            ax.set_xscale("log")
        if ref_line:
            ax.axvline(ref_line, color="black", linewidth=0.8)
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08 if height < 6 else -0.02),
                  ncol=min(4, len(present)), frameon=False)
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        path = os.path.join(plots_dir, filename)
        fig.savefig(path, dpi=90, bbox_inches="tight")
        plt.close(fig)
        pics.append((title, f"{rel}/{filename}"))

    # Speed relative to the reference column (lightq f32 on the widest backend if present), per
    # shape: times of different shapes differ by decades, ratios read at a glance.
    heads = sorted((c for c in plot_cols if impl_of(c) == best_impl and dtypes_of(c) == "f32"),
                   key=lambda c: tag_order(tag_of(c)))
    ref = heads[0] if heads else plot_cols[0]

    def speed(s, c):
        r, b = cell.get((s, c)), cell.get((s, ref))
        return b.seconds / r.seconds if ok(r) and ok(b) else None

    if len(plot_cols) > 1:
        bars(plot_cols, speed, f"{op}: speed relative to {ref} (higher is better)",
             f"speed-up over {ref} (log)", f"{safe}_speed.png", True, lambda v: f"{v:.2f}x", ref_line=1.0)

    def seconds(s, c):
        r = cell.get((s, c))
        return r.seconds if ok(r) else None

    bars(plot_cols, seconds, f"{op}: time per call (lower is better)", "seconds (log)", f"{safe}_time.png", True,
         fmt_time)

    # Model bytes per dtype (the same for every impl of a dtype).
    dts = []
    for c in plot_cols:
        if dtypes_of(c) not in dts:
            dts.append(dtypes_of(c))

    def model_bytes(s, d):
        for c in plot_cols:
            r = cell.get((s, c))
            if dtypes_of(c) == d and r is not None and "model_bytes" in r.counters:
                return r.counters["model_bytes"]
        return None

    bars(dts, model_bytes, f"{op}: model bytes per dtype (weights / KV cache)", "bytes (log)",
         f"{safe}_model_bytes.png", True, fmt_bytes)
    return pics


# ------------------------------------------------------------------------------------------
# Console summary
# ------------------------------------------------------------------------------------------
def print_summary(contexts, results):
    print("lightq benchmark summary")
    print("peaks (single thread):")
    seen = set()
    for c in contexts:
        arch = c.get("lightq_arch")
        if not arch or (arch, c.get("lightq_compiler")) in seen:
            continue
        seen.add((arch, c.get("lightq_compiler")))
        extra = ""
        if float(c.get("lightq_peak_int16_madd_gops", 0) or 0) > 0:
            extra = f", int16 madd {float(c['lightq_peak_int16_madd_gops']):.0f} GOP/s"
        print(f"  {arch:<13} fp32 {float(c.get('lightq_peak_fp32_gflops', 0)):8.1f} GFLOP/s   "
              f"int8 {float(c.get('lightq_peak_int8_gops', 0)):8.1f} GOP/s{extra}   "
              f"DRAM read {float(c.get('lightq_peak_dram_read_gbs', 0)):5.1f} GB/s   "
              f"copy {float(c.get('lightq_peak_copy_gbs', 0)):5.1f} GB/s   ({c.get('lightq_compiler', '?')})")
    width = max([len(r.name) + (len(r.tag) + 3 if r.tag else 0) for r in results] + [9])
    print(f"{'benchmark':<{width}}  {'time':>10}  {'GOP/s':>9}  {'GB/s':>8}  {'%peak':>6}  {'bytes':>10}")
    for r in results:
        label = f"{r.name} [{r.tag}]" if r.tag else r.name
        if r.error:
            print(f"{label:<{width}}  error: {r.error}")
            continue
        g = r.counters.get("GOP/s")
        b = r.counters.get("GB/s")
        p = r.counters.get("%peak")
        by = r.counters.get("bytes")
        print(f"{label:<{width}}  {fmt_time(r.seconds):>10}  {fmt_num(g) if g is not None else '':>9}  "
              f"{fmt_num(b) if b is not None else '':>8}  {f'{p:.0f}%' if p is not None else '':>6}  "
              f"{fmt_bytes(by) if by is not None else '':>10}")


# ------------------------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", help="Google Benchmark JSON files of one run")
    ap.add_argument("--out", default="docs/benchmarks.md", help="markdown file to write ('-' for stdout)")
    ap.add_argument("--plots", default="docs/benchmarks", help="folder for PNG plots ('' for none)")
    ap.add_argument("--summary", action="store_true", help="also print a summary table to stdout")
    ap.add_argument("--title-note", default="", help="a line printed under the title (e.g. 'quick run')")
    args = ap.parse_args(argv)

    contexts, results, notes = load(args.files)
    plot_notes = []
    if args.plots and args.out != "-" and pyplot() and os.path.isdir(args.plots):
        for f in os.listdir(args.plots):  # the folder holds this report's plots only: drop stale ones
            if f.endswith(".png"):
                os.remove(os.path.join(args.plots, f))
    ops = []
    for r in results:
        if r.grammar and r.op not in ops:
            ops.append(r.op)
    md = ["# lightq benchmarks", ""]
    md.append(f"Generated by `bench/report.py` from {len(args.files)} result file(s) of `bench/run.sh` on "
              f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; do not edit by hand.")
    if args.title_note:
        md += ["", f"> **{args.title_note}**"]
    md += ["", "How to read: times are medians over the repetitions (CPU time of the benchmark thread, one "
           "thread pinned to one core); `GOP/s` counts 2 ops per multiply-add; `%peak` is of the peak measured "
           "by the same executable at start-up (compute peak of the backend, or one-core DRAM read bandwidth "
           "for memory-bound cases, or copy bandwidth for conversions); `±N%` marks a coefficient of variation "
           "above 5%. Compare within one run: the machine is shared and absolute numbers move between runs. "
           "bench/README.md explains every column.", ""]
    md += ["## Machine and compiler", "", machine_section(contexts), ""]
    md += ["## Measured peaks", "", peaks_section(contexts), ""]
    families = case_families(ops, results)
    for op in ops:
        family = op.split("/", 1)[0]
        if family in families and op == families[family][0]:
            summary = family_section(family, families.pop(family), results)
            if summary:
                units = FAMILY_UNITS.get(family, ("case", "cases"))[1]
                md += [f"## {family}: lightq vs peers, {units} side by side", "", summary]
        md += [f"## {op}", ""]
        md.append(op_section(op, [r for r in results if r.grammar and r.op == op], args.plots, plot_notes))
    other = [r for r in results if not r.grammar]
    if other:
        md += ["## Other benchmarks", "", generic_section(other), ""]
    errors = [r for r in results if r.error]
    if errors or notes or plot_notes:
        md += ["## Notes", ""]
        md += [f"- `{r.name}`: {r.error}" for r in errors]
        md += [f"- {n}" for n in notes + plot_notes]
        md.append("")
    text = "\n".join(md).rstrip() + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text)
        print(f"report: wrote {args.out}" + (f" and plots in {args.plots}/" if args.plots and pyplot() else ""))
    if args.summary:
        print()
        print_summary(contexts, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
