#!/usr/bin/env bash
# A whole FULL_MAJA time series against the local emulator: submit, follow, download.
set -euo pipefail
cd "$(dirname "$0")/.."
out=demo-output
rm -rf "$out" && mkdir -p "$out"

python -m emulators --port 0 --all-bands > "$out/emulator.txt" &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true' EXIT
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

step() { echo; echo "== \$ $*"; "$@" || echo "(exit code $?)"; }

step full-maja submit -a "$out/peps.txt" --url "$url" \
  -t 36TWQ -o 64 -d 2019-03-01 -f 2019-09-01 -l "$out/36TWQ.log"
step full-maja download -a "$out/peps.txt" -l "$out/36TWQ.log" -w "$out/36TWQ"
step full-maja wait -a "$out/peps.txt" -l "$out/36TWQ.log" -w "$out/36TWQ" \
  --poll-interval 1
step full-maja download -a "$out/peps.txt" -l "$out/36TWQ.log" -w "$out/36TWQ" -q

echo
echo "== each product's provenance, from --json:"
python full_maja_download.py -a "$out/peps.txt" -l "$out/36TWQ.log" -w "$out/36TWQ" --json \
  | python -c 'import json, sys
for job in json.load(sys.stdin)["jobs"]:
    for p in job["products"]:
        if "cams" in p:
            print(p["date"], "version", p["product_version"], "produced", p["production_date"],
                  "CAMS", p["cams"], p["processing_mode"])'

step python full_maja_download.py -a "$out/peps.txt" -l "$out/36TWQ.log" -w "$out/36TWQ" -x -q

echo
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
