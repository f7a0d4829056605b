#!/bin/bash
# Integration test of `cwld dag`: DAG files for real CWL workflows, checked by
# compat/check_dag.py (compiled, then read with ast: task ids, >> edges, the
# DAG arguments Airflow 2 and 3 need). Airflow itself is not needed.
# Env: CWLD (the binary), CWLD_SOURCE_DIR, CWLD_SHARED_DIR.
set -u

: "${CWLD:?set CWLD to the cwld binary}"
: "${CWLD_SOURCE_DIR:?}"
: "${CWLD_SHARED_DIR:?}"

tests=$CWLD_SHARED_DIR/conformance/cwl-v1.2/tests
check=$CWLD_SOURCE_DIR/compat/check_dag.py
tmp=$(mktemp -d /tmp/cwld-test-dag.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

abspath() {
	python3 -c 'import os, sys; print(os.path.abspath(sys.argv[1]))' "$1"
}

# 1. Two steps, one edge, to stdout; the tasks get the absolute path.
wf=$tests/count-lines1-wf.cwl
if "$CWLD" dag "$wf" >"$tmp/count.py" 2>"$tmp/err"; then
	python3 "$check" "$tmp/count.py" --tasks 2 --task-ids step1,step2 \
	    --edges 'step1>step2' --dag-id count-lines1-wf || fail "count-lines1-wf checks"
	grep -qF "bash_command=\"cwld run --only-step step1 $(abspath "$wf")\"" "$tmp/count.py" ||
	    fail "count-lines1-wf: step1's command does not name the absolute path"
else
	fail "cwld dag count-lines1-wf.cwl: $(cat "$tmp/err")"
fi

# 2. -o writes the file (atomically: no temp file left), --dag-id sanitised.
if "$CWLD" dag -o "$tmp/out.py" --dag-id 'my dag/1' "$tests/count-lines11-extra-step-wf.cwl" \
    >"$tmp/stdout" 2>"$tmp/err"; then
	[ -s "$tmp/stdout" ] && fail "-o also wrote to stdout"
	python3 "$check" "$tmp/out.py" --tasks 3 --edges 'step0>step1,step1>step2' \
	    --dag-id my_dag_1 || fail "-o --dag-id checks"
	[ "$(ls -A "$tmp" | grep -c 'out\.py.')" = 0 ] || fail "-o left a temporary file"
else
	fail "cwld dag -o: $(cat "$tmp/err")"
fi

# 3. A tool is one task, no edges.
if "$CWLD" dag "$tests/wc-tool.cwl" >"$tmp/tool.py" 2>"$tmp/err"; then
	python3 "$check" "$tmp/tool.py" --tasks 1 --task-ids wc-tool --edges '' ||
	    fail "wc-tool checks"
	grep -qF "bash_command=\"cwld run $(abspath "$tests/wc-tool.cwl")\"" "$tmp/tool.py" ||
	    fail "wc-tool: command"
else
	fail "cwld dag wc-tool.cwl: $(cat "$tmp/err")"
fi

# 4. Usage and errors.
"$CWLD" dag -h >"$tmp/help" 2>&1 && grep -q '^usage: cwld dag' "$tmp/help" ||
    fail "cwld dag -h"
"$CWLD" dag >/dev/null 2>&1
[ $? = 2 ] || fail "cwld dag without WORKFLOW should exit 2"
"$CWLD" dag --bogus "$wf" >/dev/null 2>&1
[ $? = 2 ] || fail "cwld dag --bogus should exit 2"
"$CWLD" dag -o "$tmp/never.py" "$tmp/missing.cwl" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 2 ] || fail "missing workflow: exit $rc, want 2"
grep -q 'missing.cwl' "$tmp/err" || fail "missing workflow: error does not name the file"
[ -e "$tmp/never.py" ] && fail "a failed load wrote the output file"
printf 'class: Workflow\ncwlVersion: v1.2\ninputs: []\noutputs: []\nsteps: 7\n' >"$tmp/bad.cwl"
"$CWLD" dag "$tmp/bad.cwl" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 2 ] || fail "invalid workflow: exit $rc, want 2"
grep -q 'bad.cwl' "$tmp/err" || fail "invalid workflow: error does not name the file"

# 5. Every single-document workflow of the conformance suite (and examples/):
# expected tasks and edges computed from the YAML here, independently of cwld.
# Documents the loader rejects (exit 2 or 33) are counted, not failed; a
# crash (any other status) fails.
ok=0
rejected=0
for f in "$tests"/*.cwl "$CWLD_SOURCE_DIR"/examples/*.cwl "$CWLD_SOURCE_DIR"/examples/*/*.cwl; do
	[ -f "$f" ] || continue
	expect=$(python3 - "$f" <<'EOF'
import re, sys
try:
    import yaml
except ImportError:
    sys.exit(1)
try:
    doc = yaml.safe_load(open(sys.argv[1]))
except Exception:
    sys.exit(1)
if not isinstance(doc, dict) or doc.get("class") != "Workflow" or "$graph" in doc:
    sys.exit(1)
steps = doc.get("steps")
if isinstance(steps, dict):
    steps = [dict(v or {}, id=k) for k, v in steps.items()]
if not isinstance(steps, list):
    sys.exit(1)
ids = [str(s.get("id", "")).lstrip("#") for s in steps]
def san(s):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", s)
if len(set(map(san, ids))) != len(ids) or not all(ids):
    sys.exit(1)
edges = set()
for s, sid in zip(steps, ids):
    ins = s.get("in") or []
    if isinstance(ins, dict):
        ins = [v if isinstance(v, dict) else {"source": v} for v in ins.values()]
    for i in ins:
        src = i.get("source", []) if isinstance(i, dict) else []
        for x in ([src] if isinstance(src, str) else src or []):
            x = str(x).lstrip("#")
            up = x.split("/")[0] if "/" in x else None
            if up in ids and up != sid:
                edges.add(f"{san(up)}>{san(sid)}")
print(len(ids), ",".join(sorted(edges)))
EOF
) || continue
	n=${expect%% *}
	edges=${expect#* }
	name=$(basename "$f")
	"$CWLD" dag "$f" >"$tmp/wf.py" 2>"$tmp/err"
	rc=$?
	if [ $rc = 2 ] || [ $rc = 33 ]; then
		rejected=$((rejected + 1))
		echo "note: $name rejected by the loader: $(head -c 300 "$tmp/err")"
		continue
	fi
	if [ $rc != 0 ]; then
		fail "$name: cwld dag exit $rc: $(head -c 500 "$tmp/err")"
		continue
	fi
	if python3 "$check" "$tmp/wf.py" --tasks "$n" --edges "$edges" >/dev/null; then
		ok=$((ok + 1))
	else
		fail "$name: DAG does not match the workflow"
	fi
done
echo "workflows: $ok checked, $rejected rejected by the loader"

# 6. The example, spelled out: one task per step and its fan-out/fan-in.
"$CWLD" dag -o "$tmp/example.py" "$CWLD_SOURCE_DIR/examples/wordcount/wf.cwl" ||
	fail "cwld dag on the example failed"
python3 -m py_compile "$tmp/example.py" || fail "the example's DAG does not compile"
python3 "$check" "$tmp/example.py" --dag-id wf --tasks 4 \
	--task-ids split,count_first,count_second,merge \
	--edges 'split>count_first,split>count_second,count_first>merge,count_second>merge' ||
	fail "the example's DAG does not have its tasks and edges"
[ $ok -ge 10 ] || fail "fewer than 10 workflows checked"

if [ $fails != 0 ]; then
	echo "$fails failure(s)" >&2
	exit 1
fi
echo "ok"
