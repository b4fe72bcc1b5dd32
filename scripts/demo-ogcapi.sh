#!/usr/bin/env bash
# A whole FULL_MAJA time series against a real pygeoapi server (OGC API - Processes):
# submit, a cron run, follow with --wait and download, re-run, list the server's jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=demo-output-ogcapi
rm -rf "$out" && mkdir -p "$out"
export XDG_STATE_HOME="$PWD/$out/state"  # the demo's journal of submissions, not yours

python -m emulators.ogcapi --queue-seconds 2 --run-seconds 6 > "$out/server.txt" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 300); do
  url=$(grep -o 'listening on http://[^ ]*' "$out/server.txt" | cut -d' ' -f3 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "the OGC API server did not start" >&2; exit 1; }
echo "== $(head -2 "$out/server.txt" | tr '\n' ' ')"

echo "demo-api-key" > "$out/key.txt"
chmod 600 "$out/key.txt"
key=(--api-key-file "$out/key.txt")

step() { echo; echo "== \$ $*"; "$@" || echo "(exit code $?)"; }

step full-maja submit "${key[@]}" --url "$url" \
  -t 36TWQ -o 64 -d 2019-03-01 -f 2019-09-01 -l "$out/36TWQ.log"
step full-maja download "${key[@]}" -l "$out/36TWQ.log" -w "$out/36TWQ"
step full-maja wait "${key[@]}" -l "$out/36TWQ.log" -w "$out/36TWQ" \
  --poll-interval 1
step full-maja download "${key[@]}" -l "$out/36TWQ.log" -w "$out/36TWQ" -q
step full-maja jobs "${key[@]}" --url "$url"

echo
echo "== products on disk in $out/36TWQ:"
ls -1 "$out/36TWQ"
