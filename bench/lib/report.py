#!/usr/bin/env python3
"""Summarises bench/docker.sh samples: a readable table on stdout and the
same numbers as TSV in OUT, followed by the ratios issue 4 checks.

usage: report.py SAMPLES META OUT

SAMPLES: TSV with a header, one row per measurement:
  scenario runner parallelism rep ok seconds rss_kib log
  (ok is 1 or 0; seconds and rss_kib are empty when unknown)
META: "key=value" lines, copied into OUT as "# key=value" comment lines.
"""
import statistics
import sys

# Scenario order and what each is, for the table.
SCENARIOS = [
    ("one", "1-step tool, docker"),
    ("chain10", "10-step chain, docker"),
    ("scatter50", "50-way scatter, docker"),
    ("scatter200", "200-way scatter, docker"),
    ("host-one", "1-step tool, host"),
    ("host-chain10", "10-step chain, host"),
    ("host-scatter50", "50-way scatter, host"),
    ("host-scatter200", "200-way scatter, host"),
    ("validate1000", "validate 1000-step wf"),
    ("dag1000", "dag 1000-step wf"),
]
RUNNERS = ["cwld", "cwltool", "floor"]


def load(path):
    rows = []
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(head, line.rstrip("\n").split("\t")))
            rows.append(r)
    return rows


def summarise(rows):
    """{(scenario, runner): dict(n, ok, med, min, max, rss_mib, par, log)}"""
    out = {}
    for r in rows:
        k = (r["scenario"], r["runner"])
        s = out.setdefault(k, {"n": 0, "ok": 0, "t": [], "rss": [],
                               "par": r["parallelism"], "fail": []})
        s["n"] += 1
        if r["ok"] == "1":
            s["ok"] += 1
            s["t"].append(float(r["seconds"]))
            if r["rss_kib"]:
                s["rss"].append(int(r["rss_kib"]))
        else:
            s["fail"].append(r["log"])
    for s in out.values():
        t = s["t"]
        # a runner that failed in any repetition reports the failure, not a
        # time from the repetitions that happened to work
        s["valid"] = s["ok"] == s["n"] and t
        s["med"] = statistics.median(t) if t else None
        s["min"] = min(t) if t else None
        s["max"] = max(t) if t else None
        s["rss_mib"] = max(s["rss"]) / 1024 if s["rss"] else None
    return out


def ratios(sm):
    """The numbers issue 4 checks: (name, value or None, unit, how)."""
    def med(scen, runner):
        s = sm.get((scen, runner))
        return s["med"] if s and s["valid"] else None

    res = []
    for scen, floor in (("chain10", "serial"), ("scatter50", "concurrent"),
                        ("scatter200", "concurrent")):
        a, b = med(scen, "cwld"), med(scen, "floor")
        res.append(("overhead_%s" % scen,
                    (a / b - 1) * 100 if a and b else None, "%",
                    "cwld over the raw Engine API floor (%s)" % floor))
    for scen in ("chain10", "scatter50", "host-scatter50"):
        a, b = med(scen, "cwld"), med(scen, "cwltool")
        res.append(("speedup_%s" % scen, b / a if a and b else None, "x",
                    "cwltool time / cwld time"))
    v = med("validate1000", "cwld")
    res.append(("validate1000_ms", v * 1000 if v else None, "ms",
                "cwld validate, 1000-step workflow"))
    v = med("dag1000", "cwld")
    res.append(("dag1000_ms", v * 1000 if v else None, "ms",
                "cwld dag, 1000-step workflow"))
    s = sm.get(("scatter200", "cwld"))
    res.append(("rss_scatter200_mib",
                s["rss_mib"] if s and s["valid"] else None, "MiB",
                "cwld peak RSS, 200-way docker scatter"))
    return res


def fmt(v, unit="s"):
    if v is None:
        return "-"
    if unit == "s":
        return "%.3f" % v if v < 10 else "%.2f" % v
    if unit == "%":
        return "%+.1f %%" % v
    if unit == "x":
        return "%.2fx" % v
    if unit == "ms":
        return "%.1f ms" % v
    if unit == "MiB":
        return "%.1f MiB" % v
    return str(v)


def main():
    samples, meta_path, out_path = sys.argv[1:4]
    sm = summarise(load(samples))
    meta = [l.rstrip("\n") for l in open(meta_path) if "=" in l]

    order = [s for s, _ in SCENARIOS] + sorted(
        {k[0] for k in sm} - {s for s, _ in SCENARIOS})
    desc = dict(SCENARIOS)
    lines = []
    hdr = ("scenario", "runner", "parallelism", "ok", "median s", "min s",
           "max s", "peak RSS", "vs cwld")
    for scen in order:
        cw = sm.get((scen, "cwld"))
        for runner in RUNNERS:
            s = sm.get((scen, runner))
            if s is None:
                continue
            if s["valid"]:
                med, lo, hi = fmt(s["med"]), fmt(s["min"]), fmt(s["max"])
            else:
                med, lo, hi = "FAILED", "", ""
            rel = ""
            if runner != "cwld" and cw and cw["valid"] and s["valid"]:
                rel = "%.2fx" % (s["med"] / cw["med"])
            lines.append((scen, runner, s["par"], "%d/%d" % (s["ok"], s["n"]),
                          med, lo, hi,
                          "%.1f MiB" % s["rss_mib"] if s["rss_mib"] else "-",
                          rel))
    w = [max(len(str(r[i])) for r in lines + [hdr]) for i in range(len(hdr))]
    print()
    for m in meta:
        print("  " + m)
    print()
    print("  ".join(str(h).ljust(w[i]) for i, h in enumerate(hdr)))
    print("  ".join("-" * x for x in w))
    prev = None
    for r in lines:
        if prev is not None and r[0] != prev:
            print()
        prev = r[0]
        print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())
    print("\n(\"vs cwld\": that runner's median / cwld's median; above 1 means cwld is faster)")
    fails = [(k, s) for k, s in sm.items() if s["fail"]]
    if fails:
        print("\nfailures (logs):")
        for (scen, runner), s in sorted(fails):
            for log in s["fail"]:
                print("  %s %s: %s" % (scen, runner, log))
    rs = ratios(sm)
    print("\nissue 4 checks:")
    for name, v, unit, how in rs:
        print("  %-22s %12s   %s" % (name, fmt(v, unit), how))

    with open(out_path, "w") as f:
        for m in meta:
            f.write("# %s\n" % m)
        f.write("kind\tscenario\trunner\tparallelism\tok\treps\tmedian\tmin"
                "\tmax\tunit\tpeak_rss_mib\n")
        for scen in order:
            for runner in RUNNERS:
                s = sm.get((scen, runner))
                if s is None:
                    continue
                g = lambda v: "%.4f" % v if v is not None and s["valid"] else "NA"
                f.write("time\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\ts\t%s\n" % (
                    scen, runner, s["par"], s["ok"], s["n"], g(s["med"]),
                    g(s["min"]), g(s["max"]),
                    "%.1f" % s["rss_mib"] if s["rss_mib"] else "NA"))
        for name, v, unit, how in rs:
            f.write("check\t%s\t\t\t\t\t%s\t\t\t%s\t\n" % (
                name, "%.3f" % v if v is not None else "NA", unit))


if __name__ == "__main__":
    main()
