#!/bin/bash
# cwld serve mirrors its runs into a real Apache Airflow (3.x, then 2.10),
# installed (cached) and started by airflow/airflow.sh: the DAG file appears
# paused and imports cleanly, each run becomes a DAG run whose task states
# and final state match cwld's steps; with Airflow stopped runs finish at
# full speed and the mirror catches up once it is back, and rows a stopped
# or killed daemon left are sent by the next one, nothing twice.
# CWLD_AIRFLOW_MAJORS picks the versions (default "3 2"). Skips a version
# only when its install fails, saying why.
. "$(dirname "$0")/lib.sh"
AF=$CWLD_SOURCE_DIR/tests/integration/airflow/airflow.sh
D=$CWLD_SOURCE_DIR/tests/integration/data
export CWLD_AIRFLOW_USER=cwld CWLD_AIRFLOW_PASSWORD=cwld-test-pw
DPID=
AF_HOME=
cleanup() {
	if [ "$FAILS" -gt 0 ] && [ -f "$TMP/serve.err" ]; then
		echo "# the daemon's log, last lines:"
		tail -n 40 "$TMP/serve.err" | sed 's/^/#   /'
	fi
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	[ -n "$AF_HOME" ] && bash "$AF" stop "$AF_HOME" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# A port whose successor is free too (airflow.sh serves task logs there).
free_port() {
	python3 - <<-'EOF'
		import socket
		while True:
		    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
		    b = socket.socket()
		    try:
		        b.bind(("127.0.0.1", p + 1))
		    except OSError:
		        continue
		    finally:
		        b.close()
		    a.close()
		    if p < 65000:
		        print(p); break
	EOF
}

# start_daemon STATE: a daemon mirroring into the Airflow on AF_PORT; URL, DPID
start_daemon() {
	serve_start -v --state-dir "$1" --root "$D" --airflow-url "http://127.0.0.1:$AF_PORT" \
		--airflow-dags-folder "$AF_HOME/dags"
}
stop_daemon() { serve_stop; DPID=; }

jget() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else v))' "$1"; }
submit() { curl -s -X POST "$URL/api/v1/runs" -H 'Content-Type: application/json' -d "$1" | jget id; }
# wait_state RUN STATE: the cwld run ends in STATE (60 s)
wait_state() {
	local st
	for _ in $(seq 1 600); do
		st=$(curl -s "$URL/api/v1/runs/$1" | jget state)
		case $st in success | failed | cancelled) [ "$st" = "$2" ]; return ;; esac
		sleep 0.1
	done
	echo "run $1 stayed '$st'"
	return 1
}
# cwld's own view: "step=state ..." of a run's top-level steps (a tool's one
# step is named after the DAG's only task, given as $2)
cwld_steps() {
	curl -s "$URL/api/v1/runs/$1" | python3 -c 'import json,sys
r = json.load(sys.stdin)
print(" ".join(sorted("%s=%s" % (sys.argv[1] if s["name"] == "main" else s["name"], s["state"]) for s in r["steps"])))' "${2:-}"
}

# afq COMMAND ARGS: Airflow's REST API, read with the test user
afq() {
	python3 - "$AF_MAJOR" "$AF_PORT" "$@" <<-'EOF'
		import base64, json, sys, time, urllib.error, urllib.request
		major, port, cmd, *args = sys.argv[1:]
		B = "http://127.0.0.1:%s" % port
		API = B + ("/api/v2" if major == "3" else "/api/v1")
		if major == "3":
		    rq = urllib.request.Request(B + "/auth/token", method="POST",
		        data=json.dumps({"username": "cwld", "password": "cwld-test-pw"}).encode(),
		        headers={"Content-Type": "application/json"})
		    H = {"Authorization": "Bearer " + json.load(urllib.request.urlopen(rq, timeout=20))["access_token"]}
		else:
		    H = {"Authorization": "Basic " + base64.b64encode(b"cwld:cwld-test-pw").decode()}
		def get(path):
		    try:
		        with urllib.request.urlopen(urllib.request.Request(API + path, headers=H), timeout=20) as r:
		            return r.status, json.load(r)
		    except urllib.error.HTTPError as e:
		        return e.code, None
		def wait(pred, secs):
		    t = time.time() + float(secs)
		    while True:
		        v = pred()
		        if v or time.time() > t:
		            return v
		        time.sleep(0.5)
		if cmd == "dag":            # dag ID: its is_paused once parsed (60 s)
		    c, b = wait(lambda: (lambda r: r if r[0] == 200 else None)(get("/dags/" + args[0])), 60) or (404, None)
		    print(b["is_paused"] if b else "missing")
		elif cmd == "import-errors":  # file names Airflow could not import
		    c, b = get("/importErrors")
		    print(" ".join(sorted(e["filename"].rsplit("/", 1)[-1] for e in b["import_errors"])))
		elif cmd == "run-state":    # dag RUN [WANT SECS]: its state (waits for WANT)
		    st = lambda: (lambda r: r[1]["state"] if r[0] == 200 else "absent")(get("/dags/%s/dagRuns/%s" % (args[0], args[1])))
		    if len(args) > 2:
		        wait(lambda: st() == args[2], args[3])
		    print(st())
		elif cmd == "conf":
		    print(json.dumps(get("/dags/%s/dagRuns/%s" % (args[0], args[1]))[1]["conf"], sort_keys=True))
		elif cmd == "tasks":        # dag RUN: "task=state ..."
		    c, b = get("/dags/%s/dagRuns/%s/taskInstances" % (args[0], args[1]))
		    print(" ".join(sorted("%s=%s" % (t["task_id"], t["state"]) for t in b["task_instances"])))
		elif cmd == "note":         # dag RUN TASK
		    c, b = get("/dags/%s/dagRuns/%s/taskInstances/%s" % tuple(args))
		    print(b.get("note") or "")
		elif cmd == "runs":         # dag: its run ids
		    c, b = get("/dags/%s/dagRuns?limit=100" % args[0])
		    print(" ".join(sorted(r["dag_run_id"] for r in b["dag_runs"])))
	EOF
}
# outbox SQL: the daemon's outbox, read from its database
outbox() { sql "$S/cwld.db" "$1"; }

suite() {
	AF_MAJOR=$1
	AF_PORT=$(free_port)
	AF_HOME=$TMP/airflow$AF_MAJOR
	S=$TMP/state$AF_MAJOR
	local t0 run fail run2 run3 dur n
	echo "# Airflow $AF_MAJOR on port $AF_PORT"
	t0=$SECONDS
	if ! bash "$AF" start "$AF_MAJOR" "$AF_HOME" "$AF_PORT"; then
		not_ok "Airflow $AF_MAJOR starts"
		return
	fi
	echo "# Airflow $AF_MAJOR started in $((SECONDS - t0)) s"
	start_daemon "$S" || { not_ok "daemon starts"; return; }

	# a diamond on the host and a tool that fails
	run=$(submit '{"workflow": "diamond-wf.cwl", "inputs": {"text": "x"}, "no_container": true}')
	fail=$(submit '{"workflow": "fail-tool.cwl", "no_container": true}')
	check "the diamond run succeeds in cwld" wait_state "$run" success
	check "the failing run fails in cwld" wait_state "$fail" failed
	check "the DAG file is written" test -f "$AF_HOME/dags/cwld_diamond-wf.py"
	check "the DAG appears in Airflow, paused" test "$(afq dag cwld_diamond-wf)" = True
	check "the failing tool's DAG appears too" test "$(afq dag cwld_fail-tool)" = True
	check "no import errors" test -z "$(afq import-errors)"
	check "the diamond's DAG run ends success" test "$(afq run-state cwld_diamond-wf "$run" success 60)" = success
	check "its conf names the cwld run" test "$(afq conf cwld_diamond-wf "$run")" = "{\"cwld_run\": \"$run\"}"
	check "task states match cwld's steps: $(afq tasks cwld_diamond-wf "$run")" \
		test "$(afq tasks cwld_diamond-wf "$run")" = "$(cwld_steps "$run")"
	check "the tasks succeeded" test "$(afq tasks cwld_diamond-wf "$run")" = \
		"first=success join=success left=success right=success"
	note=$(afq note cwld_diamond-wf "$run" join)
	check "a task's note names the run, the step and its log" \
		grep -q "cwld run $run, step 'join': success.*Log: $URL/api/v1/runs/$run/steps/join/logs/stderr" <<<"$note"
	check "the failing run's DAG run ends failed" test "$(afq run-state cwld_fail-tool "$fail" failed 60)" = failed
	check "its task is failed, as in cwld: $(afq tasks cwld_fail-tool "$fail")" \
		test "$(afq tasks cwld_fail-tool "$fail")" = "$(cwld_steps "$fail" fail-tool)" -a \
		"$(afq tasks cwld_fail-tool "$fail")" = fail-tool=failed
	check "the failed task's note has the exit code" grep -q "Exit code 3" <<<"$(afq note cwld_fail-tool "$fail" fail-tool)"

	# a scatter, a step skipped by `when`, a subworkflow: one task each
	shapes=$(submit "$(python3 -c 'import json,sys; print(json.dumps({"workflow_text": sys.stdin.read(), "no_container": True}))' <<-'EOF'
		cwlVersion: v1.2
		class: Workflow
		requirements: {ScatterFeatureRequirement: {}, SubworkflowFeatureRequirement: {}}
		inputs:
		  words: {type: "string[]", default: [a, b, c]}
		outputs: []
		steps:
		  each:
		    run:
		      class: CommandLineTool
		      baseCommand: echo
		      inputs: {w: {type: string, inputBinding: {position: 1}}}
		      outputs: {o: {type: stdout}}
		    scatter: w
		    in: {w: words}
		    out: [o]
		  never:
		    run: {class: CommandLineTool, baseCommand: "true", inputs: {f: boolean}, outputs: {}}
		    in: {f: {default: false}}
		    when: $(inputs.f)
		    out: []
		  inner:
		    run:
		      class: Workflow
		      inputs: {xs: "File[]"}
		      outputs: {n: {type: File, outputSource: again/o}}
		      steps:
		        count:
		          run:
		            class: CommandLineTool
		            baseCommand: cat
		            inputs: {xs: {type: "File[]", inputBinding: {position: 1}}}
		            outputs: {o: {type: stdout}}
		          in: {xs: xs}
		          out: [o]
		        again:
		          run:
		            class: CommandLineTool
		            baseCommand: [wc, -l]
		            inputs: {f: {type: File, inputBinding: {position: 1}}}
		            outputs: {o: {type: stdout}}
		          in: {f: count/o}
		          out: [o]
		    in: {xs: each/o}
		    out: [n]
		  last:
		    run:
		      class: CommandLineTool
		      baseCommand: cat
		      inputs: {f: {type: File, inputBinding: {position: 1}}}
		      outputs: {}
		    in: {f: inner/n}
		    out: []
	EOF
	)")
	check "the run with a scatter, a skip and a subworkflow succeeds" wait_state "$shapes" success
	dag_shapes=$(outbox "SELECT json_extract(body, '$.dag_id') FROM airflow_outbox WHERE run_id = '$shapes' AND op = 'create_run'")
	check "its DAG run ends success" test "$(afq run-state "$dag_shapes" "$shapes" success 60)" = success
	check "one task per top-level step, skipped kept skipped: $(afq tasks "$dag_shapes" "$shapes")" \
		test "$(afq tasks "$dag_shapes" "$shapes")" = "each=success inner=success last=success never=skipped"
	check "the scatter's note counts its invocations" \
		grep -q "3 invocations (3 success)" <<<"$(afq note "$dag_shapes" "$shapes" each)"

	# Airflow down: the run goes on at full speed, the mirror waits
	bash "$AF" stop "$AF_HOME" >/dev/null 2>&1
	t0=$(date +%s%N)
	run2=$(submit '{"workflow": "diamond-wf.cwl", "inputs": {"text": "y"}, "no_container": true}')
	check "with Airflow down a run still succeeds" wait_state "$run2" success
	dur=$((($(date +%s%N) - t0) / 1000000))
	check "and finishes at full speed (${dur} ms)" test "$dur" -lt 10000
	n=$(outbox "SELECT count(*) FROM airflow_outbox WHERE run_id = '$run2' AND outcome IS NULL")
	check "its mirror waits in the outbox ($n calls)" test "$n" -ge 6
	bash "$AF" start "$AF_MAJOR" "$AF_HOME" "$AF_PORT" >/dev/null 2>&1 || { not_ok "Airflow restarts"; return; }
	check "Airflow back: the mirror catches up (run success)" \
		test "$(afq run-state cwld_diamond-wf "$run2" success 90)" = success
	check "its tasks are right: $(afq tasks cwld_diamond-wf "$run2")" \
		test "$(afq tasks cwld_diamond-wf "$run2")" = "first=success join=success left=success right=success"

	# Airflow down and the daemon stopped with the mirror queued; then a
	# daemon killed in the middle of a run: the next daemon sends it all
	bash "$AF" stop "$AF_HOME" >/dev/null 2>&1
	run3=$(submit '{"workflow": "diamond-wf.cwl", "inputs": {"text": "z"}, "no_container": true}')
	check "the third run succeeds without Airflow" wait_state "$run3" success
	stop_daemon
	start_daemon "$S" || { not_ok "daemon restarts"; return; }
	wf='{"workflow_text": "cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps:\n  quick:\n    run: {class: CommandLineTool, baseCommand: [\"true\"], inputs: [], outputs: []}\n    in: []\n    out: []\n  slow:\n    run: {class: CommandLineTool, baseCommand: [sleep, \"8\"], inputs: [], outputs: []}\n    in: []\n    out: []\n", "no_container": true}'
	run4=$(submit "$wf")
	for _ in $(seq 1 100); do
		[ "$(curl -s "$URL/api/v1/runs/$run4" | python3 -c 'import json,sys; print(any(s["name"] == "quick" and s["state"] == "success" for s in json.load(sys.stdin)["steps"]))')" = True ] && break
		sleep 0.1
	done
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null || true
	DPID=
	bash "$AF" start "$AF_MAJOR" "$AF_HOME" "$AF_PORT" >/dev/null 2>&1 || { not_ok "Airflow restarts"; return; }
	start_daemon "$S" || { not_ok "daemon starts again"; return; }
	check "rows a stopped daemon queued are sent by the next" \
		test "$(afq run-state cwld_diamond-wf "$run3" success 90)" = success
	check "with its tasks: $(afq tasks cwld_diamond-wf "$run3")" \
		test "$(afq tasks cwld_diamond-wf "$run3")" = "first=success join=success left=success right=success"
	dag4=$(outbox "SELECT json_extract(body, '$.dag_id') FROM airflow_outbox WHERE run_id = '$run4' AND op = 'create_run'")
	# the next daemon marks it failed (or resumes it): Airflow follows
	for _ in $(seq 1 300); do
		st4=$(curl -s "$URL/api/v1/runs/$run4" | jget state)
		case $st4 in success | failed) break ;; esac
		sleep 0.1
	done
	check "the killed run's mirror is finished from the store: $st4" \
		test "$(afq run-state "$dag4" "$run4" "$st4" 90)" = "$st4"
	check "its finished step is success: $(afq tasks "$dag4" "$run4")" \
		grep -q "quick=success" <<<"$(afq tasks "$dag4" "$run4")"

	# nothing twice, nothing left
	check "the diamond DAG has exactly the three runs" \
		test "$(afq runs cwld_diamond-wf)" = "$(printf '%s\n' "$run" "$run2" "$run3" | sort | tr '\n' ' ' | sed 's/ $//')"
	n=$(outbox "SELECT count(*) FROM airflow_outbox WHERE outcome IS NULL OR outcome != 'sent'")
	for _ in $(seq 1 60); do
		[ "$n" = 0 ] && break
		sleep 0.5
		n=$(outbox "SELECT count(*) FROM airflow_outbox WHERE outcome IS NULL OR outcome != 'sent'")
	done
	check "every outbox row was sent, none refused" test "$n" = 0
	n=$(outbox "SELECT count(*) FROM airflow_outbox WHERE run_id = '$run2' AND op = 'task'")
	check "one task row per task of a run ($n)" test "$n" = 4
	n=$(outbox "SELECT count(*) FROM (SELECT run_id, op, json_extract(body, '$.task_id') FROM airflow_outbox GROUP BY 1, 2, 3 HAVING count(*) > 1)")
	check "no call queued twice" test "$n" = 0
	stop_daemon
	bash "$AF" stop "$AF_HOME" >/dev/null 2>&1
	AF_HOME=
}

ran=0
for major in ${CWLD_AIRFLOW_MAJORS:-3 2}; do
	if ! out=$(bash "$AF" install "$major" 2>&1); then
		echo "# SKIP Airflow $major: the install failed: $out"
		continue
	fi
	ran=$((ran + 1))
	suite "$major"
done
[ "$ran" -gt 0 ] || echo "# SKIP: no Airflow could be installed"
finish
