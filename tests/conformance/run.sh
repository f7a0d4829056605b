#!/bin/bash
# Runs the official CWL conformance suite against cwld with cwltest (from the
# venv scripts/install-deps.sh makes) and prints, per tag, how many tests
# passed. See tests/conformance/README.md.
set -euo pipefail

usage() {
	cat <<-'EOF'
	usage: tests/conformance/run.sh [options] [-- cwltest args...]
	  --tags TAG[,TAG]      run only tests carrying one of these tags
	  --exclude-tags T[,T]  skip tests carrying one of these tags
	  -j N                  tests in parallel (default: nproc)
	  --version v1.2|v1.3   which suite (default v1.2)
	  --build DIR           build directory holding cwl-runner (default: build)
	  --tool PATH           runner to test (default: <build>/cwl-runner)
	  --junit-xml FILE      keep cwltest's JUnit report here
	  --badgedir DIR        write cwltest's per-tag badges here (must not exist)
	  --summary FILE        write "tag passed total failed unsupported" lines
	  --timeout SEC         per-test timeout (default 300)
	  --force-docker IMAGE  run every tool in a container: the runner gets
	                        --force-docker --default-container IMAGE
	  -h, --help            this text
	Everything after -- goes to cwltest as is (e.g. -- -n 1-10 --verbose).
	env: CWLD_SHARED_DIR (default <repo>/../shared), CWLD_CACHE_DIR (venv at
	     $CWLD_CACHE_DIR/venv, default ~/.cache/cwld), CWLTEST (cwltest binary),
	     CWLD_STATE_DIR (the runs' database and work dirs; default: a fresh
	     one for this suite run, removed after).
	Exit status: cwltest's (0 all passed or unsupported, 1 failures), 2 on
	usage errors or when the run produced no report.
	EOF
}

die() { printf 'conformance: error: %s\n' "$*" >&2; exit 2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tags= exclude= jobs=$(nproc) version=v1.2 build=$repo/build tool= junit= badgedir=
summary= timeout=300 image=
extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--tags) tags=${2:?}; shift ;;
	--tags=*) tags=${1#*=} ;;
	--exclude-tags) exclude=${2:?}; shift ;;
	--exclude-tags=*) exclude=${1#*=} ;;
	-j) jobs=${2:?}; shift ;;
	-j*) jobs=${1#-j} ;;
	--version) version=${2:?}; shift ;;
	--version=*) version=${1#*=} ;;
	--build) build=${2:?}; shift ;;
	--build=*) build=${1#*=} ;;
	--tool) tool=${2:?}; shift ;;
	--tool=*) tool=${1#*=} ;;
	--junit-xml) junit=${2:?}; shift ;;
	--junit-xml=*) junit=${1#*=} ;;
	--badgedir) badgedir=${2:?}; shift ;;
	--badgedir=*) badgedir=${1#*=} ;;
	--summary) summary=${2:?}; shift ;;
	--summary=*) summary=${1#*=} ;;
	--timeout) timeout=${2:?}; shift ;;
	--timeout=*) timeout=${1#*=} ;;
	--force-docker) image=${2:?}; shift ;;
	--force-docker=*) image=${1#*=} ;;
	-h|--help) usage; exit 0 ;;
	--) shift; extra=("$@"); break ;;
	*) usage >&2; die "unknown option '$1'" ;;
	esac
	shift
done

case $version in
v1.2|v1.3) ;;
*) die "--version must be v1.2 or v1.3, not '$version'" ;;
esac
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "-j needs a positive number, not '$jobs'"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout needs a positive number, not '$timeout'"

shared=${CWLD_SHARED_DIR:-$repo/../shared}
suite=$shared/conformance/cwl-$version/conformance_tests.yaml
[ -f "$suite" ] || die "no conformance suite at '$suite' (set CWLD_SHARED_DIR)"
suite=$(realpath "$suite")

cwltest=${CWLTEST:-${CWLD_CACHE_DIR:-$HOME/.cache/cwld}/venv/bin/cwltest}
[ -x "$cwltest" ] || die "cwltest not found at '$cwltest' (run scripts/install-deps.sh)"
py=$(dirname "$cwltest")/python
[ -x "$py" ] || py=python3

tool=${tool:-$build/cwl-runner}
[ -x "$tool" ] || die "runner '$tool' not found or not executable (build first)"
tool=$(realpath -s "$tool")
[ -z "$badgedir" ] || [ ! -e "$badgedir" ] || die "badge directory '$badgedir' exists"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The runs' database and work dirs: this run's own, unless the caller
# chose one, so that a suite never shares (or is broken by) the user's
# state in ~/.local/share/cwld.
export CWLD_STATE_DIR=${CWLD_STATE_DIR:-$tmp/state}
report=${junit:-$tmp/junit.xml}
rm -f "$report"

args=(--test "$suite" --tool "$tool" -j "$jobs" --timeout "$timeout" --junit-xml "$report")
[ -z "$tags" ] || args+=(--tags "$tags")
[ -z "$exclude" ] || args+=(--exclude-tags "$exclude")
badges=${badgedir:-$tmp/badges}
args+=(--badgedir "$badges")
# cwltest hands what follows its first "--" to the runner, before --outdir.
runner=()
if [ -n "$image" ]; then
	dd=(--)
	for a in "${extra[@]}"; do [ "$a" != -- ] || dd=(); done
	runner=("${dd[@]}" --force-docker --default-container "$image")
fi

echo "conformance: cwl-$version${tags:+ tags=$tags}${exclude:+ exclude=$exclude} -j$jobs tool=$tool${image:+ --force-docker $image}"
start=$(date +%s)
rc=0
# Tests run in fresh temporary dirs; close stdin so nothing waits on a terminal.
"$cwltest" "${args[@]}" "${extra[@]}" "${runner[@]}" </dev/null || rc=$?
echo "conformance: cwltest exited $rc after $(($(date +%s) - start))s"

# Per-tag counts from cwltest's badge files (<tag>.md lists the passed, failed
# and unsupported tests): the JUnit report drops failures that carry no
# message (e.g. a should_fail test that succeeded), so it undercounts them.
[ -d "$badges" ] || die "cwltest wrote no badges ($badges)"
"$py" - "$badges" "${summary:-/dev/null}" "$tags" <<'EOF'
import os
import sys

badges, summary, selected = sys.argv[1], sys.argv[2], sys.argv[3]
counts = {}
for name in os.listdir(badges):
    if not name.endswith(".md"):
        continue
    c = {"passed": 0, "failed": 0, "unsupported": 0}
    sect = None
    with open(os.path.join(badges, name)) as f:
        for line in f:
            if line.startswith("## List of "):
                sect = line.split()[3]
            elif line.startswith("- ") and sect in c:
                c[sect] += 1
    counts[name[:-3]] = c
sel = [t for t in selected.split(",") if t]
order = sel + sorted(t for t in counts if t not in sel and t != "all") + ["all"]
with open(summary, "w") as out:
    print("conformance: per tag (passed/total, failed, unsupported)")
    for t in order:
        c = counts.get(t, {"passed": 0, "failed": 0, "unsupported": 0})
        total = c["passed"] + c["failed"] + c["unsupported"]
        mark = "*" if t in sel else " "
        print(f"{mark} {t}: {c['passed']}/{total}  failed {c['failed']}  unsupported {c['unsupported']}")
        out.write(f"{t} {c['passed']} {total} {c['failed']} {c['unsupported']}\n")
EOF
exit "$rc"
