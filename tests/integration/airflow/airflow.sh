#!/usr/bin/env bash
# A real Apache Airflow (3.x or 2.10) for the integration tests: installed from
# PyPI into a venv cached under ~/.cache/cwld/, started on SQLite with a fixed
# user, short DAG-folder refresh intervals, and stopped again.
#
#   airflow.sh install MAJOR          3 or 2; skips when the venv is up to date
#   airflow.sh start MAJOR HOME PORT  configure HOME, migrate, start, wait for the REST API
#                                     on 127.0.0.1:PORT (task logs are served on PORT+1)
#   airflow.sh stop HOME              stop what start started in HOME
#   airflow.sh status HOME            its processes and their memory
#
# The user is cwld / cwld-test-pw (CWLD_AIRFLOW_USER / CWLD_AIRFLOW_PASSWORD).
# Environment: CWLD_PYTHON (default python3), CWLD_AIRFLOW_CACHE (default
# ~/.cache/cwld), CWLD_AIRFLOW_START_TIMEOUT (seconds, default 240),
# CWLD_AIRFLOW_ROLE (default admin on 3, Admin on 2), CWLD_AIRFLOW_FAST_HASH
# (Airflow 2: 0 keeps FAB's slow password hash, see cmd_start).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${CWLD_AIRFLOW_CACHE:-$HOME/.cache/cwld}
AF_USER=${CWLD_AIRFLOW_USER:-cwld}
AF_PASSWORD=${CWLD_AIRFLOW_PASSWORD:-cwld-test-pw}
START_TIMEOUT=${CWLD_AIRFLOW_START_TIMEOUT:-240}

die() { echo "airflow.sh: $*" >&2; exit 1; }
say() { echo "airflow.sh: $*" >&2; }

usage() {
	sed -n '6,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

check_major() {
	case ${1:-} in
	2 | 3) ;;
	*) die "unknown Airflow major version '${1:-}' (want 3 or 2)" ;;
	esac
}

venv_dir() { echo "$CACHE/airflow$1-venv"; }

# The marker holds the hash of the requirements file it was built from, so an
# edited pin list rebuilds the venv and an unchanged one is reused.
req_hash() { sha256sum "$HERE/requirements-airflow$1.txt" | cut -d' ' -f1; }

is_installed() {
	local v
	v=$(venv_dir "$1")
	[ -x "$v/bin/airflow" ] && [ -f "$v/.cwld-installed" ] &&
		[ "$(cat "$v/.cwld-installed")" = "$(req_hash "$1")" ]
}

cmd_install() {
	[ $# -eq 1 ] || die "usage: airflow.sh install MAJOR"
	local major=$1 v py t0 lock
	check_major "$major"
	v=$(venv_dir "$major")
	[ -f "$HERE/requirements-airflow$major.txt" ] ||
		die "missing pin list '$HERE/requirements-airflow$major.txt'"
	mkdir -p "$CACHE"
	# Two test runs installing at once would build the same venv twice.
	lock="$CACHE/airflow$major.lock"
	exec 9>"$lock"
	flock 9
	if is_installed "$major"; then
		say "Airflow $major already installed in $v"
		return 0
	fi
	py=${CWLD_PYTHON:-python3}
	command -v "$py" >/dev/null || die "python '$py' not found (set CWLD_PYTHON)"
	"$py" -c 'import sys; sys.exit(not ((3, 9) <= sys.version_info[:2] <= (3, 12)))' ||
		die "'$py' is Python $("$py" -c 'import platform; print(platform.python_version())'); Airflow wants 3.9-3.12 here"
	t0=$SECONDS
	say "installing Airflow $major into $v (log: $CACHE/airflow$major-install.log)"
	rm -rf "$v"
	# A venv is not relocatable, so it is built in place; the marker, written
	# last, is what says it is complete.
	if ! {
		"$py" -m venv "$v" &&
			"$v/bin/pip" install --upgrade pip &&
			"$v/bin/pip" install -r "$HERE/requirements-airflow$major.txt" &&
			"$v/bin/airflow" version
	} >"$CACHE/airflow$major-install.log" 2>&1; then
		tail -n 30 "$CACHE/airflow$major-install.log" >&2
		die "installing Airflow $major failed; full log in $CACHE/airflow$major-install.log"
	fi
	req_hash "$major" >"$v/.cwld-installed"
	say "Airflow $("$v/bin/airflow" version 2>/dev/null | tail -n 1) installed in $((SECONDS - t0)) s"
}

# Settings shared by both versions, then the version's own. Written as an
# airflow.cfg in HOME so that any later `airflow` command run with
# AIRFLOW_HOME=HOME (db, users, dags list) sees the same configuration.
write_config() {
	local major=$1 home=$2 port=$3 role=${CWLD_AIRFLOW_ROLE:-admin} secret
	secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	{
		cat <<-EOF
			[core]
			dags_folder = $home/dags
			load_examples = False
			dags_are_paused_at_creation = True
			# a DAG file import that hangs should not hold a test for long
			dagbag_import_timeout = 30
		EOF
		if [ "$major" = 3 ]; then
			cat <<-EOF
				executor = LocalExecutor
				# LocalExecutor forks this many workers at start (~30 MB each
				# unshared); mirrored DAGs are paused and never run a task
				parallelism = 1
				auth_manager = airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
				simple_auth_manager_users = $AF_USER:$role
				simple_auth_manager_passwords_file = $home/simple_auth_manager_passwords.json.generated
				execution_api_server_url = http://127.0.0.1:$port/execution/

				[api]
				host = 127.0.0.1
				port = $port
				workers = 1
				secret_key = $secret
				expose_config = True

				[api_auth]
				# api-server, scheduler and dag-processor must share it; left to
				# its default each process could invent its own
				jwt_secret = $secret

				[dag_processor]
				# how often the dags folder is listed for new files (default 300 s)
				refresh_interval = 2
				bundle_refresh_check_interval = 1
				# how often a known file is parsed again (default 30 s)
				min_file_process_interval = 5
				parsing_processes = 1
				print_stats_interval = 0
				stale_dag_threshold = 10
			EOF
		else
			cat <<-EOF
				# the only executor Airflow 2 allows on SQLite
				executor = SequentialExecutor

				[api]
				# default is session cookies only: the REST API would be 401 to curl and cwld
				auth_backends = airflow.api.auth.backend.basic_auth,airflow.api.auth.backend.session

				[webserver]
				web_server_host = 127.0.0.1
				web_server_port = $port
				workers = 1
				secret_key = $secret
				expose_config = True
				# gunicorn otherwise restarts its worker every 6000 s, in batches
				worker_refresh_interval = 0
				web_server_master_timeout = 240

				[scheduler]
				# how often the dags folder is listed for new files (default 300 s)
				dag_dir_list_interval = 2
				# how often a known file is parsed again (default 30 s)
				min_file_process_interval = 5
				parsing_processes = 1
				print_stats_interval = 0
				standalone_dag_processor = False
			EOF
		fi
		cat <<-EOF

			[database]
			sql_alchemy_conn = sqlite:///$home/airflow.db

			[logging]
			base_log_folder = $home/logs
			# the scheduler serves task logs on 0.0.0.0:8793 by default: two
			# instances (3 and 2 side by side, parallel tests) would collide
			worker_log_server_port = $((port + 1))
		EOF
	} >"$home/airflow.cfg"
}

# The components each version needs for a REST API that sees new DAG files.
components() {
	if [ "$1" = 3 ]; then
		echo "api-server dag-processor scheduler"
	else
		echo "webserver scheduler"
	fi
}

pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# True while the process group has a member that is not a zombie. The
# components outlive `start`, so nobody may reap them at once: kill -0 alone
# would wait out the grace period on a corpse.
group_alive() {
	ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# HTTP status of a GET, 000 when nothing answers.
http_code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" 2>/dev/null || true
}

cmd_start() {
	[ $# -eq 3 ] || die "usage: airflow.sh start MAJOR HOME PORT"
	local major=$1 home=$2 port=$3 v c pid t0 code url waited
	check_major "$major"
	case $port in
	'' | *[!0-9]*) die "port '$port' is not a number" ;;
	esac
	command -v curl >/dev/null || die "curl not found"
	v=$(venv_dir "$major")
	is_installed "$major" || die "Airflow $major is not installed in $v (run: airflow.sh install $major)"
	for c in $(components "$major"); do
		pid=$(cat "$home/$c.pid" 2>/dev/null || true)
		if [ -n "$pid" ] && group_alive "$pid"; then
			die "Airflow $c already running in $home (pid $(cat "$home/$c.pid")); run: airflow.sh stop $home"
		fi
	done
	[ "$port" -ge 1024 ] && [ "$port" -lt 65535 ] || die "port '$port' out of range (1024-65534; PORT+1 is used too)"
	for c in "$port" $((port + 1)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$c") 2>/dev/null; then
			die "port $c is already in use; pick another PORT (PORT and PORT+1 are used)"
		fi
	done
	mkdir -p "$home" || die "cannot create '$home'"
	home=$(cd "$home" && pwd)
	mkdir -p "$home/dags" "$home/logs"

	export AIRFLOW_HOME=$home
	# Settings from the caller's environment would override airflow.cfg.
	while IFS= read -r c; do unset "$c"; done < <(env | sed -n 's/^\(AIRFLOW__[A-Za-z0-9_]*\)=.*/\1/p')
	write_config "$major" "$home" "$port"
	if [ "$major" = 3 ]; then
		# The simple auth manager generates a password for each user missing
		# from this file and keeps the ones present: writing it first fixes ours.
		"$v/bin/python" -c 'import json, sys; print(json.dumps({sys.argv[1]: sys.argv[2]}))' \
			"$AF_USER" "$AF_PASSWORD" >"$home/simple_auth_manager_passwords.json.generated"
	fi

	t0=$SECONDS
	"$v/bin/airflow" db migrate >"$home/db-migrate.log" 2>&1 || {
		tail -n 30 "$home/db-migrate.log" >&2
		die "airflow db migrate failed; log in $home/db-migrate.log"
	}
	say "db migrate took $((SECONDS - t0)) s"
	if [ "$major" = 2 ]; then
		# FAB users live in the metadata DB; the role 'User' may edit DAG runs
		# and task instances, 'Admin' also everything else. Only Admin exists
		# before the first webserver start; sync-perm creates the others, and
		# done here it also shortens the webserver's start (24 s to 8 s).
		t0=$SECONDS
		"$v/bin/airflow" sync-perm >"$home/sync-perm.log" 2>&1 || {
			tail -n 30 "$home/sync-perm.log" >&2
			die "airflow sync-perm failed; log in $home/sync-perm.log"
		}
		"$v/bin/airflow" users create --username "$AF_USER" --password "$AF_PASSWORD" \
			--role "${CWLD_AIRFLOW_ROLE:-Admin}" --firstname cwld --lastname test \
			--email cwld@example.invalid >"$home/users-create.log" 2>&1 || {
			tail -n 30 "$home/users-create.log" >&2
			die "airflow users create failed; log in $home/users-create.log"
		}
		# FAB checks HTTP Basic passwords on every request against a
		# pbkdf2 hash of 260000 rounds: 0.3 s of CPU per call on the one
		# sync worker. The hash names its own method, so a 1000-round hash
		# of the same password keeps the real check and makes calls ~1 ms.
		if [ "${CWLD_AIRFLOW_FAST_HASH:-1}" = 1 ]; then
			"$v/bin/python" - "$home/airflow.db" "$AF_USER" "$AF_PASSWORD" <<-'EOF' ||
				import sqlite3, sys
				from werkzeug.security import generate_password_hash
				db = sqlite3.connect(sys.argv[1])
				n = db.execute("UPDATE ab_user SET password = ? WHERE username = ?",
				               (generate_password_hash(sys.argv[3], method="pbkdf2:sha256:1000"), sys.argv[2])).rowcount
				db.commit()
				sys.exit(n != 1)
			EOF
				die "could not rewrite the password hash of '$AF_USER' in $home/airflow.db"
		fi
		say "sync-perm and user creation took $((SECONDS - t0)) s"
	fi

	t0=$SECONDS
	for c in $(components "$major"); do
		# setsid: each component leads its own process group, so stop can end
		# it with the workers it forked (gunicorn/uvicorn, parsers, executor).
		setsid "$v/bin/airflow" "$c" </dev/null >"$home/$c.log" 2>&1 &
		echo $! >"$home/$c.pid"
	done

	if [ "$major" = 3 ]; then url="http://127.0.0.1:$port/api/v2/version"; else url="http://127.0.0.1:$port/api/v1/version"; fi
	while :; do
		code=$(http_code "$url")
		[ "$code" = 200 ] && break
		for c in $(components "$major"); do
			if ! pid_alive "$(cat "$home/$c.pid")"; then
				say "airflow $c exited during start; last lines of $home/$c.log:"
				tail -n 30 "$home/$c.log" >&2
				cmd_stop "$home" >/dev/null 2>&1 || true
				die "Airflow $major did not start"
			fi
		done
		waited=$((SECONDS - t0))
		if [ "$waited" -ge "$START_TIMEOUT" ]; then
			say "no answer from $url after $waited s (last HTTP $code); logs in $home/*.log"
			cmd_stop "$home" >/dev/null 2>&1 || true
			die "Airflow $major did not start"
		fi
		sleep 0.5
	done
	say "Airflow $major REST API answered after $((SECONDS - t0)) s on http://127.0.0.1:$port (user $AF_USER)"
}

# One line per component: pid, state, and the memory of its process group
# (RSS adds up pages the forked workers share; PSS splits them fairly).
cmd_status() {
	[ $# -eq 1 ] || die "usage: airflow.sh status HOME"
	local home=$1 f c pid p rss pss trss=0 tpss=0 n
	[ -d "$home" ] || die "no such directory '$home'"
	for f in "$home"/*.pid; do
		[ -f "$f" ] || continue
		c=$(basename "$f" .pid)
		case $c in api-server | dag-processor | scheduler | webserver) ;; *) continue ;; esac
		pid=$(cat "$f")
		if ! group_alive "$pid"; then
			echo "$c pid $pid: not running"
			continue
		fi
		rss=0 pss=0 n=0
		for p in $(ps -e -o pid=,pgid=,stat= | awk -v g="$pid" '$2 == g && $3 !~ /^Z/ { print $1 }'); do
			[ -r "/proc/$p/smaps_rollup" ] || continue
			rss=$((rss + $(awk '/^Rss:/ { print $2 }' "/proc/$p/smaps_rollup")))
			pss=$((pss + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup")))
			n=$((n + 1))
		done
		echo "$c pid $pid: running, $n processes, RSS $((rss / 1024)) MB, PSS $((pss / 1024)) MB"
		trss=$((trss + rss)) tpss=$((tpss + pss))
	done
	echo "total: RSS $((trss / 1024)) MB, PSS $((tpss / 1024)) MB"
}

# Ends each process group start made: TERM, then KILL after a grace period.
cmd_stop() {
	[ $# -eq 1 ] || die "usage: airflow.sh stop HOME"
	local home=$1 f pid c left i
	[ -d "$home" ] || die "no such directory '$home'"
	left=""
	for f in "$home"/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		c=$(basename "$f" .pid)
		case $c in api-server | dag-processor | scheduler | webserver) ;; *) continue ;; esac
		if [ -n "$pid" ] && group_alive "$pid"; then
			kill -TERM -- "-$pid" 2>/dev/null || true
			left="$left $pid"
		fi
	done
	for ((i = 0; i < 60; i++)); do
		local still=""
		for pid in $left; do
			group_alive "$pid" && still="$still $pid"
		done
		left=$still
		[ -z "$left" ] && break
		sleep 0.5
	done
	for pid in $left; do
		say "process group $pid still running after 30 s, killing it"
		kill -KILL -- "-$pid" 2>/dev/null || true
	done
	for ((i = 0; i < 20; i++)); do
		local still=""
		for pid in $left; do
			group_alive "$pid" && still="$still $pid"
		done
		[ -z "$still" ] && break
		sleep 0.1
	done
	for f in "$home"/*.pid; do
		[ -f "$f" ] || continue
		case $(basename "$f" .pid) in api-server | dag-processor | scheduler | webserver) rm -f "$f" ;; esac
	done
	say "stopped Airflow in $home"
}

case ${1:-} in
install) shift; cmd_install "$@" ;;
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
status) shift; cmd_status "$@" ;;
-h | --help | help) usage ;;
*) usage >&2; exit 2 ;;
esac
