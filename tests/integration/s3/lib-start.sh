# Sourced by moto.sh and s3s.sh: starts a server on a free loopback port.
# A port found free can be taken before the server binds it, so up to three
# are tried.

# start_on_free_port DIR LOG LAUNCH READY: LAUNCH PORT runs the server in
# the foreground (it is started in the background, stdout and stderr in
# LOG; end it with exec so the pid is the server's); READY PORT succeeds
# once it answers. Writes DIR/url and DIR/pid and prints the URL; on failure
# prints the log's tail and returns 1.
start_on_free_port() {
	local dir=$1 log=$2 launch=$3 ready=$4 port pid i
	for _ in 1 2 3; do
		port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
		"$launch" "$port" </dev/null >"$log" 2>&1 &
		pid=$!
		echo "$pid" >"$dir/pid"
		for ((i = 0; i < 200; i++)); do
			if "$ready" "$port"; then
				echo "http://127.0.0.1:$port" >"$dir/url"
				echo "http://127.0.0.1:$port"
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	tail -n 20 "$log" >&2
	return 1
}
