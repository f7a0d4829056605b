#!/bin/bash
# `cwld validate` against the CWL v1.2 conformance suite and a few broken
# documents. Counts how many of the suite's valid documents validate; fails
# only when one listed in validate-expected-ok.txt stops validating, when an
# invalid document is accepted, or when an error is not one
# "file:line:col: message" line with the right exit status.
set -u

CWLD=${CWLD:?set CWLD to the cwld binary}
SRC=${CWLD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SHARED=${CWLD_SHARED_DIR:-$SRC/../shared}
SUITE=$SHARED/conformance/cwl-v1.2
FIX=$SRC/tests/unit/data/load
EXPECTED=$SRC/tests/integration/validate-expected-ok.txt
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# The suite documents that should load: every tool of a test that is not
# expected to fail, or that fails only when run (tag inputs_should_parse).
suite_list() {
	python3 - "$SUITE" <<'EOF'
import os, sys, yaml
root = sys.argv[1]
def tests(path):
    base = os.path.dirname(os.path.relpath(path, root))
    for t in yaml.safe_load(open(path)) or []:
        if '$import' in t:
            yield from tests(os.path.join(os.path.dirname(path), t['$import']))
        elif 'tool' in t:
            t = dict(t)
            t['tool'] = os.path.normpath(os.path.join(base, t['tool']))
            yield t
seen = set()
for t in tests(os.path.join(root, 'conformance_tests.yaml')):
    tags = t.get('tags') or []
    if t.get('should_fail') and ('inputs_should_parse' not in tags or
                                 '/invalid-' in t['tool']):
        continue
    if t['tool'] not in seen:
        seen.add(t['tool'])
        print(t['tool'])
EOF
}

# ---- the conformance suite ------------------------------------------------
if [ -d "$SUITE" ]; then
	if ! suite_list > "$TMP/suite.txt" 2>/dev/null || [ ! -s "$TMP/suite.txt" ]; then
		cp "$EXPECTED" "$TMP/suite.txt"
	fi
	total=0
	valid=0
	: > "$TMP/valid.txt"
	while read -r doc; do
		[ -n "$doc" ] || continue
		total=$((total + 1))
		if (cd "$SUITE" && "$CWLD" validate "$doc") >/dev/null 2>"$TMP/err"; then
			valid=$((valid + 1))
			echo "$doc" >> "$TMP/valid.txt"
		else
			echo "  does not validate: $doc: $(head -1 "$TMP/err")"
		fi
	done < "$TMP/suite.txt"
	echo "suite: $valid of $total expected-valid documents validate"
	while read -r doc; do
		[ -n "$doc" ] || continue
		if (cd "$SUITE" && "$CWLD" validate "$doc") >/dev/null 2>"$TMP/err"; then
			ok
		else
			bad "regression: $doc: $(head -1 "$TMP/err")"
		fi
	done < "$EXPECTED"
	# documents the suite marks as invalid CWL
	for doc in tests/mixed-versions/invalid-tool-v10.cwl \
	    tests/mixed-versions/invalid-tool-v11.cwl \
	    tests/mixed-versions/invalid-wf-v10.cwl \
	    tests/mixed-versions/invalid-wf-v11.cwl \
	    tests/mixed-versions/invalid-wf-v12.cwl; do
		[ -f "$SUITE/$doc" ] || continue
		(cd "$SUITE" && "$CWLD" validate "$doc") >/dev/null 2>"$TMP/err"
		rc=$?
		if [ "$rc" -eq 2 ] && grep -qE '^[^:]+:[0-9]+:[0-9]+: ' "$TMP/err"; then
			ok
		else
			bad "invalid $doc accepted or badly reported (exit $rc): $(cat "$TMP/err")"
		fi
	done
else
	echo "no conformance suite at $SUITE: skipping the suite part"
fi

# ---- broken documents: one "file:line:col: message" line, exit 2 ------------
expect_error() { # file want-exit want-line-col want-text
	local out rc lines
	(cd "$FIX" && "$CWLD" validate "$1") >"$TMP/out" 2>"$TMP/err"
	rc=$?
	lines=$(wc -l < "$TMP/err")
	out=$(cat "$TMP/err")
	if [ "$rc" -ne "$2" ]; then
		bad "$1: exit $rc, want $2 ($out)"
	elif [ "$lines" -ne 1 ]; then
		bad "$1: $lines lines on stderr, want 1: $out"
	elif ! grep -qE "^${1%%#*}:$3: .*$4" "$TMP/err"; then
		bad "$1: got '$out', want '${1%%#*}:$3: ...$4'"
	elif [ -s "$TMP/out" ]; then
		bad "$1: wrote to stdout"
	else
		ok
	fi
}
expect_error bad-yaml.cwl 2 4:8 "expected"
expect_error bad-type.cwl 2 6:11 "unknown type 'Strng'"
expect_error cycle.cwl 2 7:5 "cycle in workflow: step 'a' -> 'b' -> 'a'"
expect_error bad-source.cwl 2 10:12 "unknown source 'nope' in step 'y'"
expect_error bad-field.cwl 2 6:9 "unknown field 'colour'"
expect_error bad-version.cwl 33 1:13 "unsupported cwlVersion 'draft-3'"
expect_error packed.cwl#nope 2 3:13 "no process '#nope'"

# ---- valid fixtures, --print, usage -----------------------------------------
if out=$(cd "$FIX" && "$CWLD" validate wf-forms.cwl) &&
    [ "$out" = "wf-forms.cwl is valid CWL" ]; then
	ok
else
	bad "wf-forms.cwl: '$out'"
fi
if (cd "$FIX" && "$CWLD" validate --print packed.cwl#main) > "$TMP/p.json" &&
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["class"]=="Workflow"; assert d["steps"][0]["run"]["class"]=="CommandLineTool"; assert d["steps"][0]["in"][0]["source"]==["x"]' "$TMP/p.json"; then
	ok
else
	bad "--print packed.cwl#main"
fi
if "$CWLD" validate -h > "$TMP/out" && grep -q '^usage: cwld validate' "$TMP/out"; then
	ok
else
	bad "validate -h"
fi
"$CWLD" validate > /dev/null 2>&1
rc=$?
if [ "$rc" -eq 2 ]; then ok; else bad "validate without a file: exit $rc"; fi
"$CWLD" validate "$TMP/missing.cwl" > /dev/null 2>&1
rc=$?
if [ "$rc" -eq 2 ]; then ok; else bad "missing file: exit $rc"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
