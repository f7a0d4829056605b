#!/usr/bin/env python3
"""Writes the CWL documents and job files bench/docker.sh runs into DIR.

Every tool names debian:stable-slim in a DockerRequirement *hint*, so the
same files run in containers by default and on the host with
--no-container (the reference runner refuses --no-container when the
DockerRequirement is under `requirements`).

usage: bench/gen-workflows.py DIR [--image IMAGE] [--big N]

  echo.cwl         echo MSG > out.txt (stdout)            job one.yml
  prefix.cwl       sed 's/^/x/' FILE > out.txt (stdout)
  chain10.cwl      10 prefix.cwl steps, each on the previous output
                                                          job chain10.yml
  scatter.cwl      echo.cwl scattered over msgs            jobs scatter50.yml,
                                                          scatter200.yml
  wf1000.cwl       N (default 1000) prefix.cwl steps as a binary tree:
                   step i reads step (i-1)//2's output (validate/dag only)
  seed.txt         "hello"
"""
import argparse
import json
import os


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def tool(base, inputs, image):
    # JSON is YAML: no PyYAML needed, and both runners read it.
    return json.dumps({
        "cwlVersion": "v1.2",
        "class": "CommandLineTool",
        "hints": [{"class": "DockerRequirement", "dockerPull": image}],
        "baseCommand": base,
        "inputs": inputs,
        "stdout": "out.txt",
        "outputs": {"out": {"type": "stdout"}},
    }, indent=1) + "\n"


def chain(n):
    steps = {}
    for i in range(1, n + 1):
        src = "f" if i == 1 else "s%d/out" % (i - 1)
        steps["s%d" % i] = {"run": "prefix.cwl", "in": {"f": src},
                            "out": ["out"]}
    return {
        "cwlVersion": "v1.2",
        "class": "Workflow",
        "inputs": {"f": "File"},
        "outputs": {"out": {"type": "File", "outputSource": "s%d/out" % n}},
        "steps": steps,
    }


def tree(n):
    steps = {}
    for i in range(n):
        src = "f" if i == 0 else "s%d/out" % ((i - 1) // 2)
        steps["s%d" % i] = {"run": "prefix.cwl", "in": {"f": src},
                            "out": ["out"]}
    return {
        "cwlVersion": "v1.2",
        "class": "Workflow",
        "inputs": {"f": "File"},
        "outputs": {"out": {"type": "File",
                            "outputSource": "s%d/out" % (n - 1)}},
        "steps": steps,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--image", default="debian:stable-slim")
    ap.add_argument("--big", type=int, default=1000)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    d = lambda name: os.path.join(a.dir, name)

    write(d("seed.txt"), "hello\n")
    write(d("echo.cwl"), tool(["echo"], {
        "msg": {"type": "string", "inputBinding": {"position": 1}}}, a.image))
    write(d("prefix.cwl"), tool(["sed", "s/^/x/"], {
        "f": {"type": "File", "inputBinding": {"position": 1}}}, a.image))
    write(d("one.yml"), json.dumps({"msg": "hello"}) + "\n")
    write(d("chain10.cwl"), json.dumps(chain(10), indent=1) + "\n")
    seed = {"f": {"class": "File", "path": "seed.txt"}}
    write(d("chain10.yml"), json.dumps(seed) + "\n")
    write(d("scatter.cwl"), json.dumps({
        "cwlVersion": "v1.2",
        "class": "Workflow",
        "requirements": [{"class": "ScatterFeatureRequirement"}],
        "inputs": {"msgs": "string[]"},
        "outputs": {"outs": {"type": "File[]", "outputSource": "e/out"}},
        "steps": {"e": {"run": "echo.cwl", "scatter": "msg",
                        "in": {"msg": "msgs"}, "out": ["out"]}},
    }, indent=1) + "\n")
    for n in (50, 200):
        write(d("scatter%d.yml" % n), json.dumps(
            {"msgs": ["m%d" % i for i in range(1, n + 1)]}) + "\n")
    write(d("wf1000.cwl"), json.dumps(tree(a.big), indent=1) + "\n")
    write(d("wf1000.yml"), json.dumps(seed) + "\n")


if __name__ == "__main__":
    main()
