#!/bin/bash
# Test setup: makes the local image cwld-test/busybox:latest (a static busybox
# and its applet links, nothing else) when it is missing, without a registry.
# Source it or run it; it uses the docker CLI, which only test setup may do.

cwld_busybox_image() {
	local image=cwld-test/busybox:latest
	if docker image inspect "$image" >/dev/null 2>&1; then
		return 0
	fi
	local bb=/bin/busybox
	if [ ! -x "$bb" ]; then
		if command -v busybox >/dev/null 2>&1; then
			bb=$(command -v busybox)
		else
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null ||
				{ apt-get update -q >/dev/null &&
				  DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null; } ||
				{ echo "lib-busybox-image: cannot install busybox-static" >&2; return 1; }
		fi
	fi
	# A dynamically linked busybox would need its libraries in the image.
	if ldd "$bb" >/dev/null 2>&1; then
		echo "lib-busybox-image: $bb is not static" >&2
		return 1
	fi
	local root
	root=$(mktemp -d) || return 1
	mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/proc" "$root/sys" "$root/dev" || return 1
	chmod 1777 "$root/tmp"
	cp "$bb" "$root/bin/busybox" || { rm -rf "$root"; return 1; }
	local a
	for a in sh cat echo sleep ls wc env true false head tail grep sed tr id \
	    touch mkdir rm cp mv stat printf test expr sort uniq pwd date yes \
	    dd cut md5sum sha1sum seq basename dirname find awk kill; do
		ln -s busybox "$root/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	tar -C "$root" -c . | docker import \
	    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	    -c 'CMD ["/bin/sh"]' - "$image" >/dev/null
	local rc=$?
	rm -rf "$root"
	return $rc
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	cwld_busybox_image
	exit $?
fi
