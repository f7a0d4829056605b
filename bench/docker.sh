#!/bin/bash
# Benchmark of cwld against the reference runner (cwltool) and the raw Docker
# Engine API floor, on small generated workflows (issue 4). Not a test: it
# takes 20-40 minutes for 3 repetitions and wants a quiet machine.
#
# usage: bench/docker.sh [--reps N] [--parallel P] [--quick] [--only LIST]
#                        [--out FILE] [--build-dir DIR] [--keep]
#   --reps N        repetitions (default 3); each repetition runs every runner
#                   once per scenario, runners in rotating order
#   --parallel P    cwld --parallel and the floor's containers in flight
#                   (default: nproc). cwltool gets --parallel, which runs as
#                   many jobs as there are cores; when P differs from nproc,
#                   --parallel-max P is added.
#   --quick         1 repetition, no cwltool on the 200-way scatters
#   --only LIST     comma-separated scenarios or groups:
#                   a = one (1-step tool)      b = chain10 (10-step chain)
#                   c = scatter50,scatter200   d = host-one,host-chain10,
#                   host-scatter50,host-scatter200 (--no-container)
#                   e = validate1000,dag1000 (cwld validate/dag, cwltool
#                   --validate on a 1000-step workflow)
#   --out FILE      TSV result (default ~/.cache/cwld/bench/docker-DATE.tsv);
#                   the raw samples go next to it, .samples.tsv for .tsv
#   --build-dir DIR where cwld is, built (RelWithDebInfo) if missing
#                   (default: build/ in the repository)
#   --keep          keep the work directory (generated CWL, outputs, logs)
#   --scratch DIR   put every run's outputs and temporary directories (cwld
#                   --work-dir, cwltool --tmpdir-prefix/--tmp-outdir-prefix,
#                   both runners' --outdir) under DIR, e.g. a tmpfs such as
#                   /dev/shm, instead of the work directory; the database
#                   and logs stay in the work directory
#
# Runners: cwld (`cwld run --parallel P`, state dir shared by all its runs in
# the session), cwltool from PyPI in ~/.cache/cwld/cwltool-venv (installed if
# missing), and floor (bench/lib/floor.sh: create/start/wait/remove with one
# curl per container on /var/run/docker.sock and cwld's container settings,
# serial for the chain, P in flight for scatters).
# Every run's exit status and output files are checked; a failure is reported
# instead of a time. Wall times are taken around `/usr/bin/time -f %M`, which
# gives the peak RSS (of the runner process or its largest child; the Docker
# daemon's memory is not counted). For validate/dag, cwld's time is the
# median of a hyperfine run of 20 (installed with apt if missing; else a bash
# loop); cwltool --validate is timed once per repetition.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$repo/bench
cache=${CWLD_CACHE_DIR:-$HOME/.cache/cwld}
image=debian:stable-slim
reps=3 par=$(nproc) quick=0 only=a,b,c,d,e out= build=$repo/build keep=0 scratch=

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; }
while [ $# -gt 0 ]; do
	case $1 in
	--reps) reps=$2; shift ;;
	--parallel) par=$2; shift ;;
	--quick) quick=1 reps=1 ;;
	--only) only=$2; shift ;;
	--out) out=$2; shift ;;
	--build-dir) build=$2; shift ;;
	--keep) keep=1 ;;
	--scratch) scratch=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
[[ $reps =~ ^[1-9][0-9]*$ && $par =~ ^[1-9][0-9]*$ ]] || { echo "bench: --reps and --parallel take a positive number" >&2; exit 2; }

# scenarios chosen, in table order
declare -A want=()
IFS=, read -ra sel <<<"$only"
for s in "${sel[@]}"; do
	case $s in
	a) want[one]=1 ;;
	b) want[chain10]=1 ;;
	c) want[scatter50]=1 want[scatter200]=1 ;;
	d) want[host-one]=1 want[host-chain10]=1 want[host-scatter50]=1 want[host-scatter200]=1 ;;
	e) want[validate1000]=1 want[dag1000]=1 ;;
	one | chain10 | scatter50 | scatter200 | host-one | host-chain10 | host-scatter50 | host-scatter200 | validate1000 | dag1000)
		want[$s]=1 ;;
	*) echo "bench: unknown scenario '$s' in --only" >&2; exit 2 ;;
	esac
done
scenarios=()
for s in one chain10 scatter50 scatter200 host-one host-chain10 host-scatter50 host-scatter200 validate1000 dag1000; do
	[ -z "${want[$s]:-}" ] || scenarios+=("$s")
done

# ---- tools ---------------------------------------------------------------
stamp=$(date +%Y%m%d-%H%M%S)
[ -n "$out" ] || out=$cache/bench/docker-$stamp.tsv
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
samples=${out%.tsv}.samples.tsv

apt_install() { # PACKAGE: only as root, quietly; failure is not fatal
	[ "$(id -u)" = 0 ] || return 1
	echo "bench: installing $1 with apt-get" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1; }
}
[ -x /usr/bin/time ] || apt_install time || echo "bench: no /usr/bin/time: peak RSS not measured" >&2
command -v hyperfine >/dev/null || apt_install hyperfine || echo "bench: no hyperfine: timing validate/dag with a bash loop" >&2
command -v curl >/dev/null || { echo "bench: curl is needed for the raw floor" >&2; exit 2; }

build=$(cd "$build" 2>/dev/null && pwd || echo "$build")
cwld=$build/cwld
if [ ! -x "$cwld" ]; then
	echo "bench: building cwld in $build (RelWithDebInfo)" >&2
	cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j2 --target cwld >/dev/null
fi
stale=
[ -z "$(find "$repo/src" "$repo/include" "$repo/migrations" -newer "$cwld" -print -quit)" ] ||
	{ stale=", older than the sources"; echo "bench: warning: $cwld is older than the sources (rebuild it)" >&2; }
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
case $btype in
Release | RelWithDebInfo) ;;
*) echo "bench: warning: $build is a '${btype:-unknown}' build, not Release/RelWithDebInfo" >&2 ;;
esac
cwltool=$cache/cwltool-venv/bin/cwltool
if [ ! -x "$cwltool" ]; then
	echo "bench: installing cwltool into $cache/cwltool-venv" >&2
	python3 -m venv "$cache/cwltool-venv"
	"$cache/cwltool-venv/bin/pip" install -q cwltool
fi
# cwltool --parallel runs as many jobs as there are cores (each asks for
# coresMin 1); --parallel-max (cwltool >= 3.1.2023) caps it when P differs
ctmax=()
if [ "$par" != "$(nproc)" ]; then
	"$cwltool" --help 2>/dev/null | grep -q -- --parallel-max && ctmax=(--parallel-max "$par") ||
		echo "bench: warning: cwltool has no --parallel-max: it runs $(nproc) jobs at once, cwld $par" >&2
fi
curl -sf --max-time 10 --unix-socket /var/run/docker.sock "http://d/images/$image/json" >/dev/null ||
	{ echo "bench: image $image is not on this engine (run scripts/build-images.sh)" >&2; exit 3; }

# ---- work dir and cleanup --------------------------------------------------
mkdir -p "$cache/bench"
work=$(mktemp -d "$cache/bench/work-$stamp-XXXX")
if [ -n "$scratch" ]; then
	mkdir -p "$scratch" || { echo "bench: cannot create --scratch $scratch" >&2; exit 2; }
	scratch=$(mktemp -d "$(cd "$scratch" && pwd)/cwld-bench-$stamp-XXXX")
fi
failed=0
finish() {
	bash "$bench/lib/floor.sh" cleanup >/dev/null 2>&1 || true
	if [ "$keep" = 1 ] || [ "$failed" != 0 ]; then
		echo "bench: work directory kept: $work${scratch:+ (scratch: $scratch)}" >&2
	else
		rm -rf "$work" ${scratch:+"$scratch"}
	fi
}
trap finish EXIT
trap 'exit 130' INT TERM
python3 "$bench/gen-workflows.py" "$work/cwl" --image "$image"
cwl=$work/cwl

# ---- measuring --------------------------------------------------------------
printf 'scenario\trunner\tparallelism\trep\tok\tseconds\trss_kib\tlog\n' >"$samples"

# timed DIR CMD...: runs CMD with stdout/stderr in DIR; sets rc, secs, rss
timed() {
	local d=$1 t0 t1
	shift
	t0=$(date +%s%N)
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$d/rss" "$@" >"$d/stdout" 2>"$d/stderr" && rc=0 || rc=$?
	else
		"$@" >"$d/stdout" 2>"$d/stderr" && rc=0 || rc=$?
	fi
	t1=$(date +%s%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}')
	rss=$(tail -n 1 "$d/rss" 2>/dev/null | grep -E '^[0-9]+$' || true)
}

# fast_median CMD...: median seconds of 20 runs (after 3 warm-ups) of a
# command that takes milliseconds; hyperfine when there is one
fast_median() {
	local j=$rdir/hyperfine.json i t0 t1
	if command -v hyperfine >/dev/null; then
		hyperfine -N --style none --warmup 3 --runs 20 --export-json "$j" -- "$*" >/dev/null 2>&1 || return 1
		python3 -c 'import json,sys; print("%.5f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$j"
	else
		for i in 1 2 3; do "$@" >/dev/null 2>&1 || return 1; done
		for i in $(seq 1 20); do
			t0=$(date +%s%N)
			"$@" >/dev/null 2>&1 || return 1
			t1=$(date +%s%N)
			echo $((t1 - t0))
		done | sort -n | awk '{a[NR]=$1} END{printf "%.5f\n", (a[int((NR+1)/2)]+a[int(NR/2)+1])/2e9}'
	fi
}

curl_ms() { # mean milliseconds of a curl process doing GET /_ping
	local t0 t1 i
	t0=$(date +%s%N)
	for i in $(seq 1 20); do curl -sf --max-time 10 --unix-socket /var/run/docker.sock http://d/_ping >/dev/null; done
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b-a)/20e6}'
}

runners_of() { # SCENARIO: runners measured for it
	case $1 in
	one | chain10 | scatter50) echo cwld cwltool floor ;;
	scatter200) [ "$quick" = 1 ] && echo cwld floor || echo cwld cwltool floor ;;
	host-scatter200) [ "$quick" = 1 ] && echo cwld || echo cwld cwltool ;;
	host-*) echo cwld cwltool ;;
	validate1000) echo cwld cwltool ;;
	dag1000) echo cwld ;;
	esac
}

parallelism_of() { # SCENARIO RUNNER: what parallelism it had, for the table
	case $2:$1 in
	cwld:validate1000 | cwld:dag1000 | cwltool:validate1000) echo "1 process" ;;
	cwld:*) echo "--parallel $par" ;;
	cwltool:*) [ ${#ctmax[@]} = 0 ] && echo "--parallel (all $(nproc) cores)" || echo "--parallel --parallel-max $par" ;;
	floor:scatter*) echo "$par in flight" ;;
	floor:*) echo serial ;;
	esac
}

# measure SCENARIO RUNNER REP: one run, checked, appended to $samples
measure() {
	local scen=$1 runner=$2 rep=$3 base wf job kind n nc=() cmd=() ok=1 chk wd=()
	rdir=$work/runs/$scen.$runner.$rep
	sdir=$rdir # outputs and temporary directories
	[ -z "$scratch" ] || { sdir=$scratch/$scen.$runner.$rep; wd=(--work-dir "$sdir/work"); }
	mkdir -p "$rdir" "$sdir/out" "$sdir/tmp"
	base=${scen#host-}
	[ "$base" = "$scen" ] || nc=(--no-container)
	case $base in
	one) wf=echo.cwl job=one.yml kind=one n=1 ;;
	chain10) wf=chain10.cwl job=chain10.yml kind=chain n=10 ;;
	scatter50) wf=scatter.cwl job=scatter50.yml kind=scatter n=50 ;;
	scatter200) wf=scatter.cwl job=scatter200.yml kind=scatter n=200 ;;
	validate1000 | dag1000) wf=wf1000.cwl ;;
	esac
	case $runner:$base in
	cwld:validate1000) cmd=("$cwld" validate "$cwl/$wf") ;;
	cwld:dag1000) cmd=("$cwld" dag -o "$sdir/out/dag.py" "$cwl/$wf") ;;
	cwltool:validate1000) cmd=("$cwltool" --validate "$cwl/$wf") ;;
	cwld:*) cmd=("$cwld" run --parallel "$par" --state-dir "$work/state" ${wd[@]+"${wd[@]}"}
		${nc[@]+"${nc[@]}"} --outdir "$sdir/out" "$cwl/$wf" "$cwl/$job") ;;
	cwltool:*) cmd=("$cwltool" --parallel ${ctmax[@]+"${ctmax[@]}"} ${nc[@]+"${nc[@]}"} --outdir "$sdir/out"
		--tmpdir-prefix "$sdir/tmp/" --tmp-outdir-prefix "$sdir/tmp/" "$cwl/$wf" "$cwl/$job") ;;
	floor:one) cmd=(bash "$bench/lib/floor.sh" one "$sdir/out" "$image") ;;
	floor:chain10) cmd=(bash "$bench/lib/floor.sh" chain "$sdir/out" "$image" "$n") ;;
	floor:scatter*) cmd=(bash "$bench/lib/floor.sh" scatter "$sdir/out" "$image" "$n" "$par") ;;
	esac
	printf '  %-16s %-8s rep %d ... ' "$scen" "$runner" "$rep" >&2
	timed "$rdir" "${cmd[@]}"
	if [ "$rc" != 0 ]; then
		ok=0
		echo "exit status $rc" >>"$rdir/stderr"
	else
		case $runner:$base in
		*:validate1000) ;;
		cwld:dag1000)
			[ "$(grep -c 'task_id=' "$sdir/out/dag.py" 2>/dev/null)" = 1000 ] ||
				{ ok=0; echo "check: dag.py does not have 1000 tasks" >>"$rdir/stderr"; } ;;
		floor:*) python3 "$bench/lib/check.py" "floor-$kind" $([ "$kind" = one ] || echo "$n") "$sdir/out" 2>>"$rdir/stderr" || ok=0 ;;
		*) python3 "$bench/lib/check.py" "$kind" $([ "$kind" = one ] || echo "$n") "$rdir/stdout" 2>>"$rdir/stderr" || ok=0 ;;
		esac
	fi
	# cwld's validate/dag take milliseconds: a median of many runs
	if [ "$ok" = 1 ] && [ "$runner" = cwld ] && [[ $base == validate1000 || $base == dag1000 ]]; then
		secs=$(fast_median "${cmd[@]}") || { ok=0; echo "timing loop failed" >>"$rdir/stderr"; }
	fi
	if [ "$ok" = 1 ]; then
		echo "$secs s, $((${rss:-0} / 1024)) MiB" >&2
	else
		failed=1 secs=
		echo "FAILED: $(tail -n 2 "$rdir/stderr" | tr '\n' ' ')" >&2
	fi
	printf '%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n' "$scen" "$runner" "$(parallelism_of "$scen" "$runner")" \
		"$rep" "$ok" "$secs" "${rss:-}" "$rdir/stderr" >>"$samples"
	# outputs of a good run are not needed any more; keep logs
	[ "$ok" = 0 ] || [ "$keep" = 1 ] || rm -rf "$sdir/out" "$sdir/tmp" "$sdir/work"
	[ "$ok" = 0 ] || [ "$keep" = 1 ] || [ "$sdir" = "$rdir" ] || rmdir "$sdir" 2>/dev/null || true
	floor_cleanup_if "$runner"
}
floor_cleanup_if() { [ "$1" != floor ] || bash "$bench/lib/floor.sh" cleanup >/dev/null 2>&1 || true; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: ${scenarios[*]}; $reps repetition(s), parallelism $par, $(nproc) cores, load $load_start" >&2
echo "bench: work in $work" >&2
for scen in "${scenarios[@]}"; do
	read -ra rs <<<"$(runners_of "$scen")"
	for ((rep = 1; rep <= reps; rep++)); do
		# rotate the order so no runner always goes first (cold caches)
		for ((k = 0; k < ${#rs[@]}; k++)); do
			measure "$scen" "${rs[$(((k + rep - 1) % ${#rs[@]}))]}" "$rep"
		done
	done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

meta=$work/meta
{
	echo "date=$(date -Iseconds)"
	echo "host=$(uname -n), $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
	echo "load_average_start=$load_start"
	echo "load_average_end=$load_end"
	echo "docker=$(curl -sf --max-time 10 --unix-socket /var/run/docker.sock http://d/version |
		python3 -c 'import json,sys; v=json.load(sys.stdin); print(v["Version"], "API", v["ApiVersion"])')"
	echo "image=$image"
	echo "cwld=$cwld ($btype, git $(git -C "$repo" rev-parse --short HEAD 2>/dev/null)$(git -C "$repo" diff --quiet HEAD -- src include 2>/dev/null || echo '+local changes')$stale)"
	echo "cwltool=$("$cwltool" --version 2>/dev/null | awk '{print $NF}') ($cwltool)"
	echo "reps=$reps parallel=$par quick=$quick"
	echo "cwld_state_dir=one for the session, shared by all cwld runs (SQLite$([ -n "$scratch" ] || echo ' + work dirs'))"
	echo "work_fs=$(stat -f -c %T "$work") ($work)"
	[ -z "$scratch" ] || echo "scratch=$scratch ($(stat -f -c %T "$scratch")): both runners' outputs and temporary directories"
	echo "floor_curl_ms=$(curl_ms) (one curl process + GET /_ping; the floor starts one curl per container)"
	echo "timer=wall clock around /usr/bin/time; cwld validate/dag: $(command -v hyperfine >/dev/null && hyperfine --version || echo bash loop) median of 20"
} >"$meta"
python3 "$bench/lib/report.py" "$samples" "$meta" "$out"
echo
echo "results: $out"
echo "samples: $samples"
