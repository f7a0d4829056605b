#!/usr/bin/env python3
"""Checks that a bench/docker.sh run produced what it should, so a fast
failure is never reported as a fast run. Exits 1 with a reason otherwise.

usage: check.py one|chain|scatter N  OUTPUT.json   a runner's output object
       check.py floor-one|floor-chain|floor-scatter N  DIR   floor.sh's files
"""
import json
import os
import sys
from urllib.parse import unquote, urlparse


def fail(msg):
    print("check: " + msg, file=sys.stderr)
    sys.exit(1)


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        fail("cannot read %s: %s" % (path, e))


def file_path(obj, what):
    if not isinstance(obj, dict) or obj.get("class") != "File":
        fail("%s is not a File: %r" % (what, obj))
    p = obj.get("path")
    if not p:
        loc = obj.get("location", "")
        if not loc.startswith("file://"):
            fail("%s has no local path: %r" % (what, obj))
        p = unquote(urlparse(loc).path)
    return p


def expect(path, want, what):
    got = read(path)
    if got != want:
        fail("%s: %s holds %r, not %r" % (what, path, got[:80], want))


def main():
    a = sys.argv[1:]
    kind = a.pop(0)
    n = int(a.pop(0)) if kind.endswith("scatter") or kind.endswith("chain") else 0
    src = a.pop(0)
    if kind == "floor-one":
        expect(os.path.join(src, "c1/out/out.txt"), "hello\n", "floor")
    elif kind == "floor-chain":
        expect(os.path.join(src, "c%d/out/out.txt" % n), "x" * n + "hello\n",
               "floor")
    elif kind == "floor-scatter":
        for i in range(1, n + 1):
            expect(os.path.join(src, "c%d/out/out.txt" % i), "m%d\n" % i,
                   "floor")
    else:
        text = read(src)
        try:
            out = json.loads(text)
        except ValueError:
            fail("%s is not a JSON output object: %r" % (src, text[:200]))
        if kind == "one":
            expect(file_path(out.get("out"), "out"), "hello\n", "out")
        elif kind == "chain":
            expect(file_path(out.get("out"), "out"), "x" * n + "hello\n",
                   "out")
        elif kind == "scatter":
            outs = out.get("outs")
            if not isinstance(outs, list) or len(outs) != n:
                fail(("outs is not a list of %d Files: %r" % (n, outs))[:300])
            paths = [file_path(o, "outs[%d]" % i) for i, o in enumerate(outs)]
            if len(set(paths)) != n:
                fail("outs has only %d distinct paths" % len(set(paths)))
            for i, p in enumerate(paths):
                expect(p, "m%d\n" % (i + 1), "outs[%d]" % i)
        else:
            fail("unknown kind %r" % kind)


if __name__ == "__main__":
    main()
