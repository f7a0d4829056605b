#!/bin/bash
# Work reuse (cwld run --cache-dir) on the host: the same invocation again
# reuses the cached result (same content, attempt says so); a changed input
# content, input value, environment, argument, outputs section, WorkReuse
# enableReuse false, and a failed run all run the tool again.
. "$(dirname "$0")/lib.sh"
D=$CWLD_SOURCE_DIR/tests/integration/data/cache
S=$TMP/state
C=$TMP/cache
T=$D/stamp-tool.cwl
n=0

reused() { sql "$S/cwld.db" "select count(*) from attempts where message like 'reused from cache %'"; }
# run TOOL JOBYAML: runs into a fresh outdir $TMP/o$n; the stamp in $stamp
run() {
	n=$((n + 1))
	"$CWLD" run --quiet --state-dir "$S" --cache-dir "$C" --outdir "$TMP/o$n" "$1" "$2" >"$TMP/out$n.json"
	stamp=$(cat "$TMP/o$n/stamp.txt")
}
differ() { ! cmp -s "$1" "$2"; }
# expect_miss DESCRIPTION TOOL JOB: the tool ran (new stamp, no new reuse)
expect_miss() {
	local before after
	before=$(reused)
	run "$2" "$3"
	after=$(reused)
	check "$1: runs again" test "$before" = "$after" -a "$stamp" != "$base"
}

printf 'aaaa\n' >"$TMP/in.txt"
touch -d '2020-01-01 00:00:00' "$TMP/in.txt"
cat >"$TMP/job.yml" <<EOT
infile: {class: File, path: $TMP/in.txt}
word: one
EOT

run "$T" "$TMP/job.yml"
base=$stamp
check "first run is not reused" test "$(reused)" = 0
check "first run stored one cache entry" test "$(find "$C" -mindepth 1 -maxdepth 1 -type d | wc -l)" = 1
check "cache entry has outputs.json and out/" test -f "$C"/*/outputs.json -a -d "$C"/*/out
run "$T" "$TMP/job.yml"
check "second run reuses: same stamp" test "$stamp" = "$base"
check "second run's attempt says reused" test "$(reused)" = 1
check "reused attempt has the cached exit code" test "$(sql "$S/cwld.db" "select exit_code from attempts where message like 'reused from cache %'")" = 0
check "reused output copy holds the input" test "$(cat "$TMP/o$n/copy.txt")" = "$(printf 'aaaa\none hello')"
check "reused output object names the new outdir" grep -q "\"location\": \"file://$TMP/o$n/stamp.txt\"" "$TMP/out$n.json"
check "no temporary cache entries left" test -z "$(find "$C" -maxdepth 1 -name '*.tmp-*')"

# The same job from another directory and another state dir: paths of the
# attempt are normalised out of the key.
mkdir -p "$TMP/elsewhere"
cp "$TMP/job.yml" "$TMP/elsewhere/job.yml"
n=$((n + 1))
(cd "$TMP/elsewhere" && "$CWLD" run --quiet --state-dir "$TMP/state2" --cache-dir "$C" --outdir "$TMP/o$n" "$T" job.yml >/dev/null)
check "another state dir reuses too" test "$(cat "$TMP/o$n/stamp.txt")" = "$base"

# Same path, same size, same mtime, other bytes.
printf 'bbbb\n' >"$TMP/in.txt"
touch -d '2020-01-01 00:00:00' "$TMP/in.txt"
expect_miss "input content changed (same size and mtime)" "$T" "$TMP/job.yml"
check "changed content reached the output" grep -q bbbb "$TMP/o$n/copy.txt"
printf 'aaaa\n' >"$TMP/in.txt"

sed 's/word: one/word: two/' "$TMP/job.yml" >"$TMP/job-word.yml"
expect_miss "different input value" "$T" "$TMP/job-word.yml"

cat "$TMP/job.yml" - >"$TMP/job-env.yml" <<EOT
cwl:requirements:
  - class: EnvVarRequirement
    envDef: {GREETING: bonjour}
EOT
expect_miss "different environment (EnvVarRequirement)" "$T" "$TMP/job-env.yml"
check "the environment reached the tool" grep -q "one bonjour" "$TMP/o$n/copy.txt"

sed 's/test ! -e "\$2"/test ! -e "$2"; true/' "$T" >"$TMP/tool-arg.cwl"
check "argument variant differs" differ "$T" "$TMP/tool-arg.cwl"
expect_miss "different argument" "$TMP/tool-arg.cwl" "$TMP/job.yml"

sed 's/glob: stamp.txt/glob: "stamp.*"/' "$T" >"$TMP/tool-glob.cwl"
check "glob variant differs" differ "$T" "$TMP/tool-glob.cwl"
expect_miss "changed outputs glob" "$TMP/tool-glob.cwl" "$TMP/job.yml"

# WorkReuse enableReuse false (an expression here): never reused.
cat "$TMP/job.yml" - >"$TMP/job-noreuse.yml" <<EOT
reuse: false
EOT
run "$T" "$TMP/job-noreuse.yml"; first=$stamp
before=$(reused)
run "$T" "$TMP/job-noreuse.yml"; again=$stamp
check "enableReuse false: runs again" test "$first" != "$again" -a "$before" = "$(reused)"
sed 's/enableReuse: \$(inputs.reuse)/enableReuse: false/' "$T" >"$TMP/tool-noreuse.cwl"
run "$TMP/tool-noreuse.cwl" "$TMP/job.yml"; first=$stamp
run "$TMP/tool-noreuse.cwl" "$TMP/job.yml"; again=$stamp
check "enableReuse false (literal): runs again" test "$first" != "$again" -a "$before" = "$(reused)"

# A failed run is not cached: the same invocation runs again once the
# outside condition it failed on is gone, and that success is cached.
cat "$TMP/job.yml" - >"$TMP/job-fail.yml" <<EOT
fail_if: $TMP/flag
EOT
touch "$TMP/flag"
entries=$(find "$C" -mindepth 1 -maxdepth 1 | wc -l)
set +e
"$CWLD" run --quiet --state-dir "$S" --cache-dir "$C" --outdir "$TMP/ofail" "$T" "$TMP/job-fail.yml" >/dev/null 2>"$TMP/fail.err"
rc=$?
set -e
check "failing run exits 1" test "$rc" -eq 1
check "failed run adds no cache entry" test "$(find "$C" -mindepth 1 -maxdepth 1 | wc -l)" = "$entries"
rm "$TMP/flag"
before=$(reused)
run "$T" "$TMP/job-fail.yml"; s1=$stamp
check "after a failure the tool runs" test "$before" = "$(reused)"
run "$T" "$TMP/job-fail.yml"; s2=$stamp
check "that success is reused next" test "$s1" = "$s2" -a "$(reused)" = $((before + 1))

# A generated stdout name: the reused run finds the cached stream.
cat >"$TMP/job-so.yml" <<EOT
infile: {class: File, path: $TMP/in.txt}
EOT
"$CWLD" run --quiet --state-dir "$S" --cache-dir "$C" --outdir "$TMP/so1" "$D/stamp-stdout-tool.cwl" "$TMP/job-so.yml" >/dev/null
"$CWLD" run --quiet --state-dir "$S" --cache-dir "$C" --outdir "$TMP/so2" "$D/stamp-stdout-tool.cwl" "$TMP/job-so.yml" >/dev/null
check "generated stdout name: reused with same content" cmp -s "$TMP"/so1/* "$TMP"/so2/*

# A workflow run twice: every step, downstream ones too (their inputs lie in
# the previous run's work dir), is reused; two parallel steps with the same
# key both store it without harm.
W=$CWLD_SOURCE_DIR/tests/integration/data/diamond-wf.cwl
echo 'text: diamond' >"$TMP/wf.yml"
"$CWLD" run --quiet --parallel 2 --state-dir "$TMP/wfstate" --cache-dir "$C" --outdir "$TMP/w1" "$W" "$TMP/wf.yml" >/dev/null
"$CWLD" run --quiet --parallel 2 --state-dir "$TMP/wfstate" --cache-dir "$C" --outdir "$TMP/w2" "$W" "$TMP/wf.yml" >/dev/null
check "workflow: all 4 steps reused the second time" test "$(sql "$TMP/wfstate/cwld.db" "select count(*) from attempts where message like 'reused from cache %'")" = 4
check "workflow: same result" cmp -s "$TMP/w1/cat.txt" "$TMP/w2/cat.txt"
check "no temporary cache entries left after parallel steps" test -z "$(find "$C" -maxdepth 1 -name '*.tmp-*')"

# Without --cache-dir nothing is reused.
before=$(reused)
n=$((n + 1))
"$CWLD" run --quiet --state-dir "$S" --outdir "$TMP/o$n" "$T" "$TMP/job.yml" >/dev/null
check "without --cache-dir the tool runs" test "$(cat "$TMP/o$n/stamp.txt")" != "$base" -a "$before" = "$(reused)"
finish
