#!/bin/bash
# The S3 client and cwld's s3:// inputs and outputs against a second,
# independent S3 implementation: s3s-fs (Rust, built from crates.io by
# s3/s3s.sh), which checks every SigV4 signature. test_s3.sh covers the
# behaviour in depth against moto; this checks that nothing there leans on
# one server's leniency: signing (payload hash, keys with spaces and
# non-ASCII characters), multipart upload, listings over several pages,
# S3's error codes, a workflow reading Files and a Directory from a bucket
# and storing its outputs, and the output location's check before a run.
. "$(dirname "$0")/lib.sh"
S3S=$CWLD_SOURCE_DIR/tests/integration/s3/s3s.sh
: "${CWLD_BUILD_DIR:=$(dirname "$CWLD")}"
TOOL=$CWLD_BUILD_DIR/s3_tool
SD=$TMP/s3s
trap 'bash "$S3S" stop "$SD" >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT

[ -x "$TOOL" ] || { echo "not ok - $TOOL missing (build with CWLD_TESTS=ON)"; exit 1; }
if ! bash "$S3S" available; then
	# the machines this project targets have a Rust toolchain; say so loudly
	echo "ok - # SKIP no cargo here to build s3s-fs: the second S3 implementation is not tested"
	exit 0
fi
bash "$S3S" install || { echo "not ok - s3s-fs could not be built"; exit 1; }
AK=cwldcompat SK=cwld-compat-secret-key
URL=$(bash "$S3S" start "$SD" "$AK" "$SK" cwld-in cwld-out)
echo "# s3s-fs on $URL"

s3t() { "$TOOL" --endpoint "$URL" --access-key "$AK" --secret-key "$SK" --retry-ms 50 "$@"; }
run() { # run NAME CMD...: stdout to $TMP/NAME.out, stderr to $TMP/NAME.err, status in RC
	local n=$1; shift
	RC=0
	"$@" >"$TMP/$n.out" 2>"$TMP/$n.err" || RC=$?
}
has() { grep -qF -- "$2" "$TMP/$1"; }

# --- the module ---------------------------------------------------------------
mkdir -p "$TMP/up" "$TMP/down"
printf 'hello\n' >"$TMP/up/a.txt"
printf 'spaces & more\n' >"$TMP/up/odd.txt"
head -c $((12 * 1024 * 1024 + 5)) /dev/urandom >"$TMP/up/m.bin"
run put s3t put "$TMP/up/a.txt" s3://cwld-in/small/a.txt "$TMP/up/odd.txt" "s3://cwld-in/small/dir x/odd name+&=é.txt"
check "two small files go up, one key with spaces and non-ASCII characters" [ "$RC" = 0 ]
run get s3t get s3://cwld-in/small/a.txt "$TMP/down/a.txt" "s3://cwld-in/small/dir x/odd name+&=é.txt" "$TMP/down/odd.txt"
check "  and come back byte for byte" cmp -s "$TMP/up/a.txt" "$TMP/down/a.txt"
check "  (the odd name too)" cmp -s "$TMP/up/odd.txt" "$TMP/down/odd.txt"
run mp s3t --threshold $((6 * 1024 * 1024)) --part-size $((5 * 1024 * 1024)) put "$TMP/up/m.bin" s3://cwld-in/mp/m.bin
check "12 MiB go up in 3 parts of 5 MiB" has mp.out 'ok size=12582917 parts=3 '
run mpget s3t get s3://cwld-in/mp/m.bin "$TMP/down/m.bin"
check "  and come back whole" cmp -s "$TMP/up/m.bin" "$TMP/down/m.bin"
for i in 1 2 3 4 5; do printf '%s\n' "$i" >"$TMP/up/p$i"; done
run many s3t put "$TMP/up/p1" s3://cwld-in/pages/1 "$TMP/up/p2" s3://cwld-in/pages/2 "$TMP/up/p3" s3://cwld-in/pages/3 \
	"$TMP/up/p4" s3://cwld-in/pages/4 "$TMP/up/p5" s3://cwld-in/pages/5
run ls s3t --max-keys 2 ls s3://cwld-in/pages/
check "a listing of 5 keys in pages of 2 gets them all" [ "$(grep -c '^2 pages/[1-5] ' "$TMP/ls.out")" = 5 ]
check "  in 3 requests" has ls.out 'ok size=-1 parts=0 etag= sha256= attempts=3'
run badsec "$TOOL" --endpoint "$URL" --access-key "$AK" --secret-key wrong head s3://cwld-in/small/a.txt
check "a wrong secret is refused (403)" grep -q 'failed code=.* status=403 ' "$TMP/badsec.out"
run nokey s3t get s3://cwld-in/small/nope "$TMP/down/nope"
check "a missing key: NoSuchKey" has nokey.out 'failed code=NoSuchKey status=404'
check "  and no file is left" [ -z "$(ls -A "$TMP/down" | grep -v -e '^a.txt$' -e '^odd.txt$' -e '^m.bin$')" ]

# --- cwld run: s3:// inputs, outputs stored in the bucket ----------------------
printf 'AAA\n' >"$TMP/up/wa.txt"
printf 'BBB\n' >"$TMP/up/wb.txt"
run wfput s3t put "$TMP/up/wa.txt" s3://cwld-in/wf/a.txt "$TMP/up/wb.txt" s3://cwld-in/wf/b.txt \
	"$TMP/up/a.txt" s3://cwld-in/wf/dir/x.txt "$TMP/up/odd.txt" "s3://cwld-in/wf/dir/sub dir/y.txt"
printf '%s\n' 'a: {class: File, location: s3://cwld-in/wf/a.txt}' \
	'b: {class: File, location: s3://cwld-in/wf/b.txt}' \
	'd: {class: Directory, location: s3://cwld-in/wf/dir}' >"$TMP/job.yml"
run wf env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" HOME="$TMP/nohome" \
	"$CWLD" run --no-container --state-dir "$TMP/state" --s3-endpoint "$URL" \
	--output-location s3://cwld-out/run1 "$CWLD_SOURCE_DIR/tests/integration/s3/wf.cwl" "$TMP/job.yml"
check "a workflow reads two Files and a Directory and stores its outputs" [ "$RC" = 0 ]
check "  fetching four objects" has wf.err 'fetched 4 objects'
run back s3t get s3://cwld-out/run1/joined.txt "$TMP/down/joined.txt" s3://cwld-out/run1/listing.txt "$TMP/down/listing.txt"
check "  joined.txt in the bucket holds both inputs" [ "$(cat "$TMP/down/joined.txt" 2>/dev/null)" = "$(printf 'AAA\nBBB')" ]
check "  listing.txt the Directory's objects as files" \
	[ "$(cat "$TMP/down/listing.txt" 2>/dev/null)" = "$(printf './sub dir/y.txt\n./x.txt')" ]
check "  the output object names them at s3:// locations" grep -q '"location": "s3://cwld-out/run1/joined.txt"' "$TMP/wf.out"
run nob env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" HOME="$TMP/nohome" \
	"$CWLD" run --no-container --state-dir "$TMP/state" --s3-endpoint "$URL" \
	--output-location s3://cwld-nosuch/x "$CWLD_SOURCE_DIR/tests/integration/s3/wf.cwl" "$TMP/job.yml"
check "an output location in a missing bucket fails the run before it starts" [ "$RC" = 1 ] && \
	grep -qE '^cwld run: output location s3://cwld-nosuch/x: s3: .*NoSuchBucket' "$TMP/nob.err"
check "  no input fetched, no step run" [ -z "$(grep -E 'fetched|started' "$TMP/nob.err")" ]
run wfbad env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY=wrong HOME="$TMP/nohome" \
	"$CWLD" run --no-container --state-dir "$TMP/state" --s3-endpoint "$URL" \
	"$CWLD_SOURCE_DIR/tests/integration/s3/wf.cwl" "$TMP/job.yml"
check "wrong credentials fail a run reading the bucket (exit 1), saying which request" [ "$RC" = 1 ] && \
	grep -qE '^cwld run: s3: (GET|LIST) s3://cwld-in/wf/' "$TMP/wfbad.err"
finish
