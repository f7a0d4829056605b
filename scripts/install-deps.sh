#!/bin/bash
# Installs what building and testing cwld needs on Debian 12: the C libraries
# and tools (apt), and a Python venv outside the repository holding cwltest,
# the conformance test driver. Safe to run again: it only does what is missing.
#
# usage: scripts/install-deps.sh
# env: CWLD_CACHE_DIR (default ~/.cache/cwld; the venv is $CWLD_CACHE_DIR/venv)
set -euo pipefail

CWLTEST_VERSION=2.7.20260814150058
PACKAGES=(cmake build-essential pkg-config libyaml-dev libjansson-dev
	libcurl4-openssl-dev libsqlite3-dev libevent-dev duktape-dev libssl-dev
	libcmocka-dev clang libclang-rt-14-dev debootstrap strace sqlite3 time curl
	python3-venv busybox-static
	docker-registry)

msg() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

start=$(date +%s)
cache=${CWLD_CACHE_DIR:-$HOME/.cache/cwld}
venv=$cache/venv
mkdir -p "$cache"

# --- Debian packages ---------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
	if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != "ii " ]; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	command -v apt-get >/dev/null || die "apt-get not found: this script targets Debian 12"
	sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
		sudo="sudo -n"
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Update the package lists only when one of the packages has no candidate.
	need_update=0
	for p in "${missing[@]}"; do
		cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
		if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
			need_update=1
			break
		fi
	done
	if [ "$need_update" = 1 ]; then
		msg "apt-get update ..."
		$sudo apt-get update -qq >"$cache/apt.log" 2>&1 ||
			msg "warning: apt-get update reported errors (see $cache/apt.log); trying anyway"
	fi
	msg "installing ${missing[*]} ..."
	if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		>>"$cache/apt.log" 2>&1; then
		# Stale lists give 404s on install: refresh once and retry.
		$sudo apt-get update -qq >>"$cache/apt.log" 2>&1 || true
		if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
			>>"$cache/apt.log" 2>&1; then
			tail -n 20 "$cache/apt.log" >&2
			die "apt-get install failed (log: $cache/apt.log)"
		fi
	fi
	msg "installed ${#missing[@]} package(s)"
else
	msg "all ${#PACKAGES[@]} Debian packages present"
fi
# docker-registry's package enables a service on :5000 (started where
# systemd runs). The tests start their own registry on a free port; a
# system one is not wanted, so it is stopped and disabled.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null &&
	systemctl is-enabled --quiet docker-registry 2>/dev/null; then
	sudo=
	[ "$(id -u)" = 0 ] || sudo="sudo -n"
	$sudo systemctl disable --now docker-registry >/dev/null 2>&1 ||
		msg "warning: cannot stop the docker-registry service (port 5000)"
fi

# --- Python venv with cwltest ----------------------------------------------
# Debian's own python3 (python3-venv is for it), not whatever is first in PATH.
py=/usr/bin/python3
[ -x "$py" ] || die "$py missing"
have=
if [ -x "$venv/bin/cwltest" ]; then
	have=$("$venv/bin/python" -c \
		'import importlib.metadata as m; print(m.version("cwltest"))' 2>/dev/null || true)
fi
if [ "$have" != "$CWLTEST_VERSION" ]; then
	if [ ! -x "$venv/bin/python" ]; then
		msg "creating venv $venv ..."
		"$py" -m venv "$venv" || die "python3 -m venv failed (is python3-venv installed?)"
	fi
	msg "installing cwltest==$CWLTEST_VERSION from PyPI ..."
	if ! "$venv/bin/pip" install -q --disable-pip-version-check \
		"cwltest==$CWLTEST_VERSION" >"$cache/pip.log" 2>&1; then
		tail -n 20 "$cache/pip.log" >&2
		die "pip install cwltest failed (log: $cache/pip.log)"
	fi
fi
"$venv/bin/cwltest" --version >/dev/null 2>&1 || die "$venv/bin/cwltest does not run"
msg "cwltest $CWLTEST_VERSION in $venv"
msg "done in $(($(date +%s) - start))s"
