#!/usr/bin/env bash
# The main job end to end on the embedded database (PGlite), offline: ingest the sample census,
# scrub the sample mail.log, load the MX snapshot instead of asking DNS, then a dry-run build that
# writes the Listmonk import CSVs, then status, the ramp ahead and the HTML report (report.html
# beside the CSVs). `npm ci && npm run demo` on a fresh clone.
#
# The samples describe one day; scripts/demo-data.mjs copies them with their dates moved so that
# day is yesterday by the demo's clock (AUDIENCE_NOW when set, else the machine's), so what
# `status` and `plan` print agrees with what the stages printed, whenever the demo runs.
# Database in .audience/demo, dated samples in .audience/demo-samples, outputs in out/demo; with
# DEMO_DIR set (the tests), all three under it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${DEMO_DIR:-}" ]; then DB=$DEMO_DIR/db SAMPLES=$DEMO_DIR/samples OUT=$DEMO_DIR/out
else DB=.audience/demo SAMPLES=.audience/demo-samples OUT=out/demo; fi
export AUDIENCE_DATA_DIR=$DB
export AUDIENCE_CONFIG=data-samples/audience.config.json
# The demo never touches a server database or a real Listmonk, whatever the shell has set.
unset DATABASE_URL LISTMONK_URL LISTMONK_API_USER LISTMONK_API_TOKEN AUDIENCE_WARMUP_START AUDIENCE_MAILLOG || true
rm -rf "$DB" "$SAMPLES" "$OUT"

eval "$(node scripts/demo-data.mjs "$SAMPLES")"
export AUDIENCE_WARMUP_START=$WARMUP_START
printf 'Sample data dated so that its last day is yesterday, %s (census, mail.log, MX snapshot; warmup started %s).\n' "$SAMPLE_DAY" "$WARMUP_START"

audience() { node bin/audience.mjs "$@"; }
step() { printf '\n\033[1m== audience %s\033[0m\n' "$*"; }

step migrate
audience migrate
step ingest census "$(basename "$CENSUS")"
audience ingest census "$CENSUS"
# ingest normalizes the e-mail fields of what it loaded; normalize again is a no-op that shows the totals.
step normalize
audience normalize
step scrub-bounces mail.log
audience scrub-bounces "$MAILLOG"
step check-mx --import mx-snapshot.csv
audience check-mx --import "$SNAPSHOT"
step build --dry-run --out "$OUT"
audience build --dry-run --out "$OUT"
step status
audience status
step plan --days 7
audience plan --days 7
step report --out "$OUT/report.html"
audience report --out "$OUT/report.html"

printf '\nImport CSVs and the build summary are in %s:\n' "$OUT"
ls -1 "$OUT"
printf '\nThe deliverability report (30 days, one self-contained page) is %s: open it in a browser.\n' "$(cd "$OUT" && pwd)/report.html"
