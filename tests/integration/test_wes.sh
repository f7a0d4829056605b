#!/bin/bash
# GA4GH WES 1.1 and /openapi.json against a real daemon on 127.0.0.1:0 with a
# fresh state dir, driven by a WES client written from the specification
# (wes_client.py): service-info, runs by path and from attached files, paging,
# cancelling a containerised run (no container left), bad requests answered
# with 4xx JSON errors in both shapes while the daemon keeps answering, the
# bearer token, and a clean SIGTERM with nothing on the daemon's stderr from
# the sanitizers (when the binary has them).
. "$(dirname "$0")/lib.sh"
bash "$CWLD_SOURCE_DIR/scripts/build-images.sh" >/dev/null
D=$CWLD_SOURCE_DIR/tests/integration/data
S=$TMP/state

# A Python with requests: the project's venv (install-deps.sh), else python3.
PY=
for p in "${CWLD_CACHE_DIR:-$HOME/.cache/cwld}/venv/bin/python" python3; do
	if "$p" -c 'import requests' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "no python with requests (run scripts/install-deps.sh)"; exit 1; }

start_daemon() { serve_start --state-dir "$S" --root "$D" "$@"; }
stop_daemon() { serve_stop; }
no_sanitizer_reports() {
	if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP/serve.err"; then
		sed -n '1,80p' "$TMP/serve.err"
		return 1
	fi
}
trap 'kill -9 $DPID 2>/dev/null || true; rm -rf "$TMP"' EXIT

wes() { "$PY" "$CWLD_SOURCE_DIR/tests/integration/wes_client.py" --url "$URL" "$@"; }
jget() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else v))' "$1"; }
# is_wes_error WANT: the answer's status and an error in both shapes
is_wes_error() {
	python3 -c 'import json,sys
v = json.load(sys.stdin); b = v["body"]; want = int(sys.argv[1])
assert v["status"] == want, v
assert isinstance(b, dict) and set(b) == {"error", "detail", "msg", "status_code"}, b
assert b["status_code"] == want and b["msg"] == b["detail"] and b["detail"], b' "$1"
}
containers() { # containers() LABEL [running]: how many containers carry cwld.run=LABEL
	local f="{\"label\":[\"cwld.run=$1\"]${2:+,\"status\":[\"running\"]}}"
	curl -s --unix-socket /var/run/docker.sock -G http://d/containers/json --data-urlencode all=1 \
		--data-urlencode "filters=$f" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

start_daemon
check "daemon prints its address" grep -q '^http://127.0.0.1:[0-9]*$' <<<"$URL"

# ---- /openapi.json: JSON, every endpoint of docs/api.md and WES, valid ------
curl -s -o "$TMP/openapi.json" -w '%{http_code}' "$URL/openapi.json" >"$TMP/code"
check "GET /openapi.json is 200" test "$(cat "$TMP/code")" = 200
cat >"$TMP/check_openapi.py" <<'EOF'
import json, re, sys
doc = json.load(open(sys.argv[1]))
api = open(sys.argv[2]).read()
def shape(p):  # /runs/{id}/logs/{stdout|stderr} and /runs/{run_id} alike
    return re.sub(r"\{[^}]*\}", "{}", p)
have = {(m.upper(), shape(p)) for p, ops in doc["paths"].items() for m in ops}
want = set()
# the endpoint headings of docs/api.md: ### `GET /path` and `GET /other`
for line in api.splitlines():
    if line.startswith("### "):
        want |= {(m, shape(p)) for m, p in re.findall(r"`(GET|POST|PUT|DELETE) (/[^`]*)`", line)}
# and WES's, listed relatively in its section
wes = api.split("## GA4GH WES", 1)[1]
want |= {(m, shape("/ga4gh/wes/v1/" + p)) for m, p in re.findall(r"`(GET|POST) ([a-z][^`]*)`", wes)}
assert len(want) >= 15, want
missing = want - have
assert not missing, "missing from /openapi.json: %s" % sorted(missing)
assert doc["openapi"].startswith("3.0"), doc["openapi"]
for name in ("Run", "Error", "WesError", "WesRunLog"):
    assert name in doc["components"]["schemas"], name
print(len(want), "endpoints")
EOF
check "/openapi.json has every endpoint of docs/api.md and WES" python3 "$TMP/check_openapi.py" "$TMP/openapi.json" "$CWLD_SOURCE_DIR/docs/api.md"
VPY=
for p in "$PY" python3; do
	if "$p" -c 'import openapi_spec_validator' 2>/dev/null; then VPY=$p; break; fi
done
if [ -n "$VPY" ]; then
	check "openapi-spec-validator accepts /openapi.json" "$VPY" -c 'import json,sys
from openapi_spec_validator import validate
validate(json.load(open(sys.argv[1])))' "$TMP/openapi.json"
else
	echo "# openapi-spec-validator not installed: only the structural checks ran"
fi

# ---- service-info -------------------------------------------------------------
si=$(wes service-info)
version=$(curl -s "$URL/healthz" | jget version)
check "service-info is 200" test "$(jget status <<<"$si")" = 200
check "it runs CWL v1.0, v1.1 and v1.2" test "$(jget body.workflow_type_versions.CWL.workflow_type_version <<<"$si")" = '["v1.0", "v1.1", "v1.2"]'
check "it speaks WES 1.1.0" test "$(jget body.supported_wes_versions <<<"$si")" = '["1.1.0"]'
check "it reads files" test "$(jget body.supported_filesystem_protocols <<<"$si")" = '["file"]'
check "its engine is cwld at the daemon's version" test "$(jget body.workflow_engine_versions.cwld <<<"$si")" = "$version" -a -n "$version"
check "it counts runs by WES state" test "$(jget body.system_state_counts.COMPLETE <<<"$si")" = 0
check "it has auth_instructions_url and tags" test -n "$(jget body.auth_instructions_url <<<"$si")" -a -n "$(jget body.tags <<<"$si")"

# ---- a run by path under the root ---------------------------------------------
r=$(wes submit --workflow-url echo-tool.cwl --params '{"message": "wes"}' \
	--engine-params '{"no_container": true}' --tags '{"team": "wes"}')
run=$(jget body.run_id <<<"$r")
check "RunWorkflow by path is 200 with a run_id" test "$(jget status <<<"$r")" = 200 -a -n "$run"
check "the run gets to COMPLETE" test "$(wes wait "$run" COMPLETE EXECUTOR_ERROR CANCELED | jget body.state)" = COMPLETE
log=$(wes get "$run")
check "GetRunLog is 200" test "$(jget status <<<"$log")" = 200
check "RunLog says COMPLETE" test "$(jget body.state <<<"$log")" = COMPLETE
check "RunLog gives back workflow_params" test "$(jget body.request.workflow_params <<<"$log")" = '{"message": "wes"}'
check "RunLog gives back workflow_url, type and version" test "$(jget body.request.workflow_url <<<"$log") $(jget body.request.workflow_type <<<"$log") $(jget body.request.workflow_type_version <<<"$log")" = "echo-tool.cwl CWL v1.2"
check "RunLog gives back tags" test "$(jget body.request.tags.team <<<"$log")" = wes
check "RunLog outputs are in STATE/outputs/<run>" test "$(jget body.outputs.out.location <<<"$log")" = "file://$S/outputs/$run/said.txt"
check "the output says wes" test "$(cat "$S/outputs/$run/said.txt")" = wes
check "run_log has times and exit code 0" test -n "$(jget body.run_log.start_time <<<"$log")" -a -n "$(jget body.run_log.end_time <<<"$log")" -a "$(jget body.run_log.exit_code <<<"$log")" = 0
check "one task log, named main" test "$(jget body.task_logs <<<"$log" | python3 -c 'import json,sys; print([t["name"] for t in json.load(sys.stdin)])')" = "['main']"
check "the task ran echo wes with exit code 0" test "$(jget body.task_logs.0.cmd <<<"$log") $(jget body.task_logs.0.exit_code <<<"$log")" = '["echo", "wes"] 0'
check "the task has start and end times" test -n "$(jget body.task_logs.0.start_time <<<"$log")" -a -n "$(jget body.task_logs.0.end_time <<<"$log")"
stderr_url=$(jget body.task_logs.0.stderr <<<"$log")
check "the task's stderr is a URL of /api/v1's logs" test "$stderr_url" = "$URL/api/v1/runs/$run/steps/main/logs/stderr"
check "that URL answers 200" test "$(curl -s -o /dev/null -w '%{http_code}' "$stderr_url")" = 200
check "GetRunStatus is {run_id, state}" test "$(wes status "$run" | jget body)" = "{\"run_id\": \"$run\", \"state\": \"COMPLETE\"}"
check "ListTasks pages the task logs" test "$(wes tasks "$run" | jget body.task_logs.0.name)" = main
check "the run is counted COMPLETE" test "$(wes service-info | jget body.system_state_counts.COMPLETE)" = 1
check "the same run through /api/v1 carries the tags as labels" test "$(curl -s "$URL/api/v1/runs/$run" | jget labels.team)" = wes
# a run submitted through /api/v1 is seen through WES too
api_run=$(curl -s "$URL/api/v1/runs" -d '{"workflow": "echo-tool.cwl", "inputs": {"message": "via api"}, "no_container": true}' | jget id)
check "a run submitted through /api/v1 is COMPLETE through WES" test "$(wes wait "$api_run" COMPLETE EXECUTOR_ERROR | jget body.state)" = COMPLETE
log=$(wes get "$api_run")
check "its RunLog request holds its inputs and workflow" test "$(jget body.request.workflow_params.message <<<"$log") $(jget body.request.workflow_type <<<"$log") $(jget body.request.workflow_url <<<"$log")" = "via api CWL $D/echo-tool.cwl"

# ---- a run from attached files: a workflow, its tool, its input ---------------
mkdir -p "$TMP/att/wf" "$TMP/att/tools" "$TMP/att/data"
cat >"$TMP/att/wf/main.cwl" <<'EOF'
cwlVersion: v1.2
class: Workflow
inputs:
  files: File[]
outputs:
  out: {type: File, outputSource: cat/out}
steps:
  cat:
    run: ../tools/cat.cwl
    in: {files: files}
    out: [out]
EOF
cp "$D/cat-tool.cwl" "$TMP/att/tools/cat.cwl"
printf 'attached input\n' >"$TMP/att/data/in.txt"
ndocs() { find "$S/documents" -maxdepth 1 -name 'wes-*' 2>/dev/null | wc -l; }
r=$(wes submit --workflow-url wf/main.cwl --params '{"files": [{"class": "File", "location": "data/in.txt"}]}' \
	--engine-params '{"no_container": "true", "parallel": "2"}' \
	--attach "wf/main.cwl=$TMP/att/wf/main.cwl" --attach "tools/cat.cwl=$TMP/att/tools/cat.cwl" \
	--attach "./data/in.txt=$TMP/att/data/in.txt")
run2=$(jget body.run_id <<<"$r")
check "RunWorkflow with attachments is 200" test "$(jget status <<<"$r")" = 200 -a -n "$run2"
check "the attached workflow gets to COMPLETE" test "$(wes wait "$run2" COMPLETE EXECUTOR_ERROR CANCELED | jget body.state)" = COMPLETE
log=$(wes get "$run2")
check "its output holds the attached input" test "$(cat "$(jget body.outputs.out.path <<<"$log")")" = "attached input"
att=$(find "$S/documents" -maxdepth 1 -name 'wes-*')
check "attachments are kept under STATE/documents/wes-*" test -f "$att/data/in.txt" -a -f "$att/wf/main.cwl" -a -f "$att/tools/cat.cwl"
check "its task log names the step" test "$(jget body.task_logs.0.name <<<"$log")" = cat
check "its workflow_url is the attachment's name" test "$(jget body.request.workflow_url <<<"$log")" = wf/main.cwl

# ---- paging ------------------------------------------------------------------
for i in 1 2 3; do
	wes submit --workflow-url echo-tool.cwl --params "{\"message\": \"p$i\"}" --engine-params '{"no_container": true}' >/dev/null
done
all=$(wes list-all --page-size 2)
check "ListRuns walks in pages of 2 to the empty token" test "$(jget status <<<"$all")" = 200
check "every run once, in 3 pages" test "$(jget body <<<"$all" | python3 -c 'import json,sys; v=json.load(sys.stdin); i=v["ids"]; print(len(i), len(set(i)), v["pages"])')" = "6 6 3"
check "newest first: the first run is last" test "$(jget body.ids.5 <<<"$all")" = "$run"
check "a page of 1 has a next_page_token" test -n "$(wes list --page-size 1 | jget body.next_page_token)"

# ---- cancel a containerised run ----------------------------------------------
r=$(wes submit --workflow-url sleepers.cwl --version v1.2)
run3=$(jget body.run_id <<<"$r")
check "the sleepers run is accepted" test -n "$run3"
for _ in $(seq 1 300); do
	n=$(containers "$run3" running)
	[ "$n" -ge 2 ] && break
	sleep 0.1
done
check "both sleepers run in containers" test "$n" -ge 2
check "its status is RUNNING" test "$(wes status "$run3" | jget body.state)" = RUNNING
r=$(wes cancel "$run3")
check "CancelRun is 200 with the run_id" test "$(jget status <<<"$r") $(jget body.run_id <<<"$r")" = "200 $run3"
check "the run ends CANCELED" test "$(wes wait "$run3" CANCELED COMPLETE EXECUTOR_ERROR | jget body.state)" = CANCELED
check "no container of the cancelled run is left" test "$(containers "$run3")" = 0
check "cancelling it again is a 409" is_wes_error 409 <<<"$(wes cancel "$run3")"

# ---- bad requests --------------------------------------------------------------
bad() { # DESCRIPTION WANT wes-client-args...
	local d=$1 want=$2
	shift 2
	check "$d: $want with {error, detail, msg, status_code}" is_wes_error "$want" <<<"$(wes "$@")"
}
before=$(ndocs)
curl -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' -d '{"workflow_url": "echo-tool.cwl"}' "$URL/ga4gh/wes/v1/runs" >"$TMP/code"
check "not multipart: 400 with a JSON error" is_wes_error 400 <<<"{\"status\": $(cat "$TMP/code"), \"body\": $(cat "$TMP/body")}"
bad "workflow_params not JSON" 400 submit --workflow-url echo-tool.cwl --params '{"message": '
bad "workflow_params not an object" 400 submit --workflow-url echo-tool.cwl --params '["wes"]'
bad "wrong workflow_type" 400 submit --workflow-url echo-tool.cwl --type WDL
bad "unknown workflow_type_version" 400 submit --workflow-url echo-tool.cwl --version v2.0
bad "no workflow_type_version" 400 submit --workflow-url echo-tool.cwl --omit workflow_type_version
bad "no workflow_url" 400 submit --workflow-url echo-tool.cwl --omit workflow_url
bad "unknown engine parameter" 400 submit --workflow-url echo-tool.cwl --engine-params '{"threads": 4}'
bad "engine parameter of the wrong type" 400 submit --workflow-url echo-tool.cwl --engine-params '{"no_container": "maybe"}'
bad "tags not strings" 400 submit --workflow-url echo-tool.cwl --tags '{"n": 1}'
bad "tag key with a space" 400 submit --workflow-url echo-tool.cwl --tags '{"a b": "c"}'
bad "unknown form field" 400 submit --workflow-url echo-tool.cwl --field 'workflow_parms={}'
bad "a field given twice" 400 submit --workflow-url echo-tool.cwl --field 'workflow_type=CWL'
bad "attachment with ../" 400 submit --workflow-url wf/main.cwl --attach "wf/main.cwl=$TMP/att/wf/main.cwl" --attach "../../evil.cwl=$TMP/att/wf/main.cwl"
bad "attachment with an absolute name" 400 submit --workflow-url wf/main.cwl --attach "/etc/evil.cwl=$TMP/att/wf/main.cwl"
bad "attachments that collide" 400 submit --workflow-url wf/main.cwl --attach "wf=$TMP/att/wf/main.cwl" --attach "wf/main.cwl=$TMP/att/wf/main.cwl"
check "refused attachments leave no directory behind" test "$(ndocs)" = "$before"
check "nothing was written outside the attachment directory" test ! -e "$S/evil.cwl" -a ! -e "$TMP/evil.cwl" -a ! -e /etc/evil.cwl
bad "workflow_url outside the roots with ../" 403 submit --workflow-url ../../../etc/passwd
bad "workflow_url absolute outside the roots" 403 submit --workflow-url /etc/passwd
bad "workflow_url naming no attachment nor file" 403 submit --workflow-url nothing.cwl --attach "wf/main.cwl=$TMP/att/wf/main.cwl"
bad "workflow_url over http" 400 submit --workflow-url http://example.com/wf.cwl
bad "input outside the roots" 403 submit --workflow-url cat-tool.cwl --params '{"files": [{"class": "File", "path": "/etc/passwd"}]}' --engine-params '{"no_container": true}'
bad "input escaping the attachments with ../" 403 submit --workflow-url wf/main.cwl --attach "wf/main.cwl=$TMP/att/wf/main.cwl" --attach "tools/cat.cwl=$TMP/att/tools/cat.cwl" --params '{"files": [{"class": "File", "location": "../../../../../../../../../../../../etc/passwd"}]}'
printf 'cwlVersion: v1.2\nclass: CommandLineTool\ninputs: 12\n' >"$TMP/broken.cwl"
bad "invalid attached document" 400 submit --workflow-url broken.cwl --attach "broken.cwl=$TMP/broken.cwl"
bad "wrong input type" 400 submit --workflow-url echo-tool.cwl --params '{"message": 12}'
bad "unknown run" 404 get 0123456789abcdef0123
bad "unknown run's status" 404 status 0123456789abcdef0123
bad "cancelling an unknown run" 404 cancel 0123456789abcdef0123
bad "malformed run id" 404 get ..%2F..%2Fetc
bad "bad page token" 400 list --page-token zzz
bad "bad page size" 400 list --page-size 0
check "refused submissions leave no directory behind" test "$(ndocs)" = "$before"
curl -s -o "$TMP/body" -w '%{http_code}' -X DELETE "$URL/ga4gh/wes/v1/runs" >"$TMP/code"
check "wrong method: 405 with a JSON error" is_wes_error 405 <<<"{\"status\": $(cat "$TMP/code"), \"body\": $(cat "$TMP/body")}"
curl -s -o "$TMP/body" -w '%{http_code}' "$URL/ga4gh/wes/v1/nothing" >"$TMP/code"
check "unknown WES endpoint: 404 with a JSON error" is_wes_error 404 <<<"{\"status\": $(cat "$TMP/code"), \"body\": $(cat "$TMP/body")}"
head -c 9000000 /dev/zero | tr '\0' 'x' >"$TMP/big"
curl -s -o "$TMP/body" -w '%{http_code}' -F workflow_type=CWL -F "workflow_attachment=@$TMP/big;filename=big" "$URL/ga4gh/wes/v1/runs" >"$TMP/code"
check "oversized body: 413 with a JSON error" is_wes_error 413 <<<"{\"status\": $(cat "$TMP/code"), \"body\": $(cat "$TMP/body")}"
check "after all that the daemon still answers" test "$(wes service-info | jget status)" = 200
check "and still runs workflows" test "$(wes wait "$(wes submit --workflow-url echo-tool.cwl --params '{"message": "still"}' --engine-params '{"no_container": true}' | jget body.run_id)" COMPLETE EXECUTOR_ERROR | jget body.state)" = COMPLETE

check "SIGTERM stops the daemon with status 0" stop_daemon
check "the daemon's stderr has no sanitizer report" no_sanitizer_reports

# ---- a token: WES wants it too ------------------------------------------------
start_daemon --token s3cret
check "WES without the token: 401" test "$(wes service-info | jget status)" = 401
check "WES with the token: 200" test "$(wes --token s3cret service-info | jget status)" = 200
check "the runs of the first daemon are still listed" test "$(wes --token s3cret list --page-size 100 | jget body.runs | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 8
check "SIGTERM stops the second daemon" stop_daemon
check "its stderr has no sanitizer report" no_sanitizer_reports
finish
