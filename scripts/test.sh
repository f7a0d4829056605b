#!/bin/bash
# The whole test suite, unattended: dependencies, local images, two builds
# (build/ normal, build-asan/ with AddressSanitizer+UBSan), ctest in both, then
# the CWL conformance subset selected by tests/conformance/thresholds.
# Fails when a build or a ctest test fails, or when a tag passes fewer
# conformance tests than its threshold. Every phase runs even after a failure
# so one CI run shows everything.
#
# usage: scripts/test.sh
# env: CWLD_TEST_JOBS (default nproc), CWLD_SKIP_ASAN=1, CWLD_SKIP_CONFORMANCE=1,
#      CWLD_SKIP_FUZZ=1, CWLD_FUZZ_SECONDS (per target, default 15),
#      CWLD_BUDGET (seconds for the whole script, default 5100 = 85 min: CI
#      allows 90), CWLD_CONFORMANCE_TIMEOUT (conformance run, default 2400;
#      ctest phases stop early enough to leave it that much of the budget),
#      CWLD_CONFORMANCE_TEST_TIMEOUT (per test, default 120),
#      CWLD_CONFORMANCE_VERSION (v1.2), CWLD_SHARED_DIR, CWLD_CACHE_DIR
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
exec </dev/null

jobs=${CWLD_TEST_JOBS:-$(nproc)}
failed=()
timings=()
t_all=$(date +%s)
budget=${CWLD_BUDGET:-5100}
conf_time=${CWLD_CONFORMANCE_TIMEOUT:-2400}
[ "${CWLD_SKIP_CONFORMANCE:-0}" = 1 ] && conf_time=0
# Hung tests must not eat the CI budget: every ctest run ends by this time.
ctest_deadline=$((t_all + budget - conf_time - 60))
left() { local l=$(($1 - $(date +%s))); [ "$l" -gt 10 ] && echo "$l" || echo 10; }

msg() { printf '\n=== %s\n' "$*"; }
phase_done() { timings+=("$(printf '%-28s %5ss' "$1" "$(($(date +%s) - $2))")"); }

# --- setup: fatal on failure -------------------------------------------------
t=$(date +%s)
msg "dependencies"
bash scripts/install-deps.sh || { echo "test: install-deps failed" >&2; exit 1; }
phase_done deps "$t"

t=$(date +%s)
msg "images"
bash scripts/build-images.sh || { echo "test: build-images failed" >&2; exit 1; }
phase_done images "$t"

# --- builds and ctest --------------------------------------------------------
# build_and_test DIR [cmake args...]
build_and_test() {
	local dir=$1 t ok=1
	shift
	t=$(date +%s)
	msg "build $dir${*:+ ($*)}"
	mkdir -p "$dir"
	if ! cmake -S . -B "$dir" -DCWLD_TESTS=ON "$@" >"$dir/configure.log" 2>&1; then
		tail -n 30 "$dir/configure.log"
		failed+=("configure $dir")
		return 1
	fi
	# -k: build every target that can be built, so ctest still runs the
	# unit tests of the modules that are fine.
	if ! cmake --build "$dir" -j "$jobs" -- -k >"$dir/build.log" 2>&1; then
		grep -E 'error|undefined reference|warning' "$dir/build.log" | head -n 40
		echo "(full log: $dir/build.log)"
		failed+=("build $dir")
		ok=0
	fi
	phase_done "build $dir" "$t"

	t=$(date +%s)
	msg "ctest $dir"
	# Unit tests in parallel; integration tests (real Docker, real daemons)
	# one at a time so they do not starve each other on 2 cores.
	local rc=0
	(cd "$dir" && timeout -k 30 "$(left "$ctest_deadline")" \
		ctest --output-on-failure -L unit -j "$jobs" --timeout 300) || rc=$?
	case $rc in 0) ;; 124|137) failed+=("ctest unit $dir (out of time)") ;;
	*) failed+=("ctest unit $dir") ;; esac
	rc=0
	(cd "$dir" && timeout -k 30 "$(left "$ctest_deadline")" \
		ctest --output-on-failure -L integration --timeout 900) || rc=$?
	case $rc in 0) ;; 124|137) failed+=("ctest integration $dir (out of time)") ;;
	*) failed+=("ctest integration $dir") ;; esac
	phase_done "ctest $dir" "$t"
	[ "$ok" = 1 ]
}

build_and_test build
if [ "${CWLD_SKIP_ASAN:-0}" != 1 ]; then
	# The build already makes UBSan fatal (-fno-sanitize-recover); these add
	# stack traces and keep leak checking on.
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	build_and_test build-asan -DCWLD_SANITIZE=ON
	unset ASAN_OPTIONS UBSAN_OPTIONS
fi

# --- fuzz ----------------------------------------------------------------------
# libFuzzer targets (YAML, loader, expressions) built with clang and run for a
# short time each, seeded with the unit tests' documents. A crash, leak or
# timeout fails the suite and leaves the reproducer in build-fuzz/.
if [ "${CWLD_SKIP_FUZZ:-0}" != 1 ]; then
	t=$(date +%s)
	secs=${CWLD_FUZZ_SECONDS:-15}
	msg "fuzz (libFuzzer, ${secs}s per target)"
	mkdir -p build-fuzz
	if CC=clang cmake -S . -B build-fuzz -DCWLD_FUZZ=ON -DCWLD_TESTS=OFF >build-fuzz/configure.log 2>&1 &&
		cmake --build build-fuzz -j "$jobs" >build-fuzz/build.log 2>&1; then
		for f in build-fuzz/fuzz_*; do
			[ -x "$f" ] || continue
			name=$(basename "$f")
			mkdir -p "build-fuzz/corpus/$name"
			if (cd build-fuzz && "./$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
				"corpus/$name" "$repo/tests/unit/data" >"$name.log" 2>&1); then
				echo "fuzz $name: ok, $(grep -Eo '#[0-9]+' "build-fuzz/$name.log" | tail -n 1 | tr -d '#') inputs"
			else
				tail -n 30 "build-fuzz/$name.log"
				failed+=("fuzz $name")
			fi
		done
	else
		grep -E 'error' build-fuzz/build.log build-fuzz/configure.log | head -n 20
		failed+=("build build-fuzz")
	fi
	phase_done fuzz "$t"
fi

# --- conformance -------------------------------------------------------------
# conformance VERSION BUILD THRESHOLDS [IMAGE]: one cwltest run judged by the
# file's "tag=min_passed" lines (the tags are also the selection; "all" means
# the whole suite and is a threshold on the total). With IMAGE every tool runs
# in a container: cwld --force-docker --default-container IMAGE.
conformance() {
	local version=$1 cb=$2 thresholds=$3 image=${4:-} t line tag passed rc limit out
	local -A min=()
	local tags=() whole=0 sel=() fd=() what=$1
	[ -z "$image" ] || { fd=(--force-docker "$image"); what="$version --force-docker"; }
	t=$(date +%s)
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%%#*}
		line=${line//[[:space:]]/}
		[ -n "$line" ] || continue
		[[ $line =~ ^([A-Za-z0-9_]+)=([0-9]+)$ ]] ||
			{ echo "test: $thresholds: bad line '$line'" >&2; failed+=("thresholds"); continue; }
		min[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
		if [ "${BASH_REMATCH[1]}" = all ]; then whole=1; else tags+=("${BASH_REMATCH[1]}"); fi
	done <"$thresholds"
	if [ "$whole" = 0 ] && [ ${#tags[@]} -gt 0 ]; then
		sel=(--tags "$(IFS=,; echo "${tags[*]}")")
	fi
	out=$cb/conformance-$version${image:+-force-docker}
	rm -rf "$out"
	mkdir -p "$out"
	msg "conformance $what with $cb ${sel[*]:-(all tests)}"
	limit=$(left $((t_all + budget - 30)))
	[ "$limit" -lt "$conf_time" ] || limit=$conf_time
	timeout --kill-after=30 "$limit" \
		bash tests/conformance/run.sh --build "$cb" -j "$jobs" \
		--version "$version" \
		--timeout "${CWLD_CONFORMANCE_TEST_TIMEOUT:-120}" \
		--junit-xml "$out/junit.xml" --summary "$out/summary.txt" \
		--badgedir "$out/badges" "${fd[@]}" "${sel[@]}" >"$out/cwltest.log" 2>&1
	rc=$?
	case $rc in
	0|1) ;; # cwltest: 1 means some tests failed; the thresholds judge that
	124|137) echo "test: conformance run hit its time limit" >&2; failed+=("conformance $what $cb timeout") ;;
	*) tail -n 5 "$out/cwltest.log"; failed+=("conformance $what $cb run error $rc") ;;
	esac
	# cwltest's own summary line, then the per-tag table.
	grep -E 'tests passed|All tests passed|exited|timed out' "$out/cwltest.log" | tail -n 5
	sed -n '/^conformance: per tag/,$p' "$out/cwltest.log"
	echo "(full log: $out/cwltest.log, JUnit: $out/junit.xml)"
	for tag in "${!min[@]}"; do
		passed=$(awk -v t="$tag" '$1 == t {print $2}' "$out/summary.txt" 2>/dev/null)
		passed=${passed:-0}
		if [ "$passed" -lt "${min[$tag]}" ]; then
			echo "test: conformance $what ($cb) tag '$tag': $passed passed, threshold ${min[$tag]}" >&2
			failed+=("conformance $what $cb $tag $passed<${min[$tag]}")
		fi
	done
	phase_done "conformance $what $cb" "$t"
}

if [ "${CWLD_SKIP_CONFORMANCE:-0}" = 1 ]; then
	msg "conformance skipped (CWLD_SKIP_CONFORMANCE=1)"
elif [ ! -x build/cwl-runner ]; then
	msg "conformance skipped: build/ has no cwl-runner"
	failed+=("conformance (no binary)")
else
	conformance v1.2 build tests/conformance/thresholds
	conformance v1.3 build tests/conformance/thresholds-v1.3
	# Parity: the v1.2 suite again with every tool in a container.
	conformance v1.2 build tests/conformance/thresholds-force-docker python:3-slim
	# The same v1.2 suite under AddressSanitizer+UBSan: a crash, a memory
	# error or a leak in any run makes its test fail and the count drop.
	if [ "${CWLD_SKIP_ASAN:-0}" != 1 ] && [ -x build-asan/cwl-runner ]; then
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			conformance v1.2 build-asan tests/conformance/thresholds
	fi
fi

# --- summary -----------------------------------------------------------------
msg "summary"
printf '%s\n' "${timings[@]}"
printf '%-28s %5ss\n' total "$(($(date +%s) - t_all))"
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAILED:"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
echo "all passed"
