#!/bin/bash
# dockerPull from a real registry (Debian's docker-registry, started here on
# 127.0.0.1:<free port> with its storage in $TMP; the engine takes 127/8
# registries as insecure, so plain HTTP works): an image built and pushed
# here, then removed locally, is pulled by `cwld run` and the tool runs in
# it; on a terminal the running step's line shows the pull's bytes and
# layers. With the registry stopped, a missing image fails the run (exit 1)
# with a message naming the image and the engine's error. Images made here
# carry the label cwld-test.pull=<pid> and are removed by exact name.
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || { echo "not ok - script(1) from util-linux is needed"; exit 1; }
if ! command -v docker-registry >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		docker-registry >/dev/null 2>&1 || true
fi
if ! command -v docker-registry >/dev/null; then
	echo "skipped: docker-registry is not installed and apt-get could not install it"
	exit 0
fi

SOCK=/var/run/docker.sock
REG_PID=
IMAGES=()
started=$(date +%s.%N)
api() { # api METHOD PATH [curl args...]: body on stdout, fails on HTTP >= 400
	local m=$1 p=$2
	shift 2
	curl -sS --fail-with-body --unix-socket "$SOCK" -X "$m" "$@" "http://d/v1.41$p"
}
exists() { curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" "http://d/v1.41/images/$1/json" | grep -q 200; }
stop_registry() {
	if [ -n "$REG_PID" ]; then
		kill "$REG_PID" 2>/dev/null || true
		wait "$REG_PID" 2>/dev/null || true
		REG_PID=
	fi
}
cleanup() {
	local i
	stop_registry
	for i in "${IMAGES[@]}"; do
		curl -s -o /dev/null --unix-socket "$SOCK" -X DELETE "http://d/v1.41/images/$i?force=1"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
# no_error_lines FILE: every JSON line of an engine answer is free of "error"
no_error_lines() {
	python3 - "$1" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    line = line.strip()
    if line and "error" in json.loads(line):
        sys.exit("engine: " + line)
EOF
}
on_tty() { # on_tty CAPTURE CMD...: CMD on a pseudo-terminal, what it drew in CAPTURE
	local cap=$1; shift
	local cmd
	cmd=$(printf '%q ' "$@")
	# wide enough for the whole pulling line (a new pty has no size: 80)
	TERM=xterm script -qfec "stty cols 200 rows 40; $cmd" /dev/null </dev/null >"$cap"
}

# --- a registry of our own ---
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$TMP/registry"
cat >"$TMP/registry.yml" <<EOF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $TMP/registry}
  delete: {enabled: true}
http:
  addr: 127.0.0.1:$PORT
EOF
docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 50); do
	curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break
	sleep 0.1
done
check "the registry answers on 127.0.0.1:$PORT" curl -sf -o /dev/null "http://127.0.0.1:$PORT/v2/"

# --- an image only the registry has: two layers of our own over debian ---
IMG=127.0.0.1:$PORT/cwld-test/pull:$$
IMAGES+=("$IMG")
mkdir -p "$TMP/ctx"
cat >"$TMP/ctx/Dockerfile" <<EOF
FROM debian:stable-slim
LABEL cwld-test.pull=$$
RUN head -c 48000000 /dev/urandom >/blob
RUN echo "pulled $$" >/id
EOF
tar -C "$TMP/ctx" -cf "$TMP/ctx.tar" Dockerfile
api POST "/build?t=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$IMG")&rm=1&forcerm=1" \
	-H 'Content-Type: application/x-tar' --data-binary @"$TMP/ctx.tar" >"$TMP/build.out"
check "the test image is built" no_error_lines "$TMP/build.out"
t0=$(date +%s.%N)
api POST "/images/127.0.0.1:$PORT/cwld-test/pull/push?tag=$$" -H 'X-Registry-Auth: e30=' >"$TMP/push.out"
check "the test image is pushed" no_error_lines "$TMP/push.out"
check "the registry holds the tag" grep -q "\"$$\"" <(curl -sf "http://127.0.0.1:$PORT/v2/cwld-test/pull/tags/list")
echo "# push: $(python3 -c "import sys; print('%.1fs' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$(date +%s.%N)")"
# the name and its own layers gone here (debian's stay: in use)
api DELETE "/images/$IMG" >/dev/null
check "the image is gone locally" bash -c "! curl -s -o /dev/null -w '%{http_code}' --unix-socket $SOCK http://d/v1.41/images/$IMG/json | grep -q 200"

# --- pulled by cwld run, on a terminal ---
mkdir -p "$TMP/wf"
cat >"$TMP/wf/tool.cwl" <<EOF
cwlVersion: v1.2
class: CommandLineTool
requirements: {DockerRequirement: {dockerPull: "$IMG"}}
baseCommand: [cat, /id]
inputs: []
outputs: {out: {type: stdout}}
stdout: id.txt
EOF
rc=0
t0=$(date +%s.%N)
on_tty "$TMP/pull.tty" "$CWLD" run --progress always --state-dir "$TMP/state" \
	--outdir "$TMP/o1" "$TMP/wf/tool.cwl" || rc=$?
echo "# pull and run: $(python3 -c "import sys; print('%.1fs' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$(date +%s.%N)")"
check "the run with a pull exits 0" test "$rc" -eq 0
check "the tool ran in the pulled image" grep -qx "pulled $$" "$TMP/o1/id.txt"
check "the image is present now" exists "$IMG"
# the running step's line while pulling, e.g.
#   running   0.8s  main  pulling 127.0.0.1:PORT/cwld-test/pull:PID 12.3/48.1 MB (1/3 layers)
line=$(grep -ao "[0-9.]*s  main  pulling $IMG [0-9.]*/[0-9.]* [kMG]B ([0-9]/3 layers)" \
	"$TMP/pull.tty" | tail -n 1 || true)
echo "# terminal: ${line:-<no pulling line>}"
check "the terminal showed the pull's bytes and layers" test -n "$line"
check "the terminal later showed the step in the image" grep -aq "main  in $IMG" "$TMP/pull.tty"
check "the run said it pulled" grep -aq "image '$IMG' pulled" "$TMP/pull.tty"

# --- no registry answering: a clear error ---
stop_registry
MISSING=127.0.0.1:$PORT/cwld-test/pull:missing-$$
IMAGES+=("$MISSING")
sed "s|$IMG|$MISSING|" "$TMP/wf/tool.cwl" >"$TMP/wf/missing.cwl"
rc=0
"$CWLD" run --state-dir "$TMP/state" --outdir "$TMP/o2" "$TMP/wf/missing.cwl" \
	>"$TMP/missing.out" 2>"$TMP/missing.err" || rc=$?
check "a pull with no registry exits 1" test "$rc" -eq 1
check "the error names the image" grep -q "image '$MISSING' not found locally and could not be pulled" "$TMP/missing.err"
check "the error has the engine's words" grep -q "connection refused" "$TMP/missing.err"
echo "# error: $(grep -m1 'could not be pulled' "$TMP/missing.err" || true)"
check "the missing image was not made" bash -c "! curl -s -o /dev/null -w '%{http_code}' --unix-socket $SOCK http://d/v1.41/images/$MISSING/json | grep -q 200"

echo "# total: $(python3 -c "import sys; print('%.1fs' % (float(sys.argv[2]) - float(sys.argv[1])))" "$started" "$(date +%s.%N)")"
finish
