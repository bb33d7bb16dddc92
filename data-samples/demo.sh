#!/usr/bin/env bash
# The main job end to end on the embedded database (PGlite), offline: ingest the sample census,
# scrub the sample mail.log, load the MX snapshot instead of asking DNS, then a dry-run build that
# writes the Listmonk import CSVs, then status and the ramp ahead. `npm ci && npm run demo` on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."

export AUDIENCE_DATA_DIR=.audience/demo
export AUDIENCE_CONFIG=data-samples/audience.config.json
# The demo never touches a server database or a real Listmonk, whatever the shell has set.
unset DATABASE_URL LISTMONK_URL LISTMONK_API_USER LISTMONK_API_TOKEN AUDIENCE_WARMUP_START AUDIENCE_MAILLOG || true
OUT=out/demo
rm -rf "$AUDIENCE_DATA_DIR" "$OUT"

audience() { node bin/audience.mjs "$@"; }
step() { printf '\n\033[1m== audience %s\033[0m\n' "$*"; }

step migrate
audience migrate
step ingest census data-samples/census/FMCSA_CENSUS1_2026Nov.txt
audience ingest census data-samples/census/FMCSA_CENSUS1_2026Nov.txt
# ingest normalizes the e-mail fields of what it loaded; normalize again is a no-op that shows the totals.
step normalize
audience normalize
step scrub-bounces data-samples/maillog/mail.log
audience scrub-bounces data-samples/maillog/mail.log
step check-mx --import data-samples/mx-snapshot.csv
audience check-mx --import data-samples/mx-snapshot.csv
step build --dry-run --out "$OUT"
audience build --dry-run --out "$OUT"
step status
audience status
step plan --days 7
audience plan --days 7

printf '\nImport CSVs and the build summary are in %s:\n' "$OUT"
ls -1 "$OUT"
