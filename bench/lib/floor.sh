#!/bin/bash
# The raw Docker Engine API floor for bench/docker.sh: container cycles
# (create, start, wait, remove) through curl on the unix socket, with the
# settings cwld's docker.c uses (network none, User uid:gid, Init, output and
# temporary dirs bind-mounted read-write at their host paths, input files
# read-only, HOME/TMPDIR, WorkingDir = output dir, log driver none),
# labelled cwld.bench=1.
# usage: floor.sh one    DIR IMAGE        one `echo hello > out.txt`
#        floor.sh chain  DIR IMAGE N      N cycles in a row, each sed-ing the
#                                         previous cycle's out.txt (seed: hello)
#        floor.sh scatter DIR IMAGE N P   N `echo mI` cycles, P in flight
#                                         (background jobs)
#        floor.sh cleanup                 remove every cwld.bench=1 container
# Writes DIR/cI/out/out.txt; exits non-zero when any cycle failed.
set -euo pipefail
sock=${DOCKER_SOCK:-/var/run/docker.sock}

api() {
	local v
	v=$(curl -sSf --max-time 10 --unix-socket "$sock" -I http://d/_ping |
		tr -d '\r' | awk -F': ' 'tolower($1)=="api-version"{print $2}')
	[ -n "$v" ] || { echo "floor: no API-Version from /_ping on $sock" >&2; exit 3; }
	echo "/v$v"
}

# cycle I IMAGE MSG [INPUT]: one container; with INPUT runs sed on it,
# else echo MSG; output in $dir/cI/out/out.txt
cycle() {
	local i=$1 image=$2 msg=$3 input=${4:-} out tmp cmd mounts body name u res codes code l
	out=$dir/c$i/out tmp=$dir/c$i/tmp
	mkdir -p "$out" "$tmp"
	mounts="{\"Type\":\"bind\",\"Source\":\"$out\",\"Target\":\"$out\",\"ReadOnly\":false},"
	mounts+="{\"Type\":\"bind\",\"Source\":\"$tmp\",\"Target\":\"$tmp\",\"ReadOnly\":false}"
	if [ -n "$input" ]; then
		mounts+=",{\"Type\":\"bind\",\"Source\":\"$input\",\"Target\":\"$input\",\"ReadOnly\":true}"
		cmd="[\"sh\",\"-c\",\"exec sed s/^/x/ \\\"\$0\\\" > out.txt\",\"$input\"]"
	else
		cmd="[\"sh\",\"-c\",\"exec echo \\\"\$0\\\" > out.txt\",\"$msg\"]"
	fi
	body="{\"Image\":\"$image\",\"Cmd\":$cmd,\"User\":\"$USERSPEC\","
	body+="\"WorkingDir\":\"$out\",\"Env\":[\"HOME=$out\",\"TMPDIR=$tmp\"],"
	body+="\"Labels\":{\"cwld.bench\":\"1\"},\"Tty\":false,\"OpenStdin\":false,"
	body+="\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,"
	body+="\"HostConfig\":{\"Mounts\":[$mounts],\"NetworkMode\":\"none\",\"Init\":true,"
	body+="\"LogConfig\":{\"Type\":\"none\",\"Config\":{}}}}"
	# One curl process for the four calls, on one kept-alive connection (as
	# a runner holds its connections): the container goes by a unique name,
	# so start/wait/delete need not wait for create's answer to be parsed.
	name=cwld-bench-$BASHPID-$i
	u=http://d$API/containers
	res=$(curl -sS --unix-socket "$sock" --max-time 30 -w '\n@%{http_code}\n' -X POST \
		-H 'Content-Type: application/json' -d "$body" "$u/create?name=$name" \
		--next --unix-socket "$sock" --max-time 30 -w '\n@%{http_code}\n' -X POST "$u/$name/start" \
		--next --unix-socket "$sock" --max-time 300 -w '\n@%{http_code}\n' -X POST "$u/$name/wait" \
		--next --unix-socket "$sock" --max-time 30 -w '\n@%{http_code}\n' -X DELETE "$u/$name?force=1") || true
	codes=
	while IFS= read -r l; do [[ $l != @* ]] || codes+="${l#@} "; done <<<"$res"
	code=
	[[ $res =~ \"StatusCode\":(-?[0-9]+) ]] && code=${BASH_REMATCH[1]}
	if [ "$codes" != "201 204 200 204 " ]; then
		echo "floor: cycle $i: HTTP status of create/start/wait/delete: ${codes% }: ${res%%$'\n'*}" >&2
		curl -sS --max-time 30 --unix-socket "$sock" -X DELETE "$u/$name?force=1" >/dev/null 2>&1 || true
		return 1
	fi
	[ "$code" = 0 ] || { echo "floor: cycle $i exited with '$code'" >&2; return 1; }
	[ -s "$out/out.txt" ] || { echo "floor: cycle $i wrote no $out/out.txt" >&2; return 1; }
}

cleanup() {
	local ids id
	ids=$(curl -sSf --max-time 10 --unix-socket "$sock" -G \
		--data-urlencode 'all=1' --data-urlencode 'filters={"label":["cwld.bench=1"]}' \
		"http://d$API/containers/json" | sed 's/"Id":"/\n/g' | sed -n '2,$s/^\([0-9a-f]\{64\}\)".*/\1/p')
	for id in $ids; do
		curl -sS --max-time 30 --unix-socket "$sock" -X DELETE "http://d$API/containers/$id?force=1" || true
	done
}

mode=${1:-}
# bind mounts need absolute paths
[ $# -lt 2 ] || { mkdir -p "$2" && set -- "$1" "$(cd "$2" && pwd)" "${@:3}"; }
API=$(api)
USERSPEC=$(id -u):$(id -g)
case $mode in
one)
	dir=$2
	cycle 1 "$3" hello
	;;
chain)
	dir=$2
	mkdir -p "$dir"
	printf 'hello\n' >"$dir/seed.txt"
	prev=$dir/seed.txt
	for ((i = 1; i <= $4; i++)); do
		cycle "$i" "$3" "" "$prev"
		prev=$dir/c$i/out/out.txt
	done
	;;
scatter)
	# background jobs, at most P in flight (forks of this shell: cheaper
	# than a new bash per cycle from xargs)
	dir=$2
	running=0 bad=0
	for ((i = 1; i <= $4; i++)); do
		if ((running >= $5)); then
			wait -n || bad=1
			running=$((running - 1))
		fi
		cycle "$i" "$3" "m$i" &
		running=$((running + 1))
	done
	while ((running > 0)); do
		wait -n || bad=1
		running=$((running - 1))
	done
	exit "$bad"
	;;
cleanup)
	cleanup
	;;
*)
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}" >&2
	exit 2
	;;
esac
