#!/bin/bash
# Makes the container images the conformance suite and the examples name,
# without a registry: one Debian bookworm rootfs (debootstrap, minbase) is
# tarred once, cached under ~/.cache/cwld, and `docker import`ed under each tag.
# Images that already exist are left alone. Only setup scripts use the docker
# CLI; cwld itself talks to the Engine API.
#
# usage: scripts/build-images.sh [--force] [--list]
#   --force  re-import every image (the cached rootfs is reused; delete
#            ~/.cache/cwld/rootfs-*.tar to rebuild it too)
#   --list   print the image names and exit
# env: CWLD_CACHE_DIR (default ~/.cache/cwld), DEBIAN_MIRROR (default: the
#      Debian URI in /etc/apt/sources.list*, else http://deb.debian.org/debian)
set -euo pipefail

SUITE=bookworm
# rev is in bsdextrautils; python3 + python-is-python3 make python:3-slim;
# ca-certificates as in the official slim images (networkaccess tests).
INCLUDE=python3,python-is-python3,bsdextrautils,ca-certificates
ENVPATH='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

# tag|extra --change lines (separated by ';;')
IMAGES=(
	'debian:stable-slim|CMD ["bash"]'
	'python:3-slim|ENV LANG=C.UTF-8;;CMD ["python3"]'
	'bash:4.4|ENTRYPOINT ["docker-entrypoint.sh"];;CMD ["bash"]'
	'alpine:latest|CMD ["/bin/sh"]'
	'cwld-example:latest|LABEL org.cwld.example=wordcount;;CMD ["bash"]'
)

msg() { printf 'build-images: %s\n' "$*"; }
die() { printf 'build-images: error: %s\n' "$*" >&2; exit 1; }

force=0
for a in "$@"; do
	case $a in
	--force) force=1 ;;
	--list) for i in "${IMAGES[@]}"; do echo "${i%%|*}"; done; exit 0 ;;
	-h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$a' (try --help)" ;;
	esac
done

command -v docker >/dev/null || die "docker CLI not found"
docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1 ||
	die "docker engine unreachable (is dockerd running? /var/run/docker.sock)"

# The cache key changes when what goes into the rootfs changes; images carry
# it as a label so ones made from an older rootfs are remade. Images without
# the label (made some other way) are left alone.
key=$(printf '%s %s v3' "$SUITE" "$INCLUDE" | sha1sum | cut -c1-10)
missing=()
for i in "${IMAGES[@]}"; do
	tag=${i%%|*}
	have=$(docker image inspect --format '{{index .Config.Labels "org.cwld.rootfs"}}' \
		"$tag" 2>/dev/null) || have=missing
	if [ "$force" = 1 ] || [ "$have" = missing ] || { [ -n "$have" ] && [ "$have" != "$key" ]; }; then
		missing+=("$i")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	msg "all ${#IMAGES[@]} images present"
	exit 0
fi

start=$(date +%s)
cache=${CWLD_CACHE_DIR:-$HOME/.cache/cwld}
mkdir -p "$cache"
# Serialize concurrent runs (test.sh and example.sh may overlap).
exec 9>"$cache/build-images.lock"
flock 9

if [ -z "${DEBIAN_MIRROR:-}" ]; then
	DEBIAN_MIRROR=$(grep -rhoE '(URIs:[[:space:]]*|^deb[[:space:]]+)https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
		grep -oE 'https?://[^[:space:]]+' | head -n1 || true)
	DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
fi

tarball=$cache/rootfs-$SUITE-minbase-$key.tar

if [ ! -s "$tarball" ]; then
	command -v debootstrap >/dev/null || die "debootstrap missing (run scripts/install-deps.sh)"
	[ "$(id -u)" = 0 ] || die "debootstrap needs root"
	root=$(mktemp -d "$cache/rootfs.XXXXXX")
	trap 'rm -rf "$root" "$tarball.tmp"' EXIT
	msg "debootstrap $SUITE (minbase, +$INCLUDE) from $DEBIAN_MIRROR ..."
	if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$root" \
		"$DEBIAN_MIRROR" >"$cache/debootstrap.log" 2>&1; then
		tail -n 20 "$cache/debootstrap.log" >&2
		die "debootstrap failed (full log: $cache/debootstrap.log)"
	fi
	# Same entrypoint as the official bash image: a first argument that is
	# an option or not a command runs through bash (docker-run-cmd.cwl).
	cat >"$root/usr/local/bin/docker-entrypoint.sh" <<-'EOF'
	#!/usr/bin/env bash
	set -Eeuo pipefail
	if [ "${1#-}" != "$1" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
		set -- bash "$@"
	fi
	exec "$@"
	EOF
	chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
	# Slim it the way the -slim images are: no docs, man pages or locales.
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
		"$root"/var/log/* "$root"/tmp/* "$root"/debootstrap \
		"$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
		"$root"/usr/share/locale/*
	: >"$root/etc/resolv.conf"
	msg "packing rootfs ..."
	tar --numeric-owner --xattrs -C "$root" -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	# Older rootfs builds (other cache keys) are stale now.
	find "$cache" -maxdepth 1 -name "rootfs-$SUITE-minbase-*.tar" ! -path "$tarball" -delete
	rm -rf "$root"
	trap - EXIT
	msg "rootfs cached: $tarball ($(du -h "$tarball" | cut -f1))"
else
	msg "using cached rootfs $tarball"
fi

# Import once under a private tag named after the cache key, then give each
# image its own config with a commit of a stopped container (no new layer;
# ~3 s instead of ~9 s for another import).
base=cwld-base/$SUITE:$key
if ! docker image inspect "$base" >/dev/null 2>&1; then
	docker import --change "$ENVPATH" -m "cwld build-images.sh ($SUITE minbase)" \
		"$tarball" "$base" >/dev/null || die "docker import $base failed"
	msg "imported $base"
	# Bases from older rootfs builds: drop them unless still in use.
	for b in $(docker image ls --format '{{.Repository}}:{{.Tag}}' "cwld-base/$SUITE"); do
		[ "$b" = "$base" ] || docker rmi "$b" >/dev/null 2>&1 || true
	done
fi
for i in "${missing[@]}"; do
	tag=${i%%|*}
	old=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
	changes=("--change" "$ENVPATH" "--change" "LABEL org.cwld.rootfs=$key")
	rest=${i#*|}
	while [ -n "$rest" ]; do
		c=${rest%%;;*}
		changes+=("--change" "$c")
		[ "$c" = "$rest" ] && rest= || rest=${rest#*;;}
	done
	cid=$(docker create "$base" true) || die "docker create $base failed"
	id=$(docker commit "${changes[@]}" -m "cwld build-images.sh" "$cid" "$tag") ||
		{ docker rm "$cid" >/dev/null; die "docker commit $tag failed"; }
	docker rm "$cid" >/dev/null
	id=${id#sha256:}
	msg "made $tag (${id:0:12})"
	# --force: drop the image this tag replaced unless something still uses it.
	if [ -n "$old" ] && [ "$old" != "sha256:$id" ]; then
		docker rmi "$old" >/dev/null 2>&1 || true
	fi
done

# cwltest documents name images with the docker.io prefix; check that it resolves.
docker image inspect docker.io/debian:stable-slim >/dev/null ||
	die "docker.io/debian:stable-slim does not resolve after import"
msg "done in $(($(date +%s) - start))s"
