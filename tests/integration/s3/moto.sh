#!/usr/bin/env bash
# A real S3-compatible server for the integration tests: moto_server from
# PyPI's moto[server], installed (pinned, requirements-moto.txt) into a venv
# cached outside the repository, started on 127.0.0.1 on a free port, stopped
# again. moto checks no signature by default; `auth` makes it check them.
#
#   moto.sh install               skips when the venv is up to date
#   moto.sh start DIR             starts moto_server; writes DIR/url, DIR/pid,
#                                 DIR/moto.log and prints the URL
#   moto.sh auth DIR BUCKET...    creates the buckets, an IAM user allowed
#                                 s3:* and a role allowed the same, prints
#                                 "ACCESS_KEY SECRET_KEY" (the user's) and on
#                                 a second line "KEY SECRET SESSION_TOKEN"
#                                 (temporary ones, from AssumeRole), then
#                                 turns signature checks on: from then on a
#                                 request with a wrong key, secret or token
#                                 is refused
#   moto.sh stop DIR              stops what start started in DIR
#
# Environment: CWLD_CACHE_DIR (default ~/.cache/cwld; the venv is
# $CWLD_CACHE_DIR/moto-venv), CWLD_PYTHON (default /usr/bin/python3, else
# python3).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${CWLD_CACHE_DIR:-$HOME/.cache/cwld}
VENV=$CACHE/moto-venv
REQ=$HERE/requirements-moto.txt

. "$HERE/lib-start.sh"

die() { echo "moto.sh: $*" >&2; exit 1; }
say() { echo "moto.sh: $*" >&2; }

req_hash() { sha256sum "$REQ" | cut -d' ' -f1; }
is_installed() {
	[ -x "$VENV/bin/moto_server" ] && [ -f "$VENV/.cwld-installed" ] &&
		[ "$(cat "$VENV/.cwld-installed")" = "$(req_hash)" ]
}

cmd_install() {
	local py t0
	mkdir -p "$CACHE"
	# two test runs installing at once would build the same venv twice
	exec 9>"$CACHE/moto.lock"
	flock 9
	if is_installed; then
		return 0
	fi
	py=${CWLD_PYTHON:-}
	if [ -z "$py" ]; then
		if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3; else py=python3; fi
	fi
	command -v "$py" >/dev/null || die "python '$py' not found (set CWLD_PYTHON)"
	t0=$SECONDS
	say "installing moto into $VENV (log: $CACHE/moto-install.log)"
	rm -rf "$VENV"
	# the marker, written last, says the venv is complete
	if ! {
		"$py" -m venv "$VENV" &&
			"$VENV/bin/pip" install --disable-pip-version-check -r "$REQ" &&
			"$VENV/bin/moto_server" --help >/dev/null
	} >"$CACHE/moto-install.log" 2>&1; then
		tail -n 20 "$CACHE/moto-install.log" >&2
		die "installing moto failed; full log in $CACHE/moto-install.log"
	fi
	req_hash >"$VENV/.cwld-installed"
	say "moto installed in $((SECONDS - t0)) s"
}

moto_launch() {
	# no signature checks until `auth` asks for them
	exec env -u INITIAL_NO_AUTH_ACTION_COUNT "$VENV/bin/moto_server" -H 127.0.0.1 -p "$1"
}
moto_ready() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		"http://127.0.0.1:$1/moto-api/data.json" 2>/dev/null || true)" = 200 ]
}

cmd_start() {
	[ $# -eq 1 ] || die "usage: moto.sh start DIR"
	local dir=$1
	is_installed || die "moto is not installed in $VENV (run: moto.sh install)"
	mkdir -p "$dir"
	if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
		die "moto already running from $dir (pid $(cat "$dir/pid"))"
	fi
	start_on_free_port "$dir" "$dir/moto.log" moto_launch moto_ready ||
		die "moto_server did not start (log: $dir/moto.log)"
}

cmd_auth() {
	[ $# -ge 1 ] || die "usage: moto.sh auth DIR BUCKET..."
	local dir=$1
	shift
	[ -f "$dir/url" ] || die "no moto started in $dir"
	"$VENV/bin/python" - "$(cat "$dir/url")" "$@" <<-'EOF'
		import sys, json, urllib.request
		import boto3
		url, buckets = sys.argv[1], sys.argv[2:]
		kw = dict(endpoint_url=url, region_name="us-east-1",
		          aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
		s3 = boto3.client("s3", **kw)
		for b in buckets:
		    s3.create_bucket(Bucket=b)
		iam = boto3.client("iam", **kw)
		iam.create_user(UserName="cwld-test")
		iam.put_user_policy(UserName="cwld-test", PolicyName="s3-all",
		    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
		        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
		k = iam.create_access_key(UserName="cwld-test")["AccessKey"]
		iam.create_role(RoleName="cwld-test-role", AssumeRolePolicyDocument=json.dumps({
		    "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
		    "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}))
		iam.put_role_policy(RoleName="cwld-test-role", PolicyName="s3-all",
		    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
		        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
		role = iam.get_role(RoleName="cwld-test-role")["Role"]["Arn"]
		t = boto3.client("sts", **kw).assume_role(RoleArn=role,
		    RoleSessionName="cwld-test")["Credentials"]
		# 0 actions left without authentication: every later request is checked
		# (not form-encoded: moto reads the raw body)
		req = urllib.request.Request(url + "/moto-api/reset-auth", data=b"0", method="POST",
		                             headers={"Content-Type": "text/plain"})
		urllib.request.urlopen(req).read()
		print(k["AccessKeyId"], k["SecretAccessKey"])
		print(t["AccessKeyId"], t["SecretAccessKey"], t["SessionToken"])
	EOF
}

cmd_stop() {
	[ $# -eq 1 ] || die "usage: moto.sh stop DIR"
	local dir=$1 pid i
	[ -f "$dir/pid" ] || return 0
	pid=$(cat "$dir/pid")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/pid" "$dir/url"
}

case ${1:-} in
install) shift; cmd_install "$@" ;;
start) shift; cmd_start "$@" ;;
auth) shift; cmd_auth "$@" ;;
stop) shift; cmd_stop "$@" ;;
-h | --help | help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
*) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
