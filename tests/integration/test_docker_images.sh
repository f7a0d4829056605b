#!/bin/bash
# Every way a DockerRequirement names its image, on the real engine:
# dockerLoad (a file with a name, a URL without), dockerImport (with a name,
# and tagged by the tarball's hash), dockerFile (built once: the second run
# builds nothing), `cwld run --build-missing` and `cwld dockerfile`; each
# tool prints a marker only its image holds. Errors: a missing tarball, a
# corrupt one, a Dockerfile whose RUN fails -> exit 1 and the engine's
# message. Images are made through the Engine API with curl (test setup);
# every image and tag made here is named cwld-test-<pid>-* or derived from
# text holding the pid, and removed at the end.
. "$(dirname "$0")/lib.sh"
. "$CWLD_SOURCE_DIR/tests/integration/lib-busybox-image.sh"
SOCK=/var/run/docker.sock
P=cwld-test-$$
S=$TMP/state
IMAGES=()   # removed at exit
SERVER=     # the http server's pid
n=0

api() { # api METHOD PATH [curl args...]: body on stdout, fails on HTTP >= 400
	local m=$1 p=$2
	shift 2
	curl -sS --fail-with-body --unix-socket "$SOCK" -X "$m" "$@" "http://d/v1.41$p"
}
exists() { curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" "http://d/v1.41/images/$1/json" | grep -q 200; }
gone() { ! exists "$1"; }
created() { api GET "/images/$1/json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Created"])'; }
cleanup() {
	local i
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
	for i in "${IMAGES[@]}"; do
		curl -s -o /dev/null --unix-socket "$SOCK" -X DELETE "http://d/v1.41/images/$i?force=1"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
# run NAME CWLD-RUN-ARGS...: output object in $TMP/NAME.json, stderr in
# $TMP/NAME.err, exit status in $rc, work in $TMP/NAME.out/
run() {
	local name=$1
	shift
	set +e
	"$CWLD" run --state-dir "$S" --outdir "$TMP/$name.out" "$@" >"$TMP/$name.json" 2>"$TMP/$name.err"
	rc=$?
	set -e
}
# attempt_image: the image the last attempt of the store ran in
attempt_image() { sql "$S/cwld.db" "select image from attempts order by id desc limit 1"; }
tool() { # tool FILE REQUIREMENTS-YAML COMMAND: a tool printing COMMAND's output
	cat >"$1" <<EOT
cwlVersion: v1.2
class: CommandLineTool
requirements:
$2
inputs: []
baseCommand: [sh, -c, '$3']
stdout: out.txt
outputs:
  out: stdout
EOT
}

cwld_busybox_image
mkdir -p "$TMP/www"

# ---- dockerLoad ------------------------------------------------------------
# A distinctive image: a container of debian:stable-slim (never started)
# with a marker copied in, committed, saved, then removed again.
printf 'load-%s\n' "$$" >"$TMP/load-marker"
tar -C "$TMP" -cf "$TMP/marker.tar" load-marker
cid=$(api POST /containers/create -H 'Content-Type: application/json' \
	-d "{\"Image\":\"debian:stable-slim\",\"Labels\":{\"cwld-test\":\"$P\"}}" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
api PUT "/containers/$cid/archive?path=/" -H 'Content-Type: application/x-tar' --data-binary @"$TMP/marker.tar" >/dev/null
IMAGES+=("$P-load:v1")
api POST "/commit?container=$cid&repo=$P-load&tag=v1" >/dev/null
api DELETE "/containers/$cid?force=1" >/dev/null
api GET "/images/$P-load:v1/get" -o "$TMP/load.tar"
api DELETE "/images/$P-load:v1" >/dev/null
check "test setup: the saved image is gone before cwld loads it" gone "$P-load:v1"

tool "$TMP/load.cwl" "  DockerRequirement:
    dockerLoad: load.tar
    dockerPull: $P-load:v1" 'cat /load-marker'
cd /    # the tarball is found relative to the document, not here
run load "$TMP/load.cwl"
cd - >/dev/null
check "dockerLoad (file, relative to the document): exit 0" test "$rc" = 0
check "dockerLoad: the tool ran in the loaded image" grep -qx "load-$$" "$TMP/load.out/out.txt"
check "dockerLoad: the store names the image" test "$(attempt_image)" = "$P-load:v1"
check "dockerLoad: the engine said what it loaded" grep -q "image '$P-load:v1' loaded from 'load.tar'" "$TMP/load.err"

# Without a name, from a URL: debian:stable-slim re-tagged, saved, untagged;
# the image is what the engine's "Loaded image" line names.
IMAGES+=("$P-plain:v1")
api POST "/images/debian:stable-slim/tag?repo=$P-plain&tag=v1" >/dev/null
api GET "/images/$P-plain:v1/get" -o "$TMP/www/plain.tar"
api DELETE "/images/$P-plain:v1" >/dev/null
python3 -c 'import http.server,socketserver,sys,os
os.chdir(sys.argv[1])
class Q(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
s = socketserver.TCPServer(("127.0.0.1", 0), Q)
open(sys.argv[2] + ".tmp", "w").write(str(s.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
s.serve_forever()' "$TMP/www" "$TMP/port" &
SERVER=$!
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
port=$(cat "$TMP/port")
tool "$TMP/load-url.cwl" "  DockerRequirement:
    dockerLoad: http://127.0.0.1:$port/plain.tar" 'cat /etc/debian_version'
run load-url "$TMP/load-url.cwl"
check "dockerLoad (URL, no name): exit 0" test "$rc" = 0
check "dockerLoad (URL): downloaded" grep -q "downloaded 'http://127.0.0.1:$port/plain.tar'" "$TMP/load-url.err"
check "dockerLoad (URL): the store names the loaded image" test "$(attempt_image)" = "$P-plain:v1"
check "dockerLoad (URL): the tool ran" test -s "$TMP/load-url.out/out.txt"
tool "$TMP/load-404.cwl" "  DockerRequirement:
    dockerLoad: http://127.0.0.1:$port/no-such.tar" 'true'
run load-404 "$TMP/load-404.cwl"
check "dockerLoad (URL 404): exit 1, says so" bash -c "test $rc = 1 && grep -q \"cannot download 'http://127.0.0.1:$port/no-such.tar': HTTP 404\" '$TMP/load-404.err'"

# ---- dockerImport ------------------------------------------------------------
# A root file system: the busybox test image exported, plus a marker.
cid=$(api POST /containers/create -H 'Content-Type: application/json' \
	-d "{\"Image\":\"cwld-test/busybox:latest\",\"Labels\":{\"cwld-test\":\"$P\"}}" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
api GET "/containers/$cid/export" -o "$TMP/rootfs.tar"
api DELETE "/containers/$cid?force=1" >/dev/null
printf 'import-%s\n' "$$" >"$TMP/import-marker"
tar -C "$TMP" -rf "$TMP/rootfs.tar" import-marker
IMAGES+=("$P-import:v1")
tool "$TMP/import.cwl" "  DockerRequirement:
    dockerImport: rootfs.tar
    dockerPull: $P-import:v1" '/bin/cat /import-marker'
run import "$TMP/import.cwl"
check "dockerImport (named): exit 0" test "$rc" = 0
check "dockerImport: the tool ran in the imported image" grep -qx "import-$$" "$TMP/import.out/out.txt"
check "dockerImport: tagged with dockerPull's name" exists "$P-import:v1"
check "dockerImport: the store names the image" test "$(attempt_image)" = "$P-import:v1"

htag=cwld-dockerimport:$(sha256sum "$TMP/rootfs.tar" | cut -c1-16)
IMAGES+=("$htag")
tool "$TMP/import-hash.cwl" "  DockerRequirement:
    dockerImport: rootfs.tar" '/bin/cat /import-marker'
run import-hash "$TMP/import-hash.cwl"
check "dockerImport (no name): exit 0" test "$rc" = 0
check "dockerImport (no name): tagged with the tarball's sha256 ($htag)" test "$(attempt_image)" = "$htag"
check "dockerImport (no name): the tool ran in it" grep -qx "import-$$" "$TMP/import-hash.out/out.txt"
run import-hash2 "$TMP/import-hash.cwl"
check "dockerImport (no name) again: found by its tag, not imported" \
	bash -c "test $rc = 0 && ! grep -q importing '$TMP/import-hash2.err'"

# ---- dockerFile --------------------------------------------------------------
tool "$TMP/df.cwl" "  DockerRequirement:
    dockerFile: |
      FROM debian:stable-slim
      RUN echo dockerfile-$$ > /df-marker" 'cat /df-marker'
dtag=cwld-dockerfile:$(printf 'FROM debian:stable-slim\nRUN echo dockerfile-%s > /df-marker\n' "$$" | sha256sum | cut -c1-16)
IMAGES+=("$dtag")
run df1 "$TMP/df.cwl"
check "dockerFile: exit 0" test "$rc" = 0
check "dockerFile: built" grep -q "building image '$dtag'" "$TMP/df1.err"
check "dockerFile: the tool ran in the built image" grep -qx "dockerfile-$$" "$TMP/df1.out/out.txt"
check "dockerFile: the store names the tag" test "$(attempt_image)" = "$dtag"
c1=$(created "$dtag")
run df2 "$TMP/df.cwl"
check "dockerFile again: exit 0, same output" bash -c "test $rc = 0 && grep -qx 'dockerfile-$$' '$TMP/df2.out/out.txt'"
check "dockerFile again: no build (log)" bash -c "! grep -q 'building image' '$TMP/df2.err'"
check "dockerFile again: no build (same creation time)" test "$(created "$dtag")" = "$c1"

IMAGES+=("$P-df:v1")
tool "$TMP/df-named.cwl" "  DockerRequirement:
    dockerImageId: $P-df:v1
    dockerFile: |
      FROM debian:stable-slim
      RUN echo named-$$ > /df-marker" 'cat /df-marker'
run df-named "$TMP/df-named.cwl"
check "dockerFile with dockerImageId: tagged with it" bash -c "test $rc = 0 && test \"\$(cat '$TMP/df-named.out/out.txt')\" = named-$$" 
check "dockerFile with dockerImageId: the image has that tag" exists "$P-df:v1"

# ---- errors ------------------------------------------------------------------
tool "$TMP/e-missing.cwl" "  DockerRequirement:
    dockerLoad: no-such.tar" 'true'
run e-missing "$TMP/e-missing.cwl"
check "missing tarball: exit 1" test "$rc" = 1
check "missing tarball: named" grep -q "dockerLoad: cannot read '$TMP/no-such.tar': No such file or directory" "$TMP/e-missing.err"
printf 'this is not a tarball\n' >"$TMP/corrupt.tar"
tool "$TMP/e-corrupt.cwl" "  DockerRequirement:
    dockerLoad: corrupt.tar" 'true'
run e-corrupt "$TMP/e-corrupt.cwl"
check "corrupt tarball (load): exit 1" test "$rc" = 1
check "corrupt tarball (load): the engine's message" grep -q "dockerLoad 'corrupt.tar': cannot load the image: Error processing tar file" "$TMP/e-corrupt.err"
tool "$TMP/e-corrupt-imp.cwl" "  DockerRequirement:
    dockerImport: corrupt.tar
    dockerImageId: $P-never:v1" 'true'
run e-corrupt-imp "$TMP/e-corrupt-imp.cwl"
check "corrupt tarball (import): exit 1 and the engine's message" bash -c "test $rc = 1 && grep -q 'Error processing tar file' '$TMP/e-corrupt-imp.err'"
tool "$TMP/e-run.cwl" "  DockerRequirement:
    dockerFile: |
      FROM debian:stable-slim
      RUN echo doomed-$$ >&2; exit 7" 'true'
IMAGES+=("cwld-dockerfile:$(printf 'FROM debian:stable-slim\nRUN echo doomed-%s >&2; exit 7\n' "$$" | sha256sum | cut -c1-16)")
run e-run "$TMP/e-run.cwl"
check "failing RUN: exit 1" test "$rc" = 1
check "failing RUN: the engine's message" grep -q "returned a non-zero code: 7" "$TMP/e-run.err"
check "failing RUN: the command's last output" grep -q "(last output: doomed-$$)" "$TMP/e-run.err"
check "failing RUN: no image left" gone "${IMAGES[-1]}"

# ---- cwld dockerfile -----------------------------------------------------------
cat >"$TMP/sw.cwl" <<EOT
cwlVersion: v1.2
class: CommandLineTool
hints:
  SoftwareRequirement:
    packages:
      hello:
        version: ["2.10-3", "2.10-2"]
        specs: [https://identifiers.org/rrid/RRID:SCR_000000]
      cowsay: {}
inputs: []
baseCommand: hello
stdout: out.txt
outputs:
  out: stdout
EOT
check "dockerfile --help exits 0 and explains versions" bash -c "'$CWLD' dockerfile --help | grep -q 'first version is pinned'"
"$CWLD" dockerfile "$TMP/sw.cwl" >"$TMP/sw.Dockerfile"
check "dockerfile: FROM the default base" grep -qx 'FROM debian:stable-slim' "$TMP/sw.Dockerfile"
check "dockerfile: the first version pinned" grep -qx '    hello=2.10-3 \\' "$TMP/sw.Dockerfile"
check "dockerfile: a package without version" grep -qx '    cowsay \\' "$TMP/sw.Dockerfile"
check "dockerfile: apt-get install --no-install-recommends" grep -q 'apt-get install -y --no-install-recommends' "$TMP/sw.Dockerfile"
check "dockerfile: specs in a comment" grep -q "^# 'specs' are not used: hello (https://identifiers.org/rrid/RRID:SCR_000000)" "$TMP/sw.Dockerfile"
"$CWLD" dockerfile --base "$P-load:v1" -o "$TMP/sw2.Dockerfile" "$TMP/sw.cwl" 2>"$TMP/sw2.err"
check "dockerfile -o --base: written with that base" grep -qx "FROM $P-load:v1" "$TMP/sw2.Dockerfile"
check "dockerfile -o: says which tag --build-missing builds" grep -q "builds it as cwld-dockerfile:$(sha256sum <"$TMP/sw2.Dockerfile" | cut -c1-16)" "$TMP/sw2.err"
sed 's/hello:/Hello_World:/' "$TMP/sw.cwl" >"$TMP/sw-bad.cwl"
set +e
"$CWLD" dockerfile "$TMP/sw-bad.cwl" >/dev/null 2>"$TMP/sw-bad.err"
rc=$?
set -e
check "dockerfile: a name apt-get would not take: exit 2, said" bash -c "test $rc = 2 && grep -q \"'Hello_World' is not a Debian package name\" '$TMP/sw-bad.err'"

# ---- cwld run --build-missing --------------------------------------------------
# No network needed: an empty package list on a base holding a marker (the
# loaded image): the tool runs in the image built FROM it.
cat >"$TMP/bm.cwl" <<EOT
cwlVersion: v1.2
class: CommandLineTool
hints:
  SoftwareRequirement:
    packages: []
inputs: []
baseCommand: [cat, /load-marker]
stdout: out.txt
outputs:
  out: stdout
EOT
"$CWLD" dockerfile --base "$P-load:v1" -o "$TMP/bm.Dockerfile" "$TMP/bm.cwl" 2>/dev/null
btag=cwld-dockerfile:$(sha256sum <"$TMP/bm.Dockerfile" | cut -c1-16)
IMAGES+=("$btag")
run bm --build-missing --default-container "$P-load:v1" "$TMP/bm.cwl"
check "--build-missing: exit 0" test "$rc" = 0
check "--build-missing: built the Dockerfile cwld dockerfile writes ($btag)" grep -q "building image '$btag'" "$TMP/bm.err"
check "--build-missing: the tool ran in it" grep -qx "load-$$" "$TMP/bm.out/out.txt"
check "--build-missing: the store names the built image" test "$(attempt_image)" = "$btag"
run bm-host "$TMP/bm.cwl"
check "without --build-missing the tool runs on the host (no marker there)" test "$rc" = 1

# With packages, when a Debian mirror answers (the build runs apt-get).
if curl -s -m 5 -o /dev/null http://deb.debian.org/debian/dists/stable/Release; then
	IMAGES+=("$P-base:v1")
	api POST "/images/debian:stable-slim/tag?repo=$P-base&tag=v1" >/dev/null
	cat >"$TMP/hello.cwl" <<EOT
cwlVersion: v1.2
class: CommandLineTool
hints:
  SoftwareRequirement:
    packages:
      hello: {}
inputs: []
baseCommand: hello
stdout: out.txt
outputs:
  out: stdout
EOT
	"$CWLD" dockerfile --base "$P-base:v1" -o "$TMP/hello.Dockerfile" "$TMP/hello.cwl" 2>/dev/null
	IMAGES+=("cwld-dockerfile:$(sha256sum <"$TMP/hello.Dockerfile" | cut -c1-16)")
	run hello --build-missing --default-container "$P-base:v1" "$TMP/hello.cwl"
	check "--build-missing with apt-get: exit 0" test "$rc" = 0
	check "--build-missing with apt-get: the package's program ran" grep -qx 'Hello, world!' "$TMP/hello.out/out.txt"
else
	echo "ok - skip: deb.debian.org unreachable, --build-missing with packages not tried"
fi

check "no container of this test left" test "$(curl -s --unix-socket "$SOCK" "http://d/v1.41/containers/json?all=1&filters=%7B%22label%22%3A%5B%22cwld-test%3D$P%22%5D%7D")" = "[]"
finish
