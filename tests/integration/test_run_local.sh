#!/bin/bash
# cwld run on the host (no DockerRequirement): a tool, a failing tool, a
# diamond workflow; checks the output object, exit codes and SQLite rows.
. "$(dirname "$0")/lib.sh"
D=$CWLD_SOURCE_DIR/tests/integration/data
S=$TMP/state

out=$("$CWLD" run --quiet --state-dir "$S" --outdir "$TMP/o1" "$D/echo-tool.cwl" <(echo 'message: hello world'))
check "tool output names said.txt" grep -q '"location": "file://'"$TMP"'/o1/said.txt"' <<<"$out"
check "tool output checksum is sha1 of 'hello world\\n'" grep -q 'sha1$22596363b3de40b06f981fb85d82312e8c0ed511' <<<"$out"
check "output file holds the text" grep -qx 'hello world' "$TMP/o1/said.txt"
check "run recorded as success" test "$(sql "$S/cwld.db" "select state from runs")" = success
check "step recorded with exit code 0" test "$(sql "$S/cwld.db" "select s.state||':'||a.exit_code from steps s join attempts a on a.step_id=s.id")" = "success:0"

set +e
"$CWLD" run --quiet --state-dir "$S" --outdir "$TMP/o2" "$D/fail-tool.cwl" >"$TMP/fail.out" 2>"$TMP/fail.err"
rc=$?
set -e
check "failing tool exits 1" test "$rc" -eq 1
check "failure names the step and exit code" grep -q "step 'main': command exited with code 3" "$TMP/fail.err"
check "failure shows the tool's stderr" grep -q "something broke" "$TMP/fail.err"
check "failed run keeps its reason in the store" grep -q "exited with code 3" <<<"$(sql "$S/cwld.db" "select error from runs where state='failed'")"
check "failed attempt has exit code 3" test "$(sql "$S/cwld.db" "select a.exit_code from attempts a join steps s on s.id=a.step_id join runs r on r.id=s.run_id where r.state='failed'")" = 3

out=$("$CWLD" run --quiet --parallel 2 --state-dir "$S" --outdir "$TMP/o3" "$D/diamond-wf.cwl" <(echo 'text: diamond'))
check "diamond workflow joins both branches" test "$(cat "$TMP/o3/cat.txt")" = "$(printf 'diamond\ndiamond')"
run=$(sql "$S/cwld.db" "select id from runs order by created_at desc limit 1")
check "diamond run has 4 successful steps" test "$(sql "$S/cwld.db" "select count(*) from steps where run_id='$run' and state='success'")" = 4
check "join ran after left and right" test "$(sql "$S/cwld.db" "select count(*) from steps j, steps l where j.run_id='$run' and l.run_id='$run' and j.name='join' and l.name in ('left','right') and j.started_at >= l.finished_at")" = 2

# --work-dir: the step directories go there (the state dir is created for
# the database alone); with --leave-workdir each step keeps its output
# directory with its logs beside it, and the temporary directories the
# steps shared (.tmp/N, handed from a finished step to the next); every row
# is committed at the end.
"$CWLD" run --quiet --parallel 2 --state-dir "$TMP/s-wd/new" --work-dir "$TMP/wd" --leave-workdir \
	--outdir "$TMP/o4" "$D/diamond-wf.cwl" <(echo 'text: scratch') >/dev/null
run=$(sql "$TMP/s-wd/new/cwld.db" "select id from runs")
check "--work-dir holds the run's step directories" test -d "$TMP/wd/$run/join" -a -f "$TMP/wd/$run/join.stderr.txt" -a -d "$TMP/wd/$run/.tmp/1"
check "steps run one after the other reuse an empty temporary directory" test "$(ls "$TMP/wd/$run/.tmp" | wc -l)" -le 2
check "--work-dir leaves no work dir in the state dir" test ! -e "$TMP/s-wd/new/runs/$run"
check "attempts record their --work-dir directory" test "$(sql "$TMP/s-wd/new/cwld.db" "select workdir from attempts a join steps s on s.id=a.step_id where s.name='join'")" = "$TMP/wd/$run/join"
check "every step and attempt of the run is committed, finished" test "$(sql "$TMP/s-wd/new/cwld.db" "select count(*) from steps s join attempts a on a.step_id=s.id where s.state='success' and a.state='success' and a.finished_at is not null and s.finished_at >= a.finished_at")" = 4
check "the run's final state is committed" test "$(sql "$TMP/s-wd/new/cwld.db" "select state from runs")" = success

set +e
"$CWLD" run --quiet --state-dir "$S" "$D/echo-tool.cwl" <(echo 'message: 12') >/dev/null 2>"$TMP/bad.err"
rc=$?
set -e
check "wrong input type exits 2" test "$rc" -eq 2
check "wrong input type names the input" grep -q "message" "$TMP/bad.err"

# Inputs on the command line after the process, as cwl-runner takes them.
D=$CWLD_SOURCE_DIR/tests/integration/data
"$CWLD" run --quiet --state-dir "$TMP/s-cli" --outdir "$TMP/out-cli" "$D/echo-tool.cwl" --message "from the command line" >/dev/null
check "--message VALUE reaches the tool" test "$(cat "$TMP/out-cli/said.txt")" = "from the command line"
"$CWLD" run "$D/echo-tool.cwl" --help >"$TMP/inputs-help.txt"
check "PROCESS --help lists its inputs" grep -q -- "--message string" "$TMP/inputs-help.txt"
set +e
"$CWLD" run --quiet --state-dir "$TMP/s-cli" "$D/echo-tool.cwl" --mesage hi >/dev/null 2>"$TMP/cli.err"
rc=$?
set -e
check "a misspelt input exits 2 ($rc) and names the real one" test "$rc" -eq 2 -a -n "$(grep -- "--message" "$TMP/cli.err")"
finish
