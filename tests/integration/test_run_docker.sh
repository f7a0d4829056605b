#!/bin/bash
# The example workflow on the real Docker engine: outputs are right, no
# docker client program is executed (strace), no container is left, and
# SQLite holds each step with its exit code and container id.
. "$(dirname "$0")/lib.sh"
bash "$CWLD_SOURCE_DIR/scripts/build-images.sh" >/dev/null
EX=$CWLD_SOURCE_DIR/examples/wordcount
S=$TMP/state

before=$(curl -s --unix-socket /var/run/docker.sock 'http://d/containers/json?all=1&filters=%7B%22label%22%3A%5B%22cwld.run%22%5D%7D' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
# LeakSanitizer cannot run under ptrace: leaks are checked by the second run.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=execve -o "$TMP/strace.log" \
	"$CWLD" run --quiet --state-dir "$S" --outdir "$TMP/out" "$EX/wf.cwl" "$EX/job.yml" >"$TMP/out.json"
check "output object is JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/out.json"
check "no docker client program executed" bash -c "! grep -E 'execve\\(\"[^\"]*docker[^\"]*\"' '$TMP/strace.log'"
check "strace saw cwld itself" grep -q 'execve(' "$TMP/strace.log"
after=$(curl -s --unix-socket /var/run/docker.sock 'http://d/containers/json?all=1&filters=%7B%22label%22%3A%5B%22cwld.run%22%5D%7D' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
check "no container left behind ($before before, $after after)" test "$after" -le "$before"
run=$(sql "$S/cwld.db" "select id from runs")
check "run succeeded" test "$(sql "$S/cwld.db" "select state from runs where id='$run'")" = success
nsteps=$(sql "$S/cwld.db" "select count(*) from steps where run_id='$run'")
check "every step recorded ($nsteps)" test "$nsteps" -ge 3
check "every step succeeded with exit 0 in a container" test \
	"$(sql "$S/cwld.db" "select count(*) from steps s join attempts a on a.step_id=s.id where s.run_id='$run' and s.state='success' and a.exit_code=0 and length(a.container_id)=64")" = "$nsteps"
check "provenance rows carry checksums" test \
	"$(sql "$S/cwld.db" "select count(*) from output_files where checksum like 'sha1\$%'")" -ge "$nsteps"

# An image that is not there and cannot be pulled (no registry): a clear
# error naming it, exit 1, and the step recorded as failed.
set +e
"$CWLD" run --quiet --state-dir "$S" --outdir "$TMP/out3" "$CWLD_SOURCE_DIR/tests/integration/data/missing-image-tool.cwl" >/dev/null 2>"$TMP/missing.err"
rc=$?
set -e
check "missing image exits 1" test "$rc" -eq 1
check "missing image is named in the error" grep -q "cwld-test/no-such-image:never" "$TMP/missing.err"
check "missing image run recorded as failed" test "$(sql "$S/cwld.db" "select count(*) from runs where state='failed'")" = 1

# An engine that cannot be reached: exit 3 and a message naming where.
set +e
DOCKER_HOST=unix://$TMP/no-engine.sock "$CWLD" run --quiet --state-dir "$S" --outdir "$TMP/out4" "$EX/wf.cwl" "$EX/job.yml" >/dev/null 2>"$TMP/unreach.err"
rc=$?
set -e
check "unreachable engine exits 3" test "$rc" -eq 3
check "unreachable engine is named" grep -q "docker engine unreachable at 'unix://$TMP/no-engine.sock'" "$TMP/unreach.err"

# The same run without strace (under the ASan build this checks leaks), in
# parallel mode 1: the result must not depend on parallelism.
"$CWLD" run --quiet --parallel 1 --state-dir "$S" --outdir "$TMP/out2" "$EX/wf.cwl" "$EX/job.yml" >"$TMP/out2.json"
check "second run succeeded with the same report" cmp -s "$TMP/out/report.txt" "$TMP/out2/report.txt"
check "report counts the words" grep -q "total: 173 words" "$TMP/out2/report.txt"

D=$CWLD_SOURCE_DIR/tests/integration/data
# stdin fed through the attached stream (5 MB of random bytes, no shell
# wrapper added by cwld), stdout/stderr demultiplexed into their files.
head -c 5000000 /dev/urandom >"$TMP/in.bin"
printf '{"data": {"class": "File", "path": "%s"}}' "$TMP/in.bin" >"$TMP/stdio.json"
"$CWLD" run --quiet --state-dir "$S" --outdir "$TMP/out5" "$D/stdio-tool.cwl" "$TMP/stdio.json" >/dev/null
check "stdin came back byte for byte on stdout" cmp -s "$TMP/in.bin" "$TMP/out5/copy.bin"
check "stderr in its own file" test "$(cat "$TMP/out5/err.txt")" = done
check "outputs belong to the caller, not root" test "$(stat -c %u:%g "$TMP/out5/copy.bin")" = "$(id -u):$(id -g)"

# 1 GiB on stdout is streamed to the file, never held in memory.
/usr/bin/time -f %M -o "$TMP/rss" "$CWLD" run --quiet --state-dir "$S" --outdir "$TMP/out6" "$D/big-stdout-tool.cwl" >/dev/null
check "1 GiB of stdout arrived whole" test "$(stat -c %s "$TMP/out6/big.bin")" = 1073741824
rss=$(cat "$TMP/rss")
# under ASan the shadow memory adds its own; the point is "not 1 GiB"
check "peak RSS while streaming 1 GiB stays small (${rss} KiB)" test "$rss" -lt 200000
rm -f "$TMP/out6/big.bin"

# ResourceRequirement becomes the container's limits (ramMax 64 MiB,
# coresMax 1.5).
"$CWLD" run --quiet --state-dir "$S" --outdir "$TMP/out7" "$D/limits-tool.cwl" >/dev/null
check "memory limit is ramMax ($(head -1 "$TMP/out7/limits.txt"))" test "$(head -1 "$TMP/out7/limits.txt")" = 67108864
check "CPU quota is coresMax ($(sed -n 2p "$TMP/out7/limits.txt"))" test "$(sed -n 2p "$TMP/out7/limits.txt" | awk '{print $1 / $2}')" = 1.5

# ToolTimeLimit stops the container and fails the step with the reason.
set +e
t0=$(date +%s)
"$CWLD" run --quiet --state-dir "$S" --outdir "$TMP/out8" "$D/timelimit-tool.cwl" >/dev/null 2>"$TMP/tl.err"
rc=$?
set -e
check "time limit: exit 1 ($rc) after about 2 s ($(($(date +%s) - t0)) s)" test "$rc" -eq 1 -a "$(($(date +%s) - t0))" -lt 15
check "time limit: the reason is given" grep -q "time limit of 2 s exceeded" "$TMP/tl.err"
finish
