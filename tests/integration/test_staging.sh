#!/bin/bash
# Staging of a tool's work directory (job.c): InitialWorkDirRequirement
# entries, staged input paths, nested directory literals, in-place update.
. "$(dirname "$0")/lib.sh"
D=$CWLD_SOURCE_DIR/tests/integration/data/staging
S=$TMP/state
printf 'data\n' >"$TMP/in.txt"

out=$("$CWLD" run --quiet --state-dir "$S" --outdir "$TMP/o1" "$D/iwd-tool.cwl" \
    <(printf 'message: hi\ninfile: {class: File, path: %s}\n' "$TMP/in.txt"))
check "entry keeps its trailing newline" test "$(od -c "$TMP/o1/conf.txt" | head -1)" = "$(printf 'VALUE=hi\n' | od -c | head -1)"
check "a number entry is written as interpolation prints it" test "$(cat "$TMP/o1/num.json")" = 44.4
check "the input's path is in the output directory" grep -Eq "/runs/[0-9a-f]+/main/" "$TMP/o1/where.txt"
check "nested directory literal is staged" test "$(cat "$TMP/o1/tree/sub/in.txt")" = data
check "nested listing is relocated" grep -q "\"path\": \"$TMP/o1/tree/sub/in.txt\"" <<<"$out"
check "the original input is untouched" test "$(cat "$TMP/in.txt")" = data

"$CWLD" run --quiet --state-dir "$S" --outdir "$TMP/o2" "$D/inplace-wf.cwl" >/dev/null
check "in-place update changed the first step's file" test "$(cat "$TMP/o2/f.txt")" = "$(printf 'one\ntwo')"
finish
