#!/usr/bin/env bash
# The REST calls cwld makes to mirror a run, replayed with curl against a real
# Airflow started by airflow.sh, with the behaviour /work/notes/airflow.md
# records asserted. Usage: smoke.sh MAJOR [PORT]   (MAJOR 3 or 2)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MAJOR=${1:?usage: smoke.sh MAJOR [PORT]}
PORT=${2:-$((18000 + RANDOM % 1000 * 2))}
B=http://127.0.0.1:$PORT
AF_HOME=$(mktemp -d "${TMPDIR:-/tmp}/cwld-airflow$MAJOR.XXXXXX")
trap '"$HERE/airflow.sh" stop "$AF_HOME" >/dev/null 2>&1 || true; rm -rf "$AF_HOME"' EXIT
FAILS=0 PASSES=0
ok() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
not_ok() { FAILS=$((FAILS + 1)); echo "not ok - $*"; }

"$HERE/airflow.sh" install "$MAJOR"
"$HERE/airflow.sh" start "$MAJOR" "$AF_HOME" "$PORT"

if [ "$MAJOR" = 3 ]; then
	API=$B/api/v2
	TOKEN=$(curl -sf -X POST "$B/auth/token" -H 'Content-Type: application/json' \
		-d '{"username":"cwld","password":"cwld-test-pw"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
	AUTH=(-H "Authorization: Bearer $TOKEN")
else
	API=$B/api/v1
	AUTH=(-u cwld:cwld-test-pw)
fi

# req METHOD PATH [BODY]: the body lands in $BODY, the status in $CODE
req() {
	local out
	out=$(curl -s -w '\n%{http_code}' -X "$1" "${AUTH[@]}" ${3:+-H 'Content-Type: application/json' -d "$3"} "$API$2")
	CODE=${out##*$'\n'}
	BODY=${out%$'\n'*}
}
expect() { # expect DESCRIPTION CODE
	if [ "$CODE" = "$2" ]; then ok "$1 ($CODE)"; else not_ok "$1: want HTTP $2, got $CODE: ${BODY:0:300}"; fi
}
# states RUN: "run=STATE a=STATE b=STATE" read back from the API
states() {
	local run ti
	req GET "/dags/cwld_smoke/dagRuns/$1"
	run=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["state"])' "$BODY")
	req GET "/dags/cwld_smoke/dagRuns/$1/taskInstances"
	ti=$(python3 -c 'import json,sys; print(" ".join("%s=%s" % (t["task_id"], t["state"]) for t in sorted(json.loads(sys.argv[1])["task_instances"], key=lambda t: t["task_id"])))' "$BODY")
	echo "run=$run $ti"
}
check_states() { # check_states DESCRIPTION RUN WANT
	local got
	got=$(states "$2")
	if [ "$got" = "$3" ]; then ok "$1: $got"; else not_ok "$1: want '$3', got '$got'"; fi
}

req GET /version
expect "version" 200
# dag file, written atomically: a temp name Airflow does not read, then rename
cat >"$AF_HOME/dags/.cwld_smoke.tmp" <<'EOF'
# cwld smoke test: an airflow dag
import datetime
from airflow import DAG
try:
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:
    from airflow.operators.bash import BashOperator

with DAG(
    dag_id="cwld_smoke",
    schedule=None,
    catchup=False,
    start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
    is_paused_upon_creation=True,
    tags=["cwld"],
) as dag:
    a = BashOperator(task_id="a", bash_command="echo a")
    b = BashOperator(task_id="b", bash_command="echo b")
    a >> b
EOF
mv "$AF_HOME/dags/.cwld_smoke.tmp" "$AF_HOME/dags/cwld_smoke.py"
t0=$(date +%s%N)
while req GET /dags/cwld_smoke && [ "$CODE" != 200 ]; do
	[ $(($(date +%s%N) - t0)) -lt 60000000000 ] || break
	sleep 0.2
done
expect "dag parsed after $((($(date +%s%N) - t0) / 1000000)) ms" 200
[[ $BODY == *'"is_paused":true'* || $BODY == *'"is_paused": true'* ]] && ok "dag is paused" || not_ok "dag is not paused: ${BODY:0:200}"

# create_run RUN_ID N: a run on the paused DAG (Airflow 2 wants a unique logical_date)
create_run() {
	if [ "$MAJOR" = 3 ]; then
		req POST /dags/cwld_smoke/dagRuns "{\"dag_run_id\":\"$1\",\"logical_date\":null,\"conf\":{\"cwld_run\":\"$1\"},\"note\":\"mirrored by cwld\"}"
	else
		req POST /dags/cwld_smoke/dagRuns "{\"dag_run_id\":\"$1\",\"logical_date\":\"2024-01-0$2T00:00:00+00:00\",\"conf\":{\"cwld_run\":\"$1\"},\"note\":\"mirrored by cwld\"}"
	fi
	expect "create run $1" 200
}
# set_ti RUN TASK STATE NOTE
set_ti() {
	if [ "$MAJOR" = 3 ]; then
		req PATCH "/dags/cwld_smoke/dagRuns/$1/taskInstances/$2" "{\"new_state\":\"$3\",\"note\":\"$4\"}"
		expect "set $1/$2 $3 with note" 200
	else
		req PATCH "/dags/cwld_smoke/dagRuns/$1/taskInstances/$2" "{\"dry_run\":false,\"new_state\":\"$3\"}"
		expect "set $1/$2 $3" 200
		req PATCH "/dags/cwld_smoke/dagRuns/$1/taskInstances/$2/setNote" "{\"note\":\"$4\"}"
		expect "note on $1/$2" 200
	fi
}
set_run() { # set_run RUN STATE
	req PATCH "/dags/cwld_smoke/dagRuns/$1" "{\"state\":\"$2\"}"
	expect "set run $1 $2" 200
}

# Run 1: a success, b failed, run failed.
create_run r1 1
if [ "$MAJOR" = 3 ]; then
	req POST /dags/cwld_smoke/dagRuns '{"dag_run_id":"r0","conf":{}}'
	expect "create without logical_date is refused" 422
	req PATCH /dags/cwld_smoke/dagRuns/r1/taskInstances/a '{"dry_run":false,"new_state":"success"}'
	expect "dry_run is refused" 422
else
	req PATCH /dags/cwld_smoke/dagRuns/r1/taskInstances/a '{"new_state":"success"}'
	expect "PATCH without dry_run answers" 200
	check_states "... but changes nothing (dry_run defaults to true)" r1 "run=queued a=None b=None"
fi
req PATCH /dags/cwld_smoke/dagRuns/r1/taskInstances/a '{"new_state":"running"}'
expect "running cannot be set" "$([ "$MAJOR" = 3 ] && echo 422 || echo 400)"
set_ti r1 a success "cwld: a done"
set_ti r1 b failed "cwld: b exit 1"
check_states "run stays queued on the paused DAG" r1 "run=queued a=success b=failed"
set_run r1 failed
check_states "run 1 final" r1 "run=failed a=success b=failed"
req GET /dags/cwld_smoke/dagRuns/r1/taskInstances/b
[[ $BODY == *'cwld: b exit 1'* ]] && ok "note read back" || not_ok "note not read back: ${BODY:0:300}"

# Run 2: a success, b skipped, run success.
create_run r2 2
set_ti r2 a success "cwld: a done"
set_ti r2 b skipped "cwld: b skipped"
set_run r2 success
if [ "$MAJOR" = 3 ]; then
	check_states "run success keeps b skipped (Airflow 3)" r2 "run=success a=success b=skipped"
else
	check_states "run success turns b into success (Airflow 2)" r2 "run=success a=success b=success"
	set_ti r2 b skipped "cwld: b skipped"
	check_states "b skipped again, run stays success" r2 "run=success a=success b=skipped"
fi

# Run 3: a failed, b failed, run failed, then a late success on a.
create_run r3 3
set_ti r3 a failed "x"
set_ti r3 b failed "x"
set_run r3 failed
set_ti r3 a success "late"
check_states "a task set after the run's end clears failed tasks below and reopens the run" r3 "run=queued a=success b=None"

# Run 4: nothing set, run success.
create_run r4 4
set_run r4 success
if [ "$MAJOR" = 3 ]; then
	check_states "run success skips unset tasks (Airflow 3)" r4 "run=success a=skipped b=skipped"
else
	check_states "run success marks unset tasks success (Airflow 2)" r4 "run=success a=success b=success"
fi

"$HERE/airflow.sh" stop "$AF_HOME"
echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
