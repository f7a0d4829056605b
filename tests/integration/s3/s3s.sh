#!/usr/bin/env bash
# A second S3-compatible server for the integration tests, written apart
# from moto: s3s-fs (the s3s project's file-system store, Rust, from
# crates.io), built once with cargo into a cache outside the repository,
# started on 127.0.0.1 on a free port with one access key, stopped again.
# It checks every signature (SigV4) from the start. A bucket is a directory
# under its root.
#
#   s3s.sh install                   builds it unless the cache has it
#   s3s.sh available                 succeeds when it is built or can be
#   s3s.sh start DIR KEY SECRET B... starts it with DIR/root as its store and
#                                    buckets B...; writes DIR/url, DIR/pid,
#                                    DIR/s3s.log and prints the URL
#   s3s.sh stop DIR                  stops what start started in DIR
#
# Environment: CWLD_CACHE_DIR (default ~/.cache/cwld; the build goes to
# $CWLD_CACHE_DIR/s3s-fs-VERSION). Needs cargo and a recent rustc (built
# here with 1.95).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib-start.sh"
VERSION=0.14.1
CACHE=${CWLD_CACHE_DIR:-$HOME/.cache/cwld}
ROOT=$CACHE/s3s-fs-$VERSION
BIN=$ROOT/bin/s3s-fs

die() { echo "s3s.sh: $*" >&2; exit 1; }
say() { echo "s3s.sh: $*" >&2; }

cmd_install() {
	local t0
	mkdir -p "$CACHE"
	exec 9>"$CACHE/s3s.lock"
	flock 9
	[ -x "$BIN" ] && return 0
	command -v cargo >/dev/null || die "cargo is not installed: cannot build s3s-fs"
	t0=$SECONDS
	say "building s3s-fs $VERSION into $ROOT (log: $CACHE/s3s-install.log)"
	if ! cargo install --root "$ROOT" s3s-fs --version "$VERSION" --features binary \
		--locked >"$CACHE/s3s-install.log" 2>&1; then
		tail -n 20 "$CACHE/s3s-install.log" >&2
		die "building s3s-fs failed; full log in $CACHE/s3s-install.log"
	fi
	say "s3s-fs built in $((SECONDS - t0)) s"
}

S3S_KEY= S3S_SECRET= S3S_ROOT=
s3s_launch() {
	exec "$BIN" --host 127.0.0.1 --port "$1" --access-key "$S3S_KEY" \
		--secret-key "$S3S_SECRET" "$S3S_ROOT"
}
s3s_ready() { # any HTTP answer (403 without a signature) means it listens
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		"http://127.0.0.1:$1/" 2>/dev/null || true)" != 000 ]
}

cmd_start() {
	[ $# -ge 3 ] || die "usage: s3s.sh start DIR KEY SECRET BUCKET..."
	local dir=$1 b
	S3S_KEY=$2 S3S_SECRET=$3 S3S_ROOT=$dir/root
	shift 3
	[ -x "$BIN" ] || die "s3s-fs is not built (run: s3s.sh install)"
	mkdir -p "$dir/root"
	for b in "$@"; do mkdir -p "$dir/root/$b"; done
	start_on_free_port "$dir" "$dir/s3s.log" s3s_launch s3s_ready ||
		die "s3s-fs did not start (log: $dir/s3s.log)"
}

cmd_stop() {
	[ $# -eq 1 ] || die "usage: s3s.sh stop DIR"
	local dir=$1
	[ -f "$dir/pid" ] || return 0
	kill -TERM "$(cat "$dir/pid")" 2>/dev/null || true
	rm -f "$dir/pid" "$dir/url"
}

case ${1:-} in
install) shift; cmd_install "$@" ;;
available) [ -x "$BIN" ] || command -v cargo >/dev/null ;;
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
*) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
