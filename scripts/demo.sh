#!/usr/bin/env bash
# Two MAJA L2A time series against the local test servers: one from the GEODES-like
# catalogue (search, download with the API key, cron re-run), then one processed by the
# PEPS emulator (submit, follow, download).
set -euo pipefail
cd "$(dirname "$0")/.."
out=demo-output
rm -rf "$out" && mkdir -p "$out"
export XDG_STATE_HOME="$PWD/$out/state"  # the demo's journal of submissions, not yours
servers=()
trap 'kill "${servers[@]}" 2>/dev/null || true' EXIT

step() { echo; echo "== \$ $*"; "$@" || echo "(exit code $?)"; }

python -m emulators.geodes --port 0 > "$out/geodes.txt" &
servers+=($!)
catalogue=""
for _ in $(seq 100); do
  catalogue=$(grep -o 'http://[^ ]*/api/stac' "$out/geodes.txt" || true)
  [ -n "$catalogue" ] && break
  sleep 0.1
done
[ -n "$catalogue" ] || { echo "the catalogue did not start" >&2; exit 1; }
echo "== $(cat "$out/geodes.txt")"

echo "demo-api-key" > "$out/geodes.key"
chmod 600 "$out/geodes.key"

step full-maja submit --source catalogue --catalogue-url "$catalogue" \
  -t 31TCJ -o 51 -d 2023-01-01 -f 2023-12-31 --max-cloud 60 -l "$out/31TCJ.log"
step full-maja download -l "$out/31TCJ.log" -w "$out/31TCJ"
step full-maja download --api-key-file "$out/geodes.key" -l "$out/31TCJ.log" \
  -w "$out/31TCJ" -j 4
step full-maja download --api-key-file "$out/geodes.key" -l "$out/31TCJ.log" \
  -w "$out/31TCJ" -q

python -m emulators --port 0 --all-bands > "$out/emulator.txt" &
servers+=($!)
url=""
for _ in $(seq 100); do
  url=$(grep -o 'http://[^ ]*' "$out/emulator.txt" || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "the emulator did not start" >&2; exit 1; }
echo "== $(cat "$out/emulator.txt")"

echo "demo@example.com demo-password" > "$out/peps.txt"
chmod 600 "$out/peps.txt"

step full-maja submit -a "$out/peps.txt" --url "$url" \
  -t 36TWQ -o 64 -d 2019-03-01 -f 2019-09-01 -l "$out/36TWQ.log"
step full-maja download -a "$out/peps.txt" -l "$out/36TWQ.log" -w "$out/36TWQ"
step full-maja wait -a "$out/peps.txt" -l "$out/36TWQ.log" -w "$out/36TWQ" \
  --poll-interval 1
step full-maja download -a "$out/peps.txt" -l "$out/36TWQ.log" -w "$out/36TWQ" -q

echo
echo "== each product's provenance, from --json:"
full-maja download -a "$out/peps.txt" -l "$out/36TWQ.log" -w "$out/36TWQ" --json \
  | python -c 'import json, sys
for job in json.load(sys.stdin)["jobs"]:
    for p in job["products"]:
        if "cams" in p:
            print(p["date"], "version", p["product_version"], "produced", p["production_date"],
                  "CAMS", p["cams"], p["processing_mode"])'

step full-maja download -a "$out/peps.txt" -l "$out/36TWQ.log" -w "$out/36TWQ" -x -q

echo
echo "== products on disk in $out/31TCJ: $(ls -1 "$out/31TCJ" | grep -c '\.zip$') zips"
echo "== products on disk in $out/36TWQ:"
ls -1 "$out/36TWQ"

echo
echo "== the folder as a data cube (README's three lines):"
cd "$out"
python - <<'PY'
import pystac
try:
    import odc.stac
except ImportError:
    odc = None
items = pystac.Catalog.from_file("36TWQ/catalog.json").get_items(recursive=True)
if odc is None:
    items = list(items)
    print(f"{len(items)} STAC Items; pip install odc-stac to open them as a data cube")
else:
    cube = odc.stac.load(items, bands=["FRE_B4", "FRE_B8"], chunks={})
    print(cube)
PY
