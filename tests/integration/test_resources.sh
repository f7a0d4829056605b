#!/bin/bash
# The pool's budget of cores and memory on the host (no Docker): a 3-way
# scatter whose tool asks for 2 cores runs one at a time under --cores 2
# and all at once under --cores 6, whatever --parallel allows; a tool asking
# for more memory than --ram runs anyway, alone, with a warning; a
# requirement that evaluates to no number fails its step as before; the
# daemon's /metrics show the budget and what running tools hold of it.
. "$(dirname "$0")/lib.sh"
D=$CWLD_SOURCE_DIR/tests/integration/data
S=$TMP/state
trap 'kill -9 ${DPID:-} 2>/dev/null || true; rm -rf "$TMP"' EXIT

# intervals DIR: "start end" of each times-N.txt the scatter wrote
intervals() { for f in "$1"/times-*.txt; do tr '\n' ' ' <"$f"; echo; done; }
# apart DIR: no two invocations ran at the same time
apart() {
	intervals "$1" | python3 -c 'import sys
iv = sorted(tuple(map(float, l.split())) for l in sys.stdin if l.strip())
assert len(iv) == 3, iv
bad = [(a, b) for a, b in zip(iv, iv[1:]) if b[0] < a[1]]
if bad: print("overlapping:", bad)
sys.exit(1 if bad else 0)'
}
# together DIR: all three ran at one moment (the last start before the first end)
together() {
	intervals "$1" | python3 -c 'import sys
iv = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
assert len(iv) == 3, iv
ok = max(s for s, e in iv) < min(e for s, e in iv)
if not ok: print("not together:", sorted(iv))
sys.exit(0 if ok else 1)'
}
# two_then_one DIR: the first two ran together, the third started after
# one of them had ended
two_then_one() {
	intervals "$1" | python3 -c 'import sys
iv = sorted(tuple(map(float, l.split())) for l in sys.stdin if l.strip())
assert len(iv) == 3, iv
ok = iv[1][0] < iv[0][1] and iv[2][0] >= min(iv[0][1], iv[1][1])
if not ok: print("not two then one:", iv)
sys.exit(0 if ok else 1)'
}

"$CWLD" run --help >"$TMP/help.txt"
check "run --help names --cores and its default" grep -q "machine's online" "$TMP/help.txt"
check "run --help says where the memory default comes from" grep -q "_SC_PHYS_PAGES" "$TMP/help.txt"
check "run --help says tools without ResourceRequirement count against --parallel" \
	grep -q "count only against" "$TMP/help.txt"
"$CWLD" serve --help >"$TMP/serve-help.txt"
check "serve --help names --cores and --ram" grep -q -- "--ram MIB" "$TMP/serve-help.txt"
set +e
"$CWLD" run --cores 0 "$D/resources-wf.cwl" >/dev/null 2>"$TMP/badopt.err"
rc=$?
set -e
check "--cores 0 is a usage error ($rc)" test "$rc" -eq 2 -a -n "$(grep -- "--cores wants" "$TMP/badopt.err")"

# 2 cores each, 2 in the budget: one after the other, though --parallel 3
"$CWLD" run --no-container --cores 2 --parallel 3 --state-dir "$S" --outdir "$TMP/o1" \
	"$D/resources-wf.cwl" >/dev/null 2>"$TMP/o1.err"
check "--cores 2: the three invocations ran one at a time" apart "$TMP/o1"
check "--cores 2: no warning (each fits)" test -z "$(grep "more than the budget" "$TMP/o1.err")"

# 6 cores: all three at once
"$CWLD" run --no-container --cores 6 --parallel 3 --state-dir "$S" --outdir "$TMP/o2" \
	"$D/resources-wf.cwl" >/dev/null 2>"$TMP/o2.err"
check "--cores 6: the three invocations ran together" together "$TMP/o2"

# fractions: 1.5 cores each in 3.5: two at once, the third once one ended
"$CWLD" run --no-container --cores 3.5 --parallel 3 --state-dir "$S" --outdir "$TMP/o3" \
	"$D/resources-wf.cwl" --cores 1.5 >/dev/null 2>"$TMP/o3.err"
check "--cores 3.5, 1.5 each: two ran together, the third after one of them" two_then_one "$TMP/o3"

# more memory than the budget: runs anyway, each alone, with a warning
"$CWLD" run --no-container --cores 6 --ram 1024 --parallel 3 --state-dir "$S" --outdir "$TMP/o4" \
	"$D/resources-wf.cwl" --ram 4096 >/dev/null 2>"$TMP/o4.err"
check "ramMin over --ram: the run succeeds" test "$(sql "$S/cwld.db" "select state from runs order by created_at desc limit 1")" = success
check "ramMin over --ram: the invocations ran one at a time" apart "$TMP/o4"
check "ramMin over --ram: a warning names the step, what it asked and the budget" \
	grep -q "step 'timed.0' asks for 2 cores and 4096 MiB, more than the budget of 6 cores and 1024 MiB" "$TMP/o4.err"
check "ramMin over --ram: one warning per invocation" test "$(grep -c "more than the budget" "$TMP/o4.err")" = 3

# a requirement that is no number fails the step, recorded with its reason
set +e
"$CWLD" run --no-container --state-dir "$S" "$D/resources-bad-tool.cwl" >/dev/null 2>"$TMP/bad.err"
rc=$?
set -e
check "a bad ResourceRequirement fails the run ($rc)" test "$rc" -ne 0
check "and says why, naming the step" grep -q "step 'main': ResourceRequirement coresMin is not a number" "$TMP/bad.err"
check "the attempt keeps the reason" test "$(sql "$S/cwld.db" "select a.state||':'||a.message from attempts a join steps s on s.id=a.step_id join runs r on r.id=s.run_id where r.state='failed'")" = "failed:ResourceRequirement coresMin is not a number"

# the daemon: the budget and what is held of it in /metrics
serve_start --state-dir "$TMP/sstate" --root "$D" --cores 3.5 --ram 2048
metric() { curl -s "$URL/metrics" | sed -n "s/^$1 //p"; }
check "metrics: cores budget" test "$(metric cwld_pool_cores_total)" = 3.500
check "metrics: memory budget in bytes" test "$(metric cwld_pool_ram_bytes_total)" = $((2048 * 1048576))
check "metrics: nothing held when idle" test "$(metric cwld_pool_cores_used):$(metric cwld_pool_ram_bytes_used)" = 0.000:0
run=$(curl -s -X POST "$URL/api/v1/runs" -d '{"workflow": "resources-wf.cwl", "no_container": true, "inputs": {"ram": 100}}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
held=
for _ in $(seq 1 100); do
	held=$(metric cwld_pool_cores_used):$(metric cwld_pool_ram_bytes_used)
	[ "$held" = "0.000:0" ] || break
	sleep 0.05
done
check "metrics: a running tool holds its 2 cores and 100 MiB ($held)" test "$held" = "2.000:$((100 * 1048576))"
state=
for _ in $(seq 1 200); do
	state=$(curl -s "$URL/api/v1/runs/$run" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
	[ "$state" = success ] && break
	sleep 0.05
done
check "the daemon's run succeeds" test "$state" = success
check "metrics: all given back after the run" test "$(metric cwld_pool_cores_used):$(metric cwld_pool_ram_bytes_used)" = 0.000:0
serve_stop
finish
