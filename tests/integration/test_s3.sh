#!/bin/bash
# The s3 module against a real S3-compatible server: moto_server, installed
# (cached) and started on 127.0.0.1 by s3/moto.sh with signature checks on,
# driven through the s3_tool program built with the tests. Small files and a
# 200 MiB one round-trip (multipart above the threshold, memory flat), keys
# with spaces and non-ASCII characters, listings over several pages,
# path-style and virtual-host URLs, credentials from flags, AWS_* and
# ~/.aws; wrong credentials, a missing bucket, a missing key and a server
# killed in the middle of a transfer each give S3's or curl's message and
# leave no file behind. Then cwld run with s3:// inputs (secondaryFiles
# found next to them, defaults inside a workflow's steps) and
# --output-location, and a daemon's runs with s3:// inputs and
# output_location, outputs checked object by object in the bucket.
. "$(dirname "$0")/lib.sh"
MOTO=$CWLD_SOURCE_DIR/tests/integration/s3/moto.sh
: "${CWLD_BUILD_DIR:=$(dirname "$CWLD")}"
TOOL=$CWLD_BUILD_DIR/s3_tool
M1=$TMP/moto1
M2=$TMP/moto2
DPID=
cleanup() {
	[ -z "$DPID" ] || kill -TERM "$DPID" 2>/dev/null || true
	bash "$MOTO" stop "$M1" >/dev/null 2>&1 || true
	bash "$MOTO" stop "$M2" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

[ -x "$TOOL" ] || { echo "not ok - $TOOL missing (build with CWLD_TESTS=ON)"; exit 1; }
bash "$MOTO" install || { echo "not ok - moto could not be installed"; exit 1; }
URL=$(bash "$MOTO" start "$M1")
bash "$MOTO" auth "$M1" cwld-in cwld-out >"$TMP/keys"
read -r AK SK <"$TMP/keys"
read -r TAK TSK TOKEN < <(sed -n 2p "$TMP/keys")
[ -n "$SK" ] || { echo "not ok - no IAM key from moto"; exit 1; }
echo "# moto on $URL with signature checks"

# Peak RSS allowed for a 200 MiB transfer; sanitizer builds carry their own
# shadow memory and quarantine.
RSS_LIMIT=40960
if grep -q '^CWLD_SANITIZE:BOOL=ON' "$CWLD_BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
	RSS_LIMIT=204800
fi

s3t() { "$TOOL" --endpoint "$URL" --access-key "$AK" --secret-key "$SK" --retry-ms 50 "$@"; }
# run NAME CMD...: stdout to $TMP/NAME.out, stderr to $TMP/NAME.err, status in RC
run() {
	local n=$1; shift
	RC=0
	"$@" >"$TMP/$n.out" 2>"$TMP/$n.err" || RC=$?
}
has() { grep -qF -- "$2" "$TMP/$1"; }
no_tmp_files() { ! find "$1" -name '.*s3tmp*' | grep -q .; }

# --- small files, several at once ---------------------------------------------
mkdir -p "$TMP/up" "$TMP/down"
printf 'hello\n' >"$TMP/up/a.txt"
: >"$TMP/up/empty"
head -c 300000 /dev/urandom >"$TMP/up/mid.bin"
printf 'spaces & more\n' >"$TMP/up/odd name.txt"
run put s3t put "$TMP/up/a.txt" s3://cwld-in/small/a.txt "$TMP/up/empty" s3://cwld-in/small/empty \
	"$TMP/up/mid.bin" s3://cwld-in/small/mid.bin \
	"$TMP/up/odd name.txt" "s3://cwld-in/small/dir x/odd name+&=é.txt"
check "four small files go up at once" [ "$RC" = 0 ]
check "each as one PUT" [ "$(grep -c 'ok size=.* parts=0 ' "$TMP/put.out")" = 4 ]
run get s3t get s3://cwld-in/small/a.txt "$TMP/down/a.txt" s3://cwld-in/small/empty "$TMP/down/empty" \
	s3://cwld-in/small/mid.bin "$TMP/down/mid.bin" \
	"s3://cwld-in/small/dir x/odd name+&=é.txt" "$TMP/down/odd name.txt"
check "and come back" [ "$RC" = 0 ]
for f in a.txt empty mid.bin "odd name.txt"; do
	check "'$f' round-trips byte for byte" cmp -s "$TMP/up/$f" "$TMP/down/$f"
done
check "no temporary file is left" no_tmp_files "$TMP/down"
run head s3t head s3://cwld-in/small/mid.bin
check "HEAD gives the size and the ETag" has head.out 'ok size=300000 parts=0 etag="'

# an object stored with a SHA-256 checksum (by boto3) is checked as it comes
"${CWLD_CACHE_DIR:-$HOME/.cache/cwld}/moto-venv/bin/python" - "$URL" "$AK" "$SK" <<-'EOF'
	import sys, boto3
	s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
	                  aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
	s3.put_object(Bucket="cwld-in", Key="small/summed.txt", Body=b"checked content\n",
	              ChecksumAlgorithm="SHA256")
EOF
run sum s3t get s3://cwld-in/small/summed.txt "$TMP/down/summed.txt"
check "a GET verifies the object's x-amz-checksum-sha256" \
	has sum.out "sha256=$(python3 -c 'import base64, hashlib; print(base64.b64encode(hashlib.sha256(b"checked content\n").digest()).decode())') "

# --- addressing and where credentials come from -------------------------------
PORT=${URL##*:}
run vh "$TOOL" --endpoint "http://localhost:$PORT" --vhost --access-key "$AK" --secret-key "$SK" \
	get s3://cwld-in/small/a.txt "$TMP/down/vh.txt"
check "virtual-host addressing (cwld-in.localhost) signs and reads" cmp -s "$TMP/up/a.txt" "$TMP/down/vh.txt"
run env env -u AWS_PROFILE AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" AWS_ENDPOINT_URL="$URL" \
	AWS_REGION=us-east-1 HOME="$TMP/nohome" "$TOOL" head s3://cwld-in/small/a.txt
check "credentials and endpoint from AWS_* variables" [ "$RC" = 0 ]
mkdir -p "$TMP/home/.aws"
printf '[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n[cwld]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$AK" "$SK" >"$TMP/home/.aws/credentials"
printf '[profile cwld]\nregion = us-east-1\nendpoint_url = %s\n' "$URL" >"$TMP/home/.aws/config"
run prof env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 \
	HOME="$TMP/home" AWS_PROFILE=cwld "$TOOL" head s3://cwld-in/small/a.txt
check "credentials, region and endpoint from ~/.aws (AWS_PROFILE)" [ "$RC" = 0 ]
run tok "$TOOL" --endpoint "$URL" --access-key "$TAK" --secret-key "$TSK" --session-token "$TOKEN" \
	get s3://cwld-in/small/a.txt "$TMP/down/tok.txt"
check "temporary credentials: the session token goes in x-amz-security-token, signed" \
	cmp -s "$TMP/up/a.txt" "$TMP/down/tok.txt"
run badtok "$TOOL" --endpoint "$URL" --access-key "$TAK" --secret-key "$TSK" --session-token "${TOKEN}x" \
	head s3://cwld-in/small/a.txt
check "a wrong session token is refused" [ "$RC" = 1 ]
run envtok env AWS_ACCESS_KEY_ID="$TAK" AWS_SECRET_ACCESS_KEY="$TSK" AWS_SESSION_TOKEN="$TOKEN" \
	AWS_ENDPOINT_URL_S3="$URL" HOME="$TMP/nohome" "$TOOL" head s3://cwld-in/small/a.txt
check "and AWS_SESSION_TOKEN with its keys" [ "$RC" = 0 ]

# --- multipart ------------------------------------------------------------------
head -c $((12 * 1024 * 1024 + 5)) /dev/urandom >"$TMP/up/m.bin"
run mp s3t --threshold $((6 * 1024 * 1024)) --part-size $((5 * 1024 * 1024)) put "$TMP/up/m.bin" s3://cwld-in/mp/m.bin
check "above the threshold the upload goes in parts (3 of 5 MiB)" has mp.out 'ok size=12582917 parts=3 etag="'
check "and its ETag is a multipart one" grep -q 'etag="[0-9a-f]*-3"' "$TMP/mp.out"
run mpget s3t get s3://cwld-in/mp/m.bin "$TMP/down/m.bin"
check "a multipart object comes back whole" cmp -s "$TMP/up/m.bin" "$TMP/down/m.bin"
run sp s3t --threshold $((13 * 1024 * 1024)) put "$TMP/up/m.bin" s3://cwld-in/mp/single.bin
check "below the threshold it is one PUT" has sp.out 'ok size=12582917 parts=0 '

# --- 200 MiB, memory flat -------------------------------------------------------
head -c $((200 * 1024 * 1024)) /dev/urandom >"$TMP/up/big.bin"
t0=$(date +%s.%N)
run bigput /usr/bin/time -f '%M' -o "$TMP/bigput.rss" "$TOOL" --endpoint "$URL" --access-key "$AK" \
	--secret-key "$SK" put "$TMP/up/big.bin" s3://cwld-in/big/big.bin
t1=$(date +%s.%N)
check "200 MiB go up in 25 parts of 8 MiB" has bigput.out 'ok size=209715200 parts=25 '
check "with peak RSS $(cat "$TMP/bigput.rss") KiB < $RSS_LIMIT KiB" [ "$(cat "$TMP/bigput.rss")" -lt "$RSS_LIMIT" ]
run bigget /usr/bin/time -f '%M' -o "$TMP/bigget.rss" "$TOOL" --endpoint "$URL" --access-key "$AK" \
	--secret-key "$SK" get s3://cwld-in/big/big.bin "$TMP/down/big.bin"
t2=$(date +%s.%N)
check "200 MiB come back" cmp -s "$TMP/up/big.bin" "$TMP/down/big.bin"
check "with peak RSS $(cat "$TMP/bigget.rss") KiB < $RSS_LIMIT KiB" [ "$(cat "$TMP/bigget.rss")" -lt "$RSS_LIMIT" ]
rm -f "$TMP/down/big.bin"
ts0=$(date +%s.%N)
run bigsingle s3t --threshold $((1024 * 1024 * 1024)) put "$TMP/up/big.bin" s3://cwld-in/big/single.bin
ts1=$(date +%s.%N)
check "200 MiB in one PUT too" has bigsingle.out 'ok size=209715200 parts=0 '
# the same transfers by curl, for comparison (not a pass/fail check)
t3=$(date +%s.%N)
curl -s -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" -u "$AK:$SK" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	-T "$TMP/up/big.bin" "$URL/cwld-in/big/curl.bin" || true
t4=$(date +%s.%N)
curl -s -o "$TMP/down/curl.bin" --aws-sigv4 "aws:amz:us-east-1:s3" -u "$AK:$SK" \
	-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
	"$URL/cwld-in/big/big.bin" || true
t5=$(date +%s.%N)
rm -f "$TMP/down/curl.bin"
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" -v f="$t5" -v g="$ts0" -v h="$ts1" 'BEGIN {
	printf "# 200 MiB on loopback: upload %.2f s (%.0f MiB/s) in 25 parts, %.2f s (%.0f MiB/s) in one PUT; download %.2f s (%.0f MiB/s)\n", b - a, 200 / (b - a), h - g, 200 / (h - g), c - b, 200 / (c - b)
	printf "# curl, same server: upload (one PUT) %.2f s (%.0f MiB/s), download %.2f s (%.0f MiB/s)\n", e - d, 200 / (e - d), f - e, 200 / (f - e) }'

# --- a cancelled multipart upload is aborted on the server -------------------
# (one part at a time: the upload takes over a second, the cancel comes
# well after CreateMultipartUpload was answered)
run cancel s3t --concurrency 1 put "$TMP/up/big.bin" s3://cwld-out/cancelled.bin --cancel-after-ms 600
check "an upload cancelled midway" has cancel.out 'put s3://cwld-out/cancelled.bin: cancelled'
uploads() {
	"${CWLD_CACHE_DIR:-$HOME/.cache/cwld}/moto-venv/bin/python" - "$URL" "$AK" "$SK" "$1" <<-'EOF'
		import sys, boto3
		s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
		                  aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
		print(len(s3.list_multipart_uploads(Bucket=sys.argv[4]).get("Uploads", [])))
	EOF
}
check "leaves no multipart upload behind (AbortMultipartUpload)" [ "$(uploads cwld-out)" = 0 ]
run cancelhead s3t head s3://cwld-out/cancelled.bin
check "and no object" has cancelhead.err NotFound
# cancelled at once, while CreateMultipartUpload is still on its way: its
# answer is let in and the upload it names aborted
run cancel0 s3t put "$TMP/up/big.bin" s3://cwld-out/cancelled0.bin --cancel-after-ms 1
check "an upload cancelled before its CreateMultipartUpload is answered" has cancel0.out 'cancelled'
check "leaves no multipart upload behind either" [ "$(uploads cwld-out)" = 0 ]

# --- transfers broken while the server stays: retried, resumed --------------
# proxy MODE CUTS BYTES: cutproxy.py in front of moto; sets PX_URL, PX_PID
proxy() {
	: >"$TMP/px.log"
	# the previous proxy's port must not be read before the new one's is
	# written (the redirection below truncates only once the job starts)
	rm -f "$TMP/px.port"
	python3 "$CWLD_SOURCE_DIR/tests/integration/s3/cutproxy.py" "$PORT" "$@" "$TMP/px.log" \
		>"$TMP/px.port" 2>/dev/null &
	PX_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$TMP/px.port" ] && break
		sleep 0.05
	done
	PX_URL="http://127.0.0.1:$(cat "$TMP/px.port")"
}
proxy_stop() { kill "$PX_PID" 2>/dev/null; wait "$PX_PID" 2>/dev/null || true; }
pxt() { "$TOOL" --endpoint "$PX_URL" --access-key "$AK" --secret-key "$SK" --retry-ms 50 "$@"; }

proxy cut 1 $((50 * 1024 * 1024))
run cut pxt get s3://cwld-in/big/big.bin "$TMP/down/cut.bin"
check "a download cut after 50 MiB is tried again and completes" has cut.out 'ok size=209715200 parts=0 etag='
check "  in 2 requests" has cut.out 'attempts=2'
check "  byte for byte" cmp -s "$TMP/up/big.bin" "$TMP/down/cut.bin"
check "  the second asks only for the rest, of the same object (Range, If-Match)" \
	grep -qE '^GET /cwld-in/big/big.bin .*Range: bytes=5[0-9]{7}- \| If-Match: "' "$TMP/px.log"
rm -f "$TMP/down/cut.bin"
proxy_stop

proxy 503 3 0
run slow pxt --threshold $((6 * 1024 * 1024)) --part-size $((5 * 1024 * 1024)) put "$TMP/up/m.bin" s3://cwld-in/mp/slow.bin
check "an upload answered 503 SlowDown three times goes on" has slow.out 'ok size=12582917 parts=3 '
check "  (3 + 5 requests)" has slow.out 'attempts=8'
check "  with a warning per retry" has slow.err "PUT s3://cwld-in/mp/slow.bin: server error; trying again"
run slowget s3t get s3://cwld-in/mp/slow.bin "$TMP/down/slow.bin"
check "  and the object is whole" cmp -s "$TMP/up/m.bin" "$TMP/down/slow.bin"
proxy_stop

proxy 503 5 0
run slow5 pxt --attempts 3 get s3://cwld-in/small/a.txt "$TMP/down/slow5.txt"
check "more 503s than attempts: S3's code and message, no file" has slow5.err \
	's3: GET s3://cwld-in/small/a.txt: SlowDown: Please reduce your request rate. (after 3 attempts; the first: HTTP 503)'
check "  no file" [ ! -e "$TMP/down/slow5.txt" ]
proxy_stop

# an object replaced between the cut and the retry is not stitched together
proxy cut 1 $((20 * 1024 * 1024))
pxt --retry-ms 3000 get s3://cwld-in/big/big.bin "$TMP/down/changed.bin" >"$TMP/changed.out" 2>"$TMP/changed.err" &
CPID=$!
for _ in $(seq 1 200); do
	grep -q 'trying again' "$TMP/changed.err" && break
	sleep 0.05
done
s3t put "$TMP/up/m.bin" s3://cwld-in/big/big.bin >/dev/null
RC=0
wait "$CPID" || RC=$?
check "an object replaced during a download fails it" [ "$RC" = 1 ]
check "  saying so" has changed.err 's3: GET s3://cwld-in/big/big.bin: the object changed while it was downloaded'
check "  and leaves no file" [ ! -e "$TMP/down/changed.bin" ]
proxy_stop
s3t put "$TMP/up/big.bin" s3://cwld-in/big/big.bin >/dev/null

# --- listing --------------------------------------------------------------------
for i in 1 2 3 4 5 6 7; do printf '%s' "$i" >"$TMP/up/l$i"; done
run lput s3t put "$TMP/up/l1" s3://cwld-in/list/1 "$TMP/up/l2" s3://cwld-in/list/2 "$TMP/up/l3" s3://cwld-in/list/3 \
	"$TMP/up/l4" s3://cwld-in/list/4 "$TMP/up/l5" s3://cwld-in/list/5 "$TMP/up/l6" s3://cwld-in/list/sub/6 \
	"$TMP/up/l7" s3://cwld-in/list/sub/7
run ls s3t --max-keys 2 ls s3://cwld-in/list/
check "a listing of 7 keys, 2 per page, gives them all" [ "$(grep -c '^1 list/' "$TMP/ls.out")" = 7 ]
check "in 4 requests (continuation tokens)" has ls.out 'ok size=-1 parts=0 etag= sha256= attempts=4'
run lsd s3t --delimiter / ls s3://cwld-in/list/
check "with a delimiter, sub/ is a prefix" has lsd.out 'PRE list/sub/'
check "and the keys above it are listed" [ "$(grep -c '^1 list/' "$TMP/lsd.out")" = 5 ]
run lse s3t ls s3://cwld-out/nothing/
check "an empty listing succeeds" [ "$RC" = 0 ] && [ "$(grep -vc ': ok ' "$TMP/lse.out")" = 0 ]

# --- errors: each says what and why, nothing half-written stays ---------------
printf 'old\n' >"$TMP/down/keep.txt"
run nokey s3t get s3://cwld-in/no/such/key "$TMP/down/keep.txt"
check "a missing key fails" [ "$RC" = 1 ]
check "with S3's code and message" has nokey.err 's3: GET s3://cwld-in/no/such/key: NoSuchKey: The specified key does not exist.'
check "and the file that was there is untouched" [ "$(cat "$TMP/down/keep.txt")" = old ]
run nobucket s3t get s3://cwld-nosuch/k "$TMP/down/nb.txt"
check "a missing bucket: NoSuchBucket" has nobucket.err 's3: GET s3://cwld-nosuch/k: NoSuchBucket: The specified bucket does not exist'
check "no file made" [ ! -e "$TMP/down/nb.txt" ]
run nobput s3t put "$TMP/up/a.txt" s3://cwld-nosuch/k
check "PUT into a missing bucket: NoSuchBucket" has nobput.err 's3: PUT s3://cwld-nosuch/k: NoSuchBucket:'
run nohead s3t head s3://cwld-in/no/such/key
check "HEAD of a missing key: 404 said in words" has nohead.err 's3: HEAD s3://cwld-in/no/such/key: NotFound: no such bucket or key (HTTP 404)'
run badsecret "$TOOL" --endpoint "$URL" --access-key "$AK" --secret-key "not-the-secret" \
	get s3://cwld-in/small/a.txt "$TMP/down/bad.txt"
check "a wrong secret: SignatureDoesNotMatch" has badsecret.err 's3: GET s3://cwld-in/small/a.txt: SignatureDoesNotMatch: The request signature we calculated does not match'
check "no file made" [ ! -e "$TMP/down/bad.txt" ]
check "not retried" has badsecret.out 'attempts=1'
run badkey "$TOOL" --endpoint "$URL" --access-key AKIAIOSFODNN7EXAMPLE --secret-key x \
	put "$TMP/up/a.txt" s3://cwld-in/small/bad.txt
check "an unknown key: InvalidAccessKeyId" has badkey.err 's3: PUT s3://cwld-in/small/bad.txt: InvalidAccessKeyId: The AWS Access Key Id you provided does not exist'
run badkeyhead s3t head s3://cwld-in/small/bad.txt
check "and nothing was stored" has badkeyhead.err 'NotFound'
run badmp "$TOOL" --endpoint "$URL" --access-key "$AK" --secret-key nope --threshold $((6 * 1024 * 1024)) \
	put "$TMP/up/m.bin" s3://cwld-in/mp/bad.bin
check "a multipart upload with a wrong secret fails at its start" has badmp.err 's3: PUT s3://cwld-in/mp/bad.bin: CreateMultipartUpload: SignatureDoesNotMatch:'
run noport "$TOOL" --endpoint "http://127.0.0.1:1" --access-key a --secret-key b --attempts 2 --retry-ms 10 \
	get s3://cwld-in/small/a.txt "$TMP/down/np.txt"
check "no server: curl's message, after the retries" has noport.err 's3: GET s3://cwld-in/small/a.txt: Failed to connect to 127.0.0.1 port 1'
check "  (2 attempts)" has noport.err '(after 2 attempts)'
check "no temporary file is left after all these" no_tmp_files "$TMP/down"

# --- cwld run with s3:// inputs --------------------------------------------------
printf 'AAA\n' >"$TMP/up/wa.txt"
printf 'BBB\n' >"$TMP/up/wb.txt"
run wfput s3t put "$TMP/up/wa.txt" s3://cwld-in/wf/a.txt "$TMP/up/wb.txt" s3://cwld-in/wf/b.txt \
	"$TMP/up/a.txt" s3://cwld-in/wf/dir/x.txt "$TMP/up/mid.bin" "s3://cwld-in/wf/dir/sub dir/y.bin"
cat >"$TMP/job.yml" <<-EOF
	a: {class: File, location: s3://cwld-in/wf/a.txt}
	b: {class: File, location: s3://cwld-in/wf/b.txt}
	d: {class: Directory, location: s3://cwld-in/wf/dir}
EOF
WF=$CWLD_SOURCE_DIR/tests/integration/s3/wf.cwl
cwld_s3() { # cwld_s3 NAME SECRET JOB: a run with the keys in AWS_*
	local n=$1 secret=$2 job=$3
	run "$n" env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$secret" HOME="$TMP/nohome" \
		"$CWLD" run --no-container --state-dir "$TMP/state" --s3-endpoint "$URL" \
		--outdir "$TMP/$n.outdir" "$WF" "$job"
}
cwld_s3 wfrun "$SK" "$TMP/job.yml"
check "a workflow reads two Files and a Directory from a bucket" [ "$RC" = 0 ]
check "the step joined both Files" [ "$(cat "$TMP/wfrun.outdir/joined.txt" 2>/dev/null)" = "$(printf 'AAA\nBBB')" ]
check "and saw the Directory's objects as files" [ "$(cat "$TMP/wfrun.outdir/listing.txt" 2>/dev/null)" = "$(printf './sub dir/y.bin\n./x.txt')" ]
check "the other step read the same File" [ "$(tr -d ' ' <"$TMP/wfrun.outdir/count.txt" 2>/dev/null)" = 4 ]
check "each location was downloaded once (4 objects)" has wfrun.err 'fetched 4 objects (300014 bytes) from S3'
# in containers too: the copies are bind-mounted like any input
. "$CWLD_SOURCE_DIR/tests/integration/lib-busybox-image.sh"
if [ -w /var/run/docker.sock ] && cwld_busybox_image; then
	run wfdocker env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" HOME="$TMP/nohome" \
		"$CWLD" run --force-docker --default-container cwld-test/busybox:latest --state-dir "$TMP/state" \
		--s3-endpoint "$URL" --outdir "$TMP/wfdocker.outdir" "$WF" "$TMP/job.yml"
	check "the same workflow in containers" [ "$(cat "$TMP/wfdocker.outdir/listing.txt" 2>/dev/null)" = "$(printf './sub dir/y.bin\n./x.txt')" ]
else
	echo "# no Docker engine: the container variant is skipped"
fi
sed 's#wf/b.txt#wf/missing.txt#' "$TMP/job.yml" >"$TMP/job-missing.yml"
cwld_s3 wfmissing "$SK" "$TMP/job-missing.yml"
check "a missing input object fails the run" [ "$RC" = 1 ]
check "naming it, with S3's message" has wfmissing.err 'cwld run: s3: HEAD s3://cwld-in/wf/missing.txt: NoSuchKey: The specified key does not exist.'
check "no step ran, no output" [ ! -e "$TMP/wfmissing.outdir" ]
# a key that only begins another's is missing all the same
sed 's#wf/b.txt#wf/b.tx#' "$TMP/job.yml" >"$TMP/job-prefix.yml"
cwld_s3 wfprefix "$SK" "$TMP/job-prefix.yml"
check "a missing key that begins an existing one fails the run with NoSuchKey" [ "$RC" = 1 ] &&
	has wfprefix.err 'cwld run: s3: HEAD s3://cwld-in/wf/b.tx: NoSuchKey: The specified key does not exist.'
sed 's#s3://cwld-in/wf/b.txt#s3://cwld-nosuch/wf/b.txt#' "$TMP/job.yml" >"$TMP/job-nobucket.yml"
cwld_s3 wfnobucket "$SK" "$TMP/job-nobucket.yml"
check "an input in a missing bucket fails the run before its first step" [ "$RC" = 1 ] && [ ! -e "$TMP/wfnobucket.outdir" ]
# (a HEAD answer has no body: one listing of the key says what is missing)
check "  with S3's NoSuchBucket" grep -qE \
	'^cwld run: s3: LIST s3://cwld-nosuch/wf/b.txt: NoSuchBucket: The specified bucket does not exist' "$TMP/wfnobucket.err"
cwld_s3 wfbad wrong-secret "$TMP/job.yml"
# (the first File's HEAD is refused, 403, and a listing of its key says why)
check "wrong credentials fail the run" grep -qE \
	'^cwld run: s3: LIST s3://cwld-in/wf/[^:]*: SignatureDoesNotMatch: ' "$TMP/wfbad.err"
check "  with exit status 1" [ "$RC" = 1 ]
check "and leave no work directory behind" [ -z "$(ls -A "$TMP/state/runs" 2>/dev/null)" ]
# --s3-credentials FILE: the keys from a file, not the environment (whose
# wrong keys it overrides)
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$AK" "$SK" >"$TMP/creds.ini"
run wfcreds env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY=wrong-secret HOME="$TMP/nohome" \
	"$CWLD" run --no-container --state-dir "$TMP/state" --s3-endpoint "$URL" \
	--s3-credentials "$TMP/creds.ini" --outdir "$TMP/wfcreds.outdir" "$WF" "$TMP/job.yml"
check "--s3-credentials FILE: the run reads the bucket with the file's keys" [ "$RC" = 0 ]
check "  and its outputs are there" [ "$(cat "$TMP/wfcreds.outdir/joined.txt" 2>/dev/null)" = "$(printf 'AAA\nBBB')" ]
run wfnocreds "$CWLD" run --no-container --state-dir "$TMP/state" --s3-endpoint "$URL" --outdir "$TMP/wfnocreds.outdir" \
	--s3-credentials "$TMP/no-such.ini" "$WF" "$TMP/job.yml"
check "--s3-credentials with no such file: a usage error naming it" [ "$RC" = 2 ]
check "  (the message)" has wfnocreds.err "credentials file '$TMP/no-such.ini'"

# secondaryFiles next to an s3:// primary: the patterns applied to its key
cwld_doc() { # cwld_doc NAME DOC JOB: as cwld_s3, another document
	local n=$1 doc=$2 job=$3
	run "$n" env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" HOME="$TMP/nohome" \
		"$CWLD" run --no-container --state-dir "$TMP/state" --s3-endpoint "$URL" -v \
		--outdir "$TMP/$n.outdir" "$doc" "$job"
}
SEC=$CWLD_SOURCE_DIR/tests/integration/s3/sec.cwl
printf 'BAM\n' >"$TMP/up/r.bam"
printf 'IDX\n' >"$TMP/up/r.bam.idx"
printf 'META\n' >"$TMP/up/r.meta"
run secput s3t put "$TMP/up/r.bam" s3://cwld-in/sec/r.bam "$TMP/up/r.bam.idx" s3://cwld-in/sec/r.bam.idx \
	"$TMP/up/r.bam" s3://cwld-in/sec2/r.bam "$TMP/up/r.bam.idx" s3://cwld-in/sec2/r.bam.idx \
	"$TMP/up/r.meta" s3://cwld-in/sec2/r.meta "$TMP/up/r.bam.idx" s3://cwld-in/sec2/r.bam.bai \
	"$TMP/up/r.bam" s3://cwld-in/sec3/r.bam
check "the secondaryFiles objects go up" [ "$RC" = 0 ]
printf 'bam: {class: File, location: s3://cwld-in/sec/r.bam}\n' >"$TMP/sec.yml"
cwld_doc sec "$SEC" "$TMP/sec.yml"
check "an s3:// File's required secondary file is fetched next to it" [ "$RC" = 0 ]
check "  the tool finds it there, the optional one missing is skipped" \
	[ "$(cat "$TMP/sec.outdir/seen.txt" 2>/dev/null)" = "$(printf 'BAM\nIDX\nno-meta\nr.bam.idx')" ]
check "  two objects fetched" has sec.err 'fetched 2 objects (8 bytes) from S3'
printf 'bam: {class: File, location: s3://cwld-in/sec2/r.bam}\n' >"$TMP/sec2.yml"
cwld_doc sec2 "$SEC" "$TMP/sec2.yml"
check "optional secondary files in the bucket are fetched too ('^', required by expression)" \
	[ "$(cat "$TMP/sec2.outdir/seen.txt" 2>/dev/null)" = "$(printf 'BAM\nIDX\nMETA\nr.bam.idx,r.meta,r.bam.bai')" ]
printf 'bam: {class: File, location: s3://cwld-in/sec/r.bam, basename: renamed.bam}\n' >"$TMP/sec4.yml"
cwld_doc sec4 "$SEC" "$TMP/sec4.yml"
check "a renamed primary: the key's secondary file under the new name" \
	[ "$(cat "$TMP/sec4.outdir/seen.txt" 2>/dev/null)" = "$(printf 'BAM\nIDX\nno-meta\nrenamed.bam.idx')" ]
printf 'bam: {class: File, location: s3://cwld-in/sec3/r.bam}\n' >"$TMP/sec3.yml"
cwld_doc sec3 "$SEC" "$TMP/sec3.yml"
check "a required secondary file missing from the bucket fails the run" [ "$RC" = 1 ]
check "  naming it, with S3's message" has sec3.err \
	"cwld run: input 'bam': secondary file 'r.bam.idx' of 's3://cwld-in/sec3/r.bam': s3: HEAD s3://cwld-in/sec3/r.bam.idx: NoSuchKey: The specified key does not exist."
check "  before any step" [ ! -e "$TMP/sec3.outdir" ]

# secondaryFiles of record fields, in a record and in an array of records
printf 'REF\n' >"$TMP/up/g.fa"
printf 'FAI\n' >"$TMP/up/g.fa.fai"
run secrecput s3t put "$TMP/up/g.fa" s3://cwld-in/secrec/g.fa "$TMP/up/g.fa.fai" s3://cwld-in/secrec/g.fa.fai
printf '%s\n' 'rec: {ref: {class: File, location: s3://cwld-in/secrec/g.fa}}' \
	'pairs: [{bam: {class: File, location: s3://cwld-in/sec/r.bam}},' \
	'        {bam: {class: File, location: s3://cwld-in/sec2/r.bam}}]' >"$TMP/secrec.yml"
cwld_doc secrec "$CWLD_SOURCE_DIR/tests/integration/s3/secrec.cwl" "$TMP/secrec.yml"
check "record fields' secondary files are fetched with their s3:// Files" [ "$RC" = 0 ]
check "  each File came with its own" grep -q '"names": "g.fa:g.fa.fai r.bam:r.bam.idx r.bam:r.bam.idx"' "$TMP/secrec.out"
check "  six objects fetched" has secrec.err 'fetched 6 objects (24 bytes) from S3'
printf '%s\n' 'rec: {ref: {class: File, location: s3://cwld-in/secrec/g.fa}}' \
	'pairs: [{bam: {class: File, location: s3://cwld-in/sec3/r.bam}}]' >"$TMP/secrec3.yml"
cwld_doc secrec3 "$CWLD_SOURCE_DIR/tests/integration/s3/secrec.cwl" "$TMP/secrec3.yml"
check "a record field's required secondary file missing from the bucket fails the run" [ "$RC" = 1 ]
check "  naming the input and the object, with S3's message" has secrec3.err \
	"cwld run: input 'pairs': secondary file 'r.bam.idx' of 's3://cwld-in/sec3/r.bam': s3: HEAD s3://cwld-in/sec3/r.bam.idx: NoSuchKey: "

# s3:// defaults inside a workflow: a step's "in" entry, a step's tool input
printf '12345\n' >"$TMP/up/in.txt"
printf 'abc\n' >"$TMP/up/tool.txt"
run defput s3t put "$TMP/up/in.txt" s3://cwld-in/def/in.txt "$TMP/up/tool.txt" s3://cwld-in/def/tool.txt
check "the defaults' objects go up" [ "$RC" = 0 ]
echo '{}' >"$TMP/empty.json"
cwld_doc stepdef "$CWLD_SOURCE_DIR/tests/integration/s3/stepdef.cwl" "$TMP/empty.json"
check "s3:// defaults of a step's 'in' and of its tool's input are fetched" [ "$RC" = 0 ]
check "  the step read the 'in' default" [ "$(tr -d ' ' <"$TMP/stepdef.outdir/count.txt" 2>/dev/null)" = 6 ]
check "  the other the tool's default" [ "$(tr -d ' ' <"$TMP/stepdef.outdir/tool-count.txt" 2>/dev/null)" = 4 ]
check "  each once" has stepdef.err 'fetched 2 objects (10 bytes) from S3'

# Each s3:// input is downloaded for the step that gets it, when that step
# is about to run (lazy.cwl): all four are looked at first (a missing one
# fails the run before its first step, as above)
printf 'one\n' >"$TMP/up/first.txt"
printf 'late\n' >"$TMP/up/late.txt"
printf 'never\n' >"$TMP/up/never.txt"
printf 'through\n' >"$TMP/up/through.txt"
run lazyput s3t put "$TMP/up/first.txt" s3://cwld-in/lazy/first.txt "$TMP/up/late.txt" s3://cwld-in/lazy/late.txt \
	"$TMP/up/never.txt" s3://cwld-in/lazy/never.txt "$TMP/up/through.txt" s3://cwld-in/lazy/through.txt
printf '%s: {class: File, location: s3://cwld-in/lazy/%s.txt}\n' first first late late never never \
	through through >"$TMP/lazy.yml"
run lazy env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" HOME="$TMP/nohome" \
	"$CWLD" run --no-container --state-dir "$TMP/lazy-state" --s3-endpoint "$URL" -v --leave-workdir \
	--outdir "$TMP/lazy.outdir" "$CWLD_SOURCE_DIR/tests/integration/s3/lazy.cwl" "$TMP/lazy.yml"
check "a workflow whose steps get s3:// inputs at different times succeeds" [ "$RC" = 0 ]
check "  the step after the first read its input and the first's output (made of its input's contents, loaded once downloaded)" \
	[ "$(cat "$TMP/lazy.outdir/two.txt" 2>/dev/null)" = "$(printf 'late\none')" ]
check "  an input passed straight to the outputs is there, downloaded at the end" \
	[ "$(cat "$TMP/lazy.outdir/through.txt" 2>/dev/null)" = through ]
check "  nothing was downloaded before the first step" has lazy.err \
	'0 objects (0 bytes) fetched now, the rest as steps need them'
check "  three objects were, the skipped step's input not" has lazy.err 'fetched 3 objects (17 bytes) from S3'
lazy_in=$(find "$TMP/lazy-state/runs" -path '*/inputs/*' -type f 2>/dev/null | sort)
lazy_one=$(find "$TMP/lazy-state/runs" -path '*/one/one.txt' 2>/dev/null | head -n 1)
check "  the copies are in the run's input area (not the skipped step's)" \
	[ "$(sed 's#.*/##' <<<"$lazy_in" | tr '\n' ' ')" = "first.txt late.txt " ]
mtime() { stat -c %Y "$(grep "/$1\$" <<<"$lazy_in")"; }
# step one wrote one.txt, then took more than a second
check "  the second step's input came after the first step had run" \
	[ -n "$lazy_one" ] && [ "$(mtime late.txt)" -gt "$(stat -c %Y "$lazy_one")" ]
check "  the first step's before it ended" [ "$(mtime first.txt)" -le "$(stat -c %Y "$lazy_one")" ]

# --- cwld run --output-location: outputs stored in S3 ---------------------------
# s3get KEY: the object's bytes on stdout
s3get() { s3t get "s3://$1" "$TMP/obj" >/dev/null 2>&1 && cat "$TMP/obj"; }
# objs JSON: "LOCATION SIZE HAS_PATH" of every File and Directory in an
# output object
objs() {
	python3 -c 'import json, sys
def walk(v):
    if isinstance(v, list):
        for x in v: walk(x)
    elif isinstance(v, dict):
        if v.get("class") in ("File", "Directory"):
            print(v["location"], v.get("size", "-"), "path" in v or "dirname" in v)
            walk(v.get("listing", [])); walk(v.get("secondaryFiles", []))
        else:
            for x in v.values(): walk(x)
walk(json.load(open(sys.argv[1])))' "$1"
}
run up env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" HOME="$TMP/nohome" \
	"$CWLD" run --no-container --state-dir "$TMP/state" --s3-endpoint "$URL" \
	--output-location s3://cwld-out/runs/one "$WF" "$TMP/job.yml"
check "a run with s3:// inputs and --output-location succeeds" [ "$RC" = 0 ]
objs "$TMP/up.out" >"$TMP/up.objs"
check "its output object has the three Files at s3:// locations, no path" [ "$(sort "$TMP/up.objs")" = \
	"$(printf 's3://cwld-out/runs/one/count.txt 2 False\ns3://cwld-out/runs/one/joined.txt 8 False\ns3://cwld-out/runs/one/listing.txt 24 False')" ]
check "  with their sha1 checksums" [ "$(grep -c '"checksum": "sha1\$' "$TMP/up.out")" = 3 ]
check "joined.txt is stored, content and size" [ "$(s3get cwld-out/runs/one/joined.txt)" = "$(printf 'AAA\nBBB')" ]
check "listing.txt too" [ "$(s3get cwld-out/runs/one/listing.txt)" = "$(printf './sub dir/y.bin\n./x.txt')" ]
check "count.txt too" [ "$(s3get cwld-out/runs/one/count.txt | tr -d ' ')" = 4 ]
while read -r loc size _; do
	s3t head "$loc" >"$TMP/h.out" 2>&1
	check "  $loc holds $size bytes, as reported" grep -q "ok size=$size " "$TMP/h.out"
done <"$TMP/up.objs"
check "the uploads were logged" has up.err 'uploaded 3 objects (34 bytes) to s3://cwld-out/runs/one'
check "no local copy is left without --outdir (staged in the work dir, removed)" \
	[ -z "$(ls -A "$TMP/state/runs" 2>/dev/null)" ]

DWF=$CWLD_SOURCE_DIR/tests/integration/s3/dirout.cwl
run updir env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" HOME="$TMP/nohome" \
	"$CWLD" run --no-container --state-dir "$TMP/state" --s3-endpoint "$URL" --outdir "$TMP/updir.outdir" \
	--output-location s3://cwld-out/runs/two/ "$DWF"
check "a Directory output goes up as its files" [ "$RC" = 0 ]
s3t ls s3://cwld-out/runs/two/ 2>/dev/null | grep -v ': ok ' | cut -d' ' -f1-2 | sort >"$TMP/updir.ls"
check "  PREFIX/NAME/..., an empty directory as a 'NAME/' marker" [ "$(cat "$TMP/updir.ls")" = \
	"$(printf '0 runs/two/out/empty/\n3 runs/two/out/1.txt\n3 runs/two/out/sub/2\n3 runs/two/top.txt')" ]
check "  the nested file with a space in its name" [ "$(s3get 'cwld-out/runs/two/out/sub/2 two.txt')" = two ]
check "  the Directory's location is its prefix" grep -q '"location": "s3://cwld-out/runs/two/out/"' "$TMP/updir.out"
check "  its listing points into it" grep -q '"location": "s3://cwld-out/runs/two/out/sub/2 two.txt"' "$TMP/updir.out"
check "with --outdir the local copies stay" [ "$(cat "$TMP/updir.outdir/out/sub/2 two.txt" 2>/dev/null)" = two ]
printf '%s\n' 'a: {class: File, location: s3://cwld-out/runs/two/top.txt}' \
	'b: {class: File, location: s3://cwld-out/runs/two/out/1.txt}' \
	'd: {class: Directory, location: s3://cwld-out/runs/two/out/}' >"$TMP/back.yml"
cwld_s3 back "$SK" "$TMP/back.yml"
check "the uploaded outputs read back as inputs of another run" \
	[ "$(cat "$TMP/back.outdir/listing.txt" 2>/dev/null)" = "$(printf './1.txt\n./sub/2 two.txt')" ]

run upnob env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" HOME="$TMP/nohome" \
	"$CWLD" run --no-container --state-dir "$TMP/state2" --s3-endpoint "$URL" \
	--output-location s3://cwld-nosuch/out "$WF" "$TMP/job.yml"
check "an output location in a missing bucket fails the run, exit status 1" [ "$RC" = 1 ]
check "  before anything ran, naming the location and S3's error" grep -qE \
	"^cwld run: output location s3://cwld-nosuch/out: s3: .*NoSuchBucket: " "$TMP/upnob.err"
check "  no input was fetched, no step started" [ -z "$(grep -E 'fetched|started' "$TMP/upnob.err")" ]
check "  and it prints no output object" [ ! -s "$TMP/upnob.out" ]
# a tool that works for a second: time to act while it runs
printf '%s\n' 'cwlVersion: v1.2' 'class: CommandLineTool' \
	"baseCommand: [sh, -c, 'sleep 1; echo done > slow.txt']" 'inputs: []' \
	'outputs: {f: {type: File, outputBinding: {glob: slow.txt}}}' >"$TMP/slow.cwl"
run upcred env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="${SK}x" HOME="$TMP/nohome" \
	"$CWLD" run --no-container --state-dir "$TMP/state2" --s3-endpoint "$URL" \
	--output-location s3://cwld-out/refused "$TMP/slow.cwl"
check "refused credentials fail the run before it starts too (exit status 1)" [ "$RC" = 1 ]
check "  with S3's error" grep -qE "^cwld run: output location s3://cwld-out/refused: s3: .*SignatureDoesNotMatch" "$TMP/upcred.err"
check "  no step started" [ -z "$(grep started "$TMP/upcred.err")" ]

# A bucket that goes away while the run works: the upload fails at the end.
bucket() { # bucket create|delete NAME
	"${CWLD_CACHE_DIR:-$HOME/.cache/cwld}/moto-venv/bin/python" -c 'import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
getattr(s3, sys.argv[4] + "_bucket")(Bucket=sys.argv[5])' "$URL" "$AK" "$SK" "$1" "$2"
}
bucket create cwld-gone
env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" HOME="$TMP/nohome" \
	"$CWLD" run --no-container --state-dir "$TMP/state2" --s3-endpoint "$URL" \
	--output-location s3://cwld-gone/out "$TMP/slow.cwl" >"$TMP/upgone.out" 2>"$TMP/upgone.err" &
GPID=$!
for _ in $(seq 1 200); do
	grep -q "started" "$TMP/upgone.err" 2>/dev/null && break
	sleep 0.05
done
bucket delete cwld-gone
RC=0
wait "$GPID" || RC=$?
check "an output bucket deleted during the run fails it at the upload, exit status 1" [ "$RC" = 1 ]
check "  naming the location, the file and S3's error" grep -qE \
	"^cwld run: run [0-9a-f]+ failed: uploading the outputs to s3://cwld-gone/out: uploading '[^']+/outputs/slow.txt': s3: PUT s3://cwld-gone/out/slow.txt: NoSuchBucket: " "$TMP/upgone.err"
check "  and prints no output object" [ ! -s "$TMP/upgone.out" ]
check "  the run is recorded failed, with that reason" [ "$(sql "$TMP/state2/cwld.db" \
	"select count(*) from runs where state = 'failed' and error like '%cwld-gone/out%NoSuchBucket%'")" = 1 ]
check "  the local outputs stay, in the work dir" [ -n "$(ls "$TMP"/state2/runs/*/outputs/slow.txt 2>/dev/null)" ]
run upbad "$CWLD" run --no-container --state-dir "$TMP/state2" --output-location http://x/y "$WF" "$TMP/job.yml"
check "an output location that is not s3:// is a usage error (2), before the run" [ "$RC" = 2 ]
check "  saying so" has upbad.err 'only s3://bucket/prefix is supported'

# SIGINT while a large output goes up in parts: the upload is cancelled and
# its multipart upload aborted on the server before cwld exits
printf '%s\n' 'cwlVersion: v1.2' 'class: CommandLineTool' \
	"baseCommand: [sh, -c, 'head -c 157286400 /dev/zero > big.bin']" 'inputs: []' \
	'outputs: {f: {type: File, outputBinding: {glob: big.bin}}}' >"$TMP/big.cwl"
env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" HOME="$TMP/nohome" \
	"$CWLD" run --no-container --state-dir "$TMP/state3" --s3-endpoint "$URL" \
	--output-location s3://cwld-out/runs/int/ "$TMP/big.cwl" >"$TMP/upint.out" 2>"$TMP/upint.err" &
UPID=$!
for _ in $(seq 1 2000); do
	ls "$TMP"/state3/runs/*/outputs/big.bin >/dev/null 2>&1 && break
	sleep 0.01
done
sleep 0.3
kill -INT "$UPID"
RC=0
wait "$UPID" || RC=$?
check "SIGINT during the upload of a 150 MiB output fails the run (exit 1)" [ "$RC" = 1 ]
check "  saying the uploads were cancelled" grep -q 'failed: uploading the outputs to s3://cwld-out/runs/int/: cancelled' "$TMP/upint.err"
check "  no output object" [ ! -s "$TMP/upint.out" ]
check "  no multipart upload is left behind" [ "$(uploads cwld-out)" = 0 ]
check "  and no object" [ -z "$(s3t ls s3://cwld-out/runs/int/ 2>/dev/null | grep -v ': ok ')" ]

# --- the daemon: s3:// inputs and output_location --------------------------------
MURL=$URL
# dstart: a daemon on TMP/dstate with moto as its S3 and keys in AWS_*;
# sets DPID and DURL
dstart() {
	env AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" HOME="$TMP/nohome" \
		"$CWLD" serve --listen 127.0.0.1:0 --state-dir "$TMP/dstate" \
		--root "$CWLD_SOURCE_DIR/tests/integration/s3" --s3-endpoint "$MURL" \
		>"$TMP/serve.out" 2>>"$TMP/serve.err" &
	DPID=$!
	DURL=
	for _ in $(seq 1 200); do
		DURL=$(sed -n 's/^listening on //p' "$TMP/serve.out")
		[ -n "$DURL" ] && break
		sleep 0.05
	done
}
dstart
check "a daemon with --s3-endpoint starts" [ -n "$DURL" ]
# dreq METHOD PATH [curl args]: the body on stdout, the status in $TMP/code
dreq() {
	local m=$1 p=$2
	shift 2
	curl -s -o "$TMP/body" -w '%{http_code}' -X "$m" "$DURL$p" "$@" >"$TMP/code" || echo 000 >"$TMP/code"
	cat "$TMP/body"
}
jget() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else v))' "$1"; }
# dwait RUN: until it has ended; its final state on stdout
dwait() {
	local st=
	for _ in $(seq 1 600); do
		st=$(dreq GET "/api/v1/runs/$1" | jget state)
		case $st in success | failed | cancelled) break ;; esac
		sleep 0.1
	done
	echo "$st"
}
JOB='"inputs": {"a": {"class": "File", "location": "s3://cwld-in/wf/a.txt"},
	"b": {"class": "File", "location": "s3://cwld-in/wf/b.txt"},
	"d": {"class": "Directory", "location": "s3://cwld-in/wf/dir"}}'
drun() { # drun EXTRA_FIELDS: a run of wf.cwl with the s3:// job; its id
	dreq POST /api/v1/runs -H 'Content-Type: application/json' \
		-d "{\"workflow\": \"wf.cwl\", \"no_container\": true, $1 $JOB}" | jget id
}
rid=$(drun '"output_location": "s3://cwld-out/daemon/ok",')
check "a run with s3:// inputs and output_location is accepted (201)" [ "$(cat "$TMP/code")" = 201 ] && [ -n "$rid" ]
check "  and ends success" [ "$(dwait "$rid")" = success ]
dreq GET "/api/v1/runs/$rid" | jget outputs >"$TMP/dout.json"
objs "$TMP/dout.json" | sort >"$TMP/dout.objs"
check "  its outputs have s3:// locations under the prefix, sizes, no path" [ "$(cat "$TMP/dout.objs")" = \
	"$(printf 's3://cwld-out/daemon/ok/count.txt 2 False\ns3://cwld-out/daemon/ok/joined.txt 8 False\ns3://cwld-out/daemon/ok/listing.txt 24 False')" ]
check "  and sha1 checksums" [ "$(grep -o '"checksum": "sha1\$[0-9a-f]*"' "$TMP/dout.json" | wc -l)" = 3 ]
while read -r loc size _; do
	s3t head "$loc" >"$TMP/h.out" 2>&1
	check "  $loc exists with $size bytes" grep -q "ok size=$size " "$TMP/h.out"
done <"$TMP/dout.objs"
check "  joined.txt holds both inputs" [ "$(s3get cwld-out/daemon/ok/joined.txt)" = "$(printf 'AAA\nBBB')" ]
check "  listing.txt the Directory's files" [ "$(s3get cwld-out/daemon/ok/listing.txt)" = "$(printf './sub dir/y.bin\n./x.txt')" ]
check "  the daemon logged the fetch and the upload" grep -q "run $rid: uploaded 3 objects (34 bytes) to s3://cwld-out/daemon/ok" "$TMP/serve.err"
check "  no local copy of the outputs is kept" [ ! -e "$TMP/dstate/outputs/$rid" ]

rid=$(drun '"output_location": "s3://cwld-nosuch/d",')
check "a run whose output bucket is missing is accepted" [ "$(cat "$TMP/code")" = 201 ]
check "  and ends failed" [ "$(dwait "$rid")" = failed ]
dreq GET "/api/v1/runs/$rid" >"$TMP/dfail.json"
check "  its error names the location and S3's error" grep -qE \
	"^output location s3://cwld-nosuch/d: s3: .*NoSuchBucket: " <<<"$(jget error <"$TMP/dfail.json")"
check "  and it reports no outputs" [ -z "$(jget outputs <"$TMP/dfail.json")" ]
check "  no step ran, no input was fetched" [ "$(sql "$TMP/dstate/cwld.db" \
	"select count(*) from steps where run_id = '$rid'")" = 0 ] && [ ! -e "$TMP/dstate/runs/$rid/inputs" ]

rid=$(dreq POST /api/v1/runs -H 'Content-Type: application/json' \
	-d '{"workflow": "wf.cwl", "no_container": true, "inputs": {"a": {"class": "File", "location": "s3://cwld-in/wf/nope"},
	"b": {"class": "File", "location": "s3://cwld-in/wf/b.txt"}, "d": {"class": "Directory", "location": "s3://cwld-in/wf/dir"}}}' | jget id)
check "a run with a missing s3:// input ends failed" [ "$(dwait "$rid")" = failed ]
check "  with S3's message" [ "$(dreq GET "/api/v1/runs/$rid" | jget error)" = \
	's3: HEAD s3://cwld-in/wf/nope: NoSuchKey: The specified key does not exist.' ]
dreq POST /api/v1/runs -H 'Content-Type: application/json' \
	-d "{\"workflow\": \"wf.cwl\", \"output_location\": \"http://x/y\", $JOB}" >"$TMP/dbad.json"
check "an output_location that is not s3:// is a 400" [ "$(cat "$TMP/code")" = 400 ]
check "  saying so" grep -q 'only s3://bucket/prefix is supported' "$TMP/dbad.json"
dreq POST /api/v1/runs -H 'Content-Type: application/json' \
	-d '{"workflow": "wf.cwl", "inputs": {"a": {"class": "File", "location": "http://example.com/a"}}}' >/dev/null
check "other remote input locations are still refused (400)" [ "$(cat "$TMP/code")" = 400 ]

python3 -c 'import json, sys; print(json.dumps({"workflow_text": open(sys.argv[1]).read(),
	"no_container": True, "output_location": "s3://cwld-out/daemon/int"}))' "$TMP/big.cwl" >"$TMP/dbig.json"
rid=$(dreq POST /api/v1/runs -H 'Content-Type: application/json' -d @"$TMP/dbig.json" | jget id)
for _ in $(seq 1 2000); do
	[ -e "$TMP/dstate/outputs/$rid/big.bin" ] && break
	sleep 0.01
done
check "while its outputs go up, a run is still running" [ "$(dreq GET "/api/v1/runs/$rid" | jget state)" = running ]
sleep 0.3
dreq POST "/api/v1/runs/$rid/cancel" >/dev/null
check "  a cancel then is accepted (202)" [ "$(cat "$TMP/code")" = 202 ]
check "  the run ends cancelled" [ "$(dwait "$rid")" = cancelled ]
check "  saying when" [ "$(dreq GET "/api/v1/runs/$rid" | jget error)" = 'cancelled while its outputs were uploaded' ]
sleep 1
check "  its multipart upload is aborted on the server" [ "$(uploads cwld-out)" = 0 ]

run dsub "$CWLD" submit --server "$DURL" --wait --output-location s3://cwld-out/daemon/cli \
	"$CWLD_SOURCE_DIR/tests/integration/s3/wf.cwl" "$TMP/job.yml"
check "cwld submit --output-location --wait succeeds" [ "$RC" = 0 ]
check "  and prints the output object with s3:// locations" grep -q '"location": "s3://cwld-out/daemon/cli/joined.txt"' "$TMP/dsub.out"
check "  whose objects exist" [ "$(s3get cwld-out/daemon/cli/joined.txt)" = "$(printf 'AAA\nBBB')" ]
RC=0
kill -TERM "$DPID" 2>/dev/null && wait "$DPID" || RC=$?
DPID=
check "the daemon stops cleanly (status 0)" [ "$RC" = 0 ]

# a daemon stopped while a run's step runs: the next one fetches its s3://
# input again, runs the step and uploads
printf '%s\n' 'cwlVersion: v1.2' 'class: CommandLineTool' \
	"baseCommand: [sh, -c, 'sleep 2; cat \"\$0\" > copy.txt']" \
	'inputs: {a: {type: File, inputBinding: {position: 1}}}' \
	'outputs: {c: {type: File, outputBinding: {glob: copy.txt}}}' >"$TMP/slow.cwl"
python3 -c 'import json, sys; print(json.dumps({"workflow_text": open(sys.argv[1]).read(),
	"no_container": True, "output_location": "s3://cwld-out/daemon/resumed",
	"inputs": {"a": {"class": "File", "location": "s3://cwld-in/wf/a.txt"}}}))' "$TMP/slow.cwl" >"$TMP/dslow.json"
dstart
rid=$(dreq POST /api/v1/runs -H 'Content-Type: application/json' -d @"$TMP/dslow.json" | jget id)
for _ in $(seq 1 200); do
	grep -q "run $rid: step 'main' started" "$TMP/serve.err" && break
	sleep 0.05
done
kill -TERM "$DPID" 2>/dev/null && wait "$DPID" || true
check "a run stopped with the daemon mid-step is still running" \
	[ "$(sql "$TMP/dstate/cwld.db" "select state from runs where id = '$rid'")" = running ]
dstart
check "  the next daemon resumes it, to success" [ "$(dwait "$rid")" = success ]
check "  with its output in S3" [ "$(dreq GET "/api/v1/runs/$rid" | jget outputs.c.location)" = \
	s3://cwld-out/daemon/resumed/copy.txt ] && [ "$(s3get cwld-out/daemon/resumed/copy.txt)" = AAA ]
# the first daemon had downloaded it for the step it stopped in
check "  (its input fetched again by the next daemon)" [ "$(grep -c "run $rid: fetched 1 object (4 bytes) from S3" "$TMP/serve.err")" = 1 ]
RC=0
kill -TERM "$DPID" 2>/dev/null && wait "$DPID" || RC=$?
DPID=
check "the daemons stop cleanly" [ "$RC" = 0 ]
check "  with no sanitizer report" [ -z "$(grep Sanitizer "$TMP/serve.err")" ]

# --- the server killed in the middle of a transfer -----------------------------
# stop_mid_get DIR: once big.bin's temporary download file under DIR has
# bytes (or KPID ended), stops KPID so the server can be killed mid-body;
# f is that file, empty when none appeared
stop_mid_get() {
	f=
	for _ in $(seq 1 2000); do
		f=$(find "$1" -name '.big.bin.s3tmp.*' -size +0 2>/dev/null | head -n 1 || true)
		[ -n "$f" ] && break
		kill -0 "$KPID" 2>/dev/null || break
		sleep 0.005
	done
	kill -STOP "$KPID" 2>/dev/null || true
}
URL2=$(bash "$MOTO" start "$M2")
# (this one checks no signatures: its bucket is made by a plain PUT)
curl -s -X PUT "$URL2/cwld-in" >/dev/null
"$TOOL" --endpoint "$URL2" --access-key a --secret-key b put "$TMP/up/big.bin" s3://cwld-in/big.bin >/dev/null 2>&1 ||
	not_ok "the 200 MiB object for the kill test could not be stored"
mkdir -p "$TMP/kill"
"$TOOL" --endpoint "$URL2" --access-key a --secret-key b --attempts 3 --retry-ms 100 \
	get s3://cwld-in/big.bin "$TMP/kill/big.bin" >"$TMP/kill.out" 2>"$TMP/kill.err" &
KPID=$!
stop_mid_get "$TMP/kill"
check "the download had started when the server was killed" [ -n "$f" ]
kill -KILL "$(cat "$M2/pid")"
kill -CONT "$KPID" 2>/dev/null || true
RC=0
wait "$KPID" || RC=$?
check "the download fails" [ "$RC" = 1 ]
check "saying the transfer was cut, and the retries found no server" \
	grep -qE "s3: GET s3://cwld-in/big.bin: .*after 3 attempts; the first: (transfer closed with [0-9]+ bytes remaining|Recv failure)" "$TMP/kill.err"
check "no partial file, no temporary file" [ -z "$(ls -A "$TMP/kill")" ]
sed 's/^/# /' "$TMP/kill.err" | tail -n 1
bash "$MOTO" stop "$M2" >/dev/null 2>&1

URL2=$(bash "$MOTO" start "$M2")
curl -s -X PUT "$URL2/cwld-up" >/dev/null
"$TOOL" --endpoint "$URL2" --access-key a --secret-key b --attempts 2 --retry-ms 100 --concurrency 1 \
	put "$TMP/up/big.bin" s3://cwld-up/big.bin >"$TMP/killput.out" 2>"$TMP/killput.err" &
KPID=$!
# killed once the first part is in (moto logs each answered request)
for _ in $(seq 1 400); do
	grep -q 'partNumber=1&' "$M2/moto.log" 2>/dev/null && break
	sleep 0.025
done
kill -KILL "$(cat "$M2/pid")"
RC=0
wait "$KPID" || RC=$?
check "a multipart upload to a server killed meanwhile fails" [ "$RC" = 1 ]
check "naming the object and the part" grep -qE 's3: PUT s3://cwld-up/big.bin: (part [0-9]+|CompleteMultipartUpload): .*after 2 attempts' "$TMP/killput.err"
check "and that the upload could not be aborted" has killput.err 'AbortMultipartUpload failed too'
sed 's/^/# /' "$TMP/killput.err" | tail -n 1

# --- the same at the level of a run: cwld run's input fetch and its upload ----
# (moto without signature checks: any keys do)
bash "$MOTO" stop "$M2" >/dev/null 2>&1 || true
URL2=$(bash "$MOTO" start "$M2")
curl -s -X PUT "$URL2/cwld-in" >/dev/null
"$TOOL" --endpoint "$URL2" --access-key a --secret-key b put "$TMP/up/big.bin" s3://cwld-in/big.bin >/dev/null 2>&1 ||
	not_ok "the 200 MiB object for the run kill test could not be stored"
printf 'f: {class: File, location: s3://cwld-in/big.bin}\n' >"$TMP/bigjob.yml"
env AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b HOME="$TMP/nohome" \
	"$CWLD" run --no-container --state-dir "$TMP/state-kill" --s3-endpoint "$URL2" \
	--outdir "$TMP/runkill.outdir" "$CWLD_SOURCE_DIR/tests/integration/s3/count.cwl" "$TMP/bigjob.yml" >"$TMP/runkill.out" 2>"$TMP/runkill.err" &
KPID=$!
stop_mid_get "$TMP/state-kill"
check "cwld run: the input's download had started when the server was killed" [ -n "$f" ]
kill -KILL "$(cat "$M2/pid")"
kill -CONT "$KPID" 2>/dev/null || true
RC=0
wait "$KPID" || RC=$?
check "  the run fails (exit 1)" [ "$RC" = 1 ]
check "  naming the step, the object, the transfer cut and the retries" \
	grep -qE "^cwld run: run [^ ]+ failed: step 'main': s3: GET s3://cwld-in/big.bin: .*after [0-9]+ attempts" "$TMP/runkill.err"
check "  no output object" [ ! -s "$TMP/runkill.out" -a ! -e "$TMP/runkill.outdir" ]
check "  and no half file is left" [ -z "$(find "$TMP/state-kill/runs" -path '*/inputs/*' -type f 2>/dev/null)" ]
bash "$MOTO" stop "$M2" >/dev/null 2>&1

URL2=$(bash "$MOTO" start "$M2")
curl -s -X PUT "$URL2/cwld-up" >/dev/null
env AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b HOME="$TMP/nohome" \
	"$CWLD" run --no-container --state-dir "$TMP/state-kill2" --s3-endpoint "$URL2" \
	--output-location s3://cwld-up/runkill/ "$TMP/big.cwl" >"$TMP/runkillput.out" 2>"$TMP/runkillput.err" &
KPID=$!
for _ in $(seq 1 800); do
	grep -q 'partNumber=1&' "$M2/moto.log" 2>/dev/null && break
	kill -0 "$KPID" 2>/dev/null || break
	sleep 0.025
done
check "cwld run: its output's multipart upload had begun when the server was killed" grep -q 'partNumber=1&' "$M2/moto.log"
kill -KILL "$(cat "$M2/pid")"
RC=0
wait "$KPID" || RC=$?
check "  the run fails (exit 1)" [ "$RC" = 1 ]
check "  saying which output could not be stored" \
	grep -qE "failed: uploading the outputs to s3://cwld-up/runkill/: uploading '[^']+big.bin': s3: PUT s3://cwld-up/runkill/big.bin: " "$TMP/runkillput.err"
check "  and prints no output object" [ ! -s "$TMP/runkillput.out" ]
check "  the run is recorded failed" [ "$(sql "$TMP/state-kill2/cwld.db" "select state from runs")" = failed ]
bash "$MOTO" stop "$M2" >/dev/null 2>&1
finish
