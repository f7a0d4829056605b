#!/bin/bash
# Live progress of `cwld run` on a pseudo-terminal (script(1) from
# util-linux): the status block shows counts, running steps with elapsed
# time and image, failed steps, and is gone before the output object; off
# the terminal, with -q, TERM=dumb or --progress never, stderr has no
# escape codes. A failing scatter job inside a subworkflow, on the host and
# in a container, is reported with its step, scatter index, exit code, last
# lines of stderr and the paths of its full logs.
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || { echo "not ok - script(1) from util-linux is needed"; exit 1; }
S=$TMP/state
W=$TMP/wf
mkdir -p "$W"

cat >"$W/slow.cwl" <<'EOF'
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c]
inputs:
  t: {type: string, inputBinding: {position: 1, valueFrom: 'sleep $(self); echo slept $(self)'}}
outputs:
  out: {type: stdout}
EOF
# a and b at once, c after a: three steps, the last starts while b runs.
cat >"$W/three.cwl" <<'EOF'
cwlVersion: v1.2
class: Workflow
inputs: {}
outputs:
  c: {type: File, outputSource: c/out}
steps:
  a: {run: slow.cwl, in: {t: {default: "1"}}, out: [out]}
  b: {run: slow.cwl, in: {t: {default: "1.8"}}, out: [out]}
  c: {run: slow.cwl, in: {t: {default: "0.6"}, dep: a/out}, out: [out]}
EOF
sed 's/^inputs: {}$/requirements: {DockerRequirement: {dockerPull: "debian:stable-slim"}}\ninputs: {}/' \
	"$W/three.cwl" >"$W/three-docker.cwl"
cat >"$W/item.cwl" <<'EOF'
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c]
inputs:
  n: {type: int, inputBinding: {position: 1, valueFrom: 'sleep 0.5; echo "warming up $(self)" >&2; echo "item $(self) is bad" >&2; test $(self) -ne 2 || exit 7'}}
outputs: []
EOF
cat >"$W/sub.cwl" <<'EOF'
cwlVersion: v1.2
class: Workflow
requirements: {ScatterFeatureRequirement: {}}
inputs: {ns: 'int[]'}
outputs: []
steps:
  inner: {run: item.cwl, scatter: n, in: {n: ns}, out: []}
EOF
cat >"$W/outer.cwl" <<'EOF'
cwlVersion: v1.2
class: Workflow
requirements: {SubworkflowFeatureRequirement: {}}
inputs: {ns: 'int[]'}
outputs: []
steps:
  sub: {run: sub.cwl, in: {ns: ns}, out: []}
EOF
sed 's/^requirements: {SubworkflowFeatureRequirement: {}}$/requirements:\n  SubworkflowFeatureRequirement: {}\n  DockerRequirement: {dockerPull: "debian:stable-slim"}/' \
	"$W/outer.cwl" >"$W/outer-docker.cwl"
echo 'ns: [1, 2, 3]' >"$W/ns.yml"

# on_tty CAPTURE CMD...: runs CMD with stdin, stdout and stderr on a new
# pseudo-terminal; what the terminal received goes to CAPTURE; returns
# CMD's exit status.
on_tty() {
	local cap=$1; shift
	local cmd
	cmd=$(printf '%q ' "$@")
	TERM=${PT_TERM:-xterm} script -qfec "$cmd" /dev/null </dev/null >"$cap"
}
no_esc() { ! grep -q $'\033' "$1"; }
# The text after the block's last erase, carriage returns removed.
after_block() { python3 -c 'import sys; t=open(sys.argv[1],encoding="utf-8").read(); print(t[t.rfind("\x1b[J")+3:].replace("\r",""), end="")' "$1"; }

# --- Host: the block while steps run, then the output object, whole. ---
on_tty "$TMP/host.tty" "$CWLD" run --state-dir "$S" --outdir "$TMP/o1" --parallel 2 "$W/three.cwl"
rc=$?
check "host run under a terminal exits 0" test "$rc" -eq 0
check "block erases itself with ANSI codes" grep -q $'\033\\[[0-9]*A\033\\[J' "$TMP/host.tty"
check "block counts steps done out of those known" grep -q 'done 1/3' "$TMP/host.tty"
check "block shows a and b running with elapsed times" \
	bash -c "grep -aq 'running.*[0-9]\\.[0-9]s  a' '$TMP/host.tty' && grep -aq 'running.*[0-9]\\.[0-9]s  b' '$TMP/host.tty'"
check "block shows c running" grep -aq 'running.*s  c' "$TMP/host.tty"
check "header counts two running" grep -aq 'running 2' "$TMP/host.tty"
check "a summary line stays: done 3/3" grep -aq 'cwld: done 3/3 in [0-9.]*s' "$TMP/host.tty"
after_block "$TMP/host.tty" >"$TMP/host.after"
check "nothing but the summary, the output object and log lines follows the block" \
	python3 - "$TMP/host.after" "$TMP/o1" <<'EOF'
import json, sys
t = open(sys.argv[1]).read()
lines = t.split("\n")
assert lines[0].startswith("cwld: done 3/3 in "), lines[0]
start = lines.index("{")
end = len(lines) - 1 - lines[::-1].index("}")
out = json.loads("\n".join(lines[start:end + 1]))
assert out["c"]["path"].startswith(sys.argv[2] + "/"), out
assert out["c"]["size"] == len("slept 0.6\n"), out
for l in lines[1:start] + lines[end + 1:]:
    assert l == "" or l.startswith("cwld: run "), repr(l)
EOF

# stdout to a file, stderr on the terminal: stdout is the object alone.
on_tty "$TMP/host2.tty" bash -c '"$0" run --state-dir "$1" --outdir "$2" "$3" >"$4"' \
	"$CWLD" "$S" "$TMP/o2" "$W/three.cwl" "$TMP/host2.json"
check "stdout to a file holds only the output object" \
	python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["c"]["class"]=="File"' "$TMP/host2.json"
check "stdout file has no escape codes" no_esc "$TMP/host2.json"
check "the terminal got the block" grep -aq 'done 3/3' "$TMP/host2.tty"

# --- Not a terminal, -q, TERM=dumb, --progress never: no block. ---
"$CWLD" run --state-dir "$S" --outdir "$TMP/o3" "$W/three.cwl" >"$TMP/plain.out" 2>"$TMP/plain.err"
check "stderr not a terminal: no escape codes" no_esc "$TMP/plain.err"
check "stderr not a terminal: no block nor summary" bash -c "! grep -q 'done 3/3' '$TMP/plain.err'"
check "stderr not a terminal: only today's log lines" \
	bash -c "! grep -v '^cwld: run [0-9a-f]*\\( started (state in .*)\\|: step .[abc]. started\\| finished: success\\)$' '$TMP/plain.err'"
check "stderr not a terminal: the three steps are logged" test "$(grep -c "step '[abc]' started" "$TMP/plain.err")" -eq 3
on_tty "$TMP/quiet.tty" "$CWLD" run -q --state-dir "$S" --outdir "$TMP/o4" "$W/three.cwl"
check "-q on a terminal: no escape codes" no_esc "$TMP/quiet.tty"
check "-q on a terminal: the output object only" \
	python3 -c 'import json,sys; json.loads(open(sys.argv[1]).read().replace("\r",""))' "$TMP/quiet.tty"
PT_TERM=dumb on_tty "$TMP/dumb.tty" "$CWLD" run --state-dir "$S" --outdir "$TMP/o5" "$W/three.cwl"
check "TERM=dumb: no escape codes" no_esc "$TMP/dumb.tty"
on_tty "$TMP/never.tty" "$CWLD" run --progress never --state-dir "$S" --outdir "$TMP/o6" "$W/three.cwl"
check "--progress never: no escape codes" no_esc "$TMP/never.tty"
NO_COLOR=1 on_tty "$TMP/nocolor.tty" "$CWLD" run --state-dir "$S" --outdir "$TMP/o7" "$W/three.cwl"
check "NO_COLOR: the block is drawn" grep -aq 'running 2' "$TMP/nocolor.tty"
check "NO_COLOR: no color codes" bash -c "! grep -q $'\\033\\[[0-9;]*m' '$TMP/nocolor.tty'"
check "colors without NO_COLOR" grep -q $'\033\\[36mrunning' "$TMP/host.tty"
set +e
"$CWLD" run --progress sometimes "$W/three.cwl" >/dev/null 2>"$TMP/badopt.err"
rc=$?
set -e
check "--progress with a bad value exits 2" test "$rc" -eq 2
check "--progress with a bad value says what it wants" grep -q 'auto, always or never' "$TMP/badopt.err"

# --- In a container: the image is shown. ---
on_tty "$TMP/docker.tty" "$CWLD" run --state-dir "$S" --outdir "$TMP/o8" --parallel 2 "$W/three-docker.cwl"
rc=$?
check "container run under a terminal exits 0" test "$rc" -eq 0
check "running lines name the image" grep -aq 'running.*s  a  in debian:stable-slim' "$TMP/docker.tty"
check "container run ends with done 3/3" grep -aq 'cwld: done 3/3 in' "$TMP/docker.tty"
after_block "$TMP/docker.tty" >"$TMP/docker.after"
check "container run's output object is whole after the block" python3 - "$TMP/docker.after" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
start = lines.index("{")
end = len(lines) - 1 - lines[::-1].index("}")
assert json.loads("\n".join(lines[start:end + 1]))["c"]["size"] == len("slept 0.6\n")
EOF

# --- A failing scatter job in a subworkflow: the four items. ---
# check_failure NAME FILE: FILE holds the run's stderr (terminal or not).
check_failure() {
	local n=$1 f=$2 path
	check "$n: names the step and its scatter index" \
		grep -aq "step 'sub/inner.1' (scatter index 1): command exited with code 7" "$f"
	check "$n: says the exit code" grep -aq 'exited with code 7' "$f"
	check "$n: shows the last lines of stderr" \
		bash -c "grep -aA2 'last lines of stderr:' '$f' | tr -d '\\r' | grep -q '^    item 2 is bad\$'"
	path=$(tr -d '\r' <"$f" | sed -n 's/^  full stderr: //p' | tail -1)
	check "$n: gives the full stderr path ($path)" grep -q 'item 2 is bad' "${path:-/nonexistent}"
	path=$(tr -d '\r' <"$f" | sed -n 's/^  full stdout: //p' | tail -1)
	check "$n: gives the full stdout path" test -f "${path:-/nonexistent}"
}
for mode in host docker; do
	wf=$W/outer.cwl
	[ "$mode" = docker ] && wf=$W/outer-docker.cwl
	set +e
	on_tty "$TMP/fail-$mode.tty" "$CWLD" run --state-dir "$S" --outdir "$TMP/of" "$wf" "$W/ns.yml"
	rc=$?
	"$CWLD" run --state-dir "$S" --outdir "$TMP/of" "$wf" "$W/ns.yml" >/dev/null 2>"$TMP/fail-$mode.err"
	rc2=$?
	set -e
	check "$mode failure on a terminal exits 1" test "$rc" -eq 1
	check "$mode failure off a terminal exits 1" test "$rc2" -eq 1
	check "$mode failure: the block lists the failed job" \
		grep -aq 'failed .*sub/inner.1 (scatter index 1): exit code 7' "$TMP/fail-$mode.tty"
	check "$mode failure: the summary counts it" grep -aq 'cwld: done 2/3, 1 failed in' "$TMP/fail-$mode.tty"
	check_failure "$mode on a terminal" "$TMP/fail-$mode.tty"
	check_failure "$mode off a terminal" "$TMP/fail-$mode.err"
done
finish
