#!/usr/bin/env bash
# `make run`: starts the server, waits (within a bound) until it says it is ready, prints where
# the playground, the docs and a first request are, then waits on the server. Ctrl-C (or SIGTERM)
# stops the server gracefully; the script exits with the server's status.
#
#   scripts/serve.sh BINARY [FLAGS...]      # e.g. target/release/mplug2-serve --max-batch-size 8
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# How long the package may take to load and warm up before the script says so (and keeps waiting).
READY_BOUND_S="${READY_BOUND_S:-300}"

binary="$1"
shift

# The REST address from the flags (or HTTP_ADDR), as a URL a browser on this machine can open.
addr="${HTTP_ADDR:-0.0.0.0:8080}"
api_key="${API_KEY:-}${API_KEY_FILE:-}"
previous=""
for arg in "$@"; do
  case "$previous" in
    --http-addr) addr="$arg" ;;
    --api-key | --api-key-file) api_key=1 ;;
  esac
  case "$arg" in
    --http-addr=*) addr="${arg#*=}" ;;
    --api-key=* | --api-key-file=*) api_key=1 ;;
  esac
  previous="$arg"
done
host="${addr%:*}"
port="${addr##*:}"
case "$host" in 0.0.0.0 | "[::]" | "") host=localhost ;; esac
url="http://$host:$port"

"$binary" "$@" &
server=$!
stop() { kill -TERM "$server" 2>/dev/null; }
trap stop INT TERM

# /info is served on the API address with or without --admin-addr and --api-key; "ready":true
# is /health/ready's condition (loaded, warmed, not draining).
deadline=$((SECONDS + READY_BOUND_S))
ready=0
while kill -0 "$server" 2>/dev/null; do
  if curl -fsS --max-time 2 "$url/info" 2>/dev/null | grep -q '"ready":true'; then
    ready=1
    break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "== mplug2-serve is not ready after ${READY_BOUND_S} s (its log is above); still waiting on it" >&2
    break
  fi
  sleep 0.2
done

if [ "$ready" -eq 1 ]; then
  auth=""
  [ -n "$api_key" ] && auth=" -H \"authorization: Bearer \$API_KEY\""
  cat <<EOF

== mplug2-serve is ready
   playground:  $url/
   API docs:    $url/docs
   try:         curl -s $url/v1/caption$auth -F image=@models/demo/goldens/inputs/image_480x270.png
   stop:        Ctrl-C

EOF
fi

# `wait` returns early when a trapped signal arrives; wait again until the server has exited.
while :; do
  wait "$server"
  status=$?
  kill -0 "$server" 2>/dev/null || break
done
exit "$status"
