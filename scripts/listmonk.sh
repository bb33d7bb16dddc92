#!/usr/bin/env bash
# A real Listmonk on this machine, for the contract and end-to-end tests (test/helpers/real-listmonk.ts)
# and for trying `audience build` by hand against the server it writes to.
#
#   scripts/listmonk.sh build          builds the pinned Listmonk once into .cache/listmonk/<version>/
#   scripts/listmonk.sh start          own database, --install, a free 127.0.0.1 port, an API user;
#                                      prints one JSON object: url, apiUser, apiToken, pid, database, dir
#   scripts/listmonk.sh stop PID [DATABASE] [DIR]   stops that process, drops its database, removes DIR
#
# Listmonk is a Go module (github.com/knadh/listmonk, main package ./cmd). Its major-version tags are
# not module versions, so the release is pinned by the pseudo-version of its commit. A plain `go
# install` binary has no embedded assets and reads them from its working directory (queries/,
# schema.sql, permissions.json, config.toml.sample, static/, i18n/, frontend/dist/), so the build
# copies them from the module cache beside the binary, with an empty frontend/dist (no admin UI: the
# API does not need it). The Go caches are Go's defaults (GOMODCACHE, GOCACHE under $HOME), which a
# clean clone on the same machine reuses.
#
# A shell script rather than a TypeScript helper: a developer can start a server by hand with it
# (`eval "$(scripts/listmonk.sh start --env)"` exports LISTMONK_URL, LISTMONK_API_USER,
# LISTMONK_API_TOKEN and LISTMONK_PID), and the test helper only spawns it and parses its JSON.
#
# Environment:
#   LISTMONK_HOME       use a Listmonk you already have instead of building: a folder holding a
#                       `listmonk` binary (a release binary, or one you built) and, for a binary
#                       without embedded assets, those assets
#   LISTMONK_CACHE_DIR  where builds go (default: <repo>/.cache/listmonk)
#   LISTMONK_PG_HOST, LISTMONK_PG_PORT, LISTMONK_PG_USER   PostgreSQL with trust auth
#                       (default 127.0.0.1, 5432, postgres); each start creates and owns a database
#   GO                  the go command (default: go on PATH, else /usr/local/go/bin/go)
#
# Exit codes: 0 ok; 3 Listmonk cannot be had here (no go, or the module cannot be downloaded: the
# reason is on stderr, and the tests skip with it); 1 anything else.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODULE=github.com/knadh/listmonk
# v6.2.0 = commit ef0a75872463f10a4848af6c547d1c057405453a (2026-06-26 10:18:17 UTC).
RELEASE=v6.2.0
PSEUDO=v1.1.1-0.20260626101817-ef0a75872463
CACHE=${LISTMONK_CACHE_DIR:-$ROOT/.cache/listmonk}/$PSEUDO
PG_HOST=${LISTMONK_PG_HOST:-127.0.0.1}
PG_PORT=${LISTMONK_PG_PORT:-5432}
PG_USER=${LISTMONK_PG_USER:-postgres}

die() {
  local code=$1
  shift
  echo "listmonk.sh: $*" >&2
  exit "$code"
}

go_cmd() {
  if [[ -n "${GO:-}" ]]; then echo "$GO"
  elif command -v go >/dev/null 2>&1; then command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go
  else return 1
  fi
}

# Prints the folder holding bin/listmonk and app/ (the working directory it runs in).
build() {
  if [[ -n "${LISTMONK_HOME:-}" ]]; then
    [[ -x "$LISTMONK_HOME/listmonk" ]] || die 3 "LISTMONK_HOME=$LISTMONK_HOME has no executable listmonk"
    echo "$LISTMONK_HOME"
    return
  fi
  if [[ -x "$CACHE/bin/listmonk" && -f "$CACHE/app/schema.sql" ]]; then
    echo "$CACHE"
    return
  fi
  # One build at a time (test files start in parallel); the second finds the first's result.
  mkdir -p "$(dirname "$CACHE")"
  exec 9>"$(dirname "$CACHE")/.build.lock"
  flock 9
  if [[ -x "$CACHE/bin/listmonk" && -f "$CACHE/app/schema.sql" ]]; then
    echo "$CACHE"
    return
  fi
  local go
  go=$(go_cmd) || die 3 "no go command (install Go 1.26+, or set GO or LISTMONK_HOME)"
  local tmp="$CACHE.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp/bin" "$tmp/app/frontend/dist"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  local started=$SECONDS
  echo "listmonk.sh: building Listmonk $RELEASE ($MODULE/cmd@$PSEUDO); the first build downloads modules" >&2
  if ! GOBIN="$tmp/bin" GOFLAGS=-mod=mod "$go" install \
      -ldflags "-s -w -X 'main.versionString=$RELEASE' -X 'main.buildString=$RELEASE (module $PSEUDO)'" \
      "$MODULE/cmd@$PSEUDO" >&2; then
    die 3 "could not build $MODULE/cmd@$PSEUDO with $go (see the go error above)"
  fi
  mv "$tmp/bin/cmd" "$tmp/bin/listmonk"
  local src
  src=$("$go" list -m -f '{{.Dir}}' "$MODULE@$PSEUDO" 2>/dev/null) || src=""
  [[ -n "$src" && -f "$src/schema.sql" ]] || die 1 "the module's source is not in the module cache after the build"
  for f in config.toml.sample queries schema.sql permissions.json static i18n; do cp -R "$src/$f" "$tmp/app/"; done
  chmod -R u+w "$tmp/app" # the module cache is read-only
  rm -rf "$CACHE"
  mv "$tmp" "$CACHE"
  trap - EXIT
  echo "listmonk.sh: built in $((SECONDS - started)) s into $CACHE" >&2
  echo "$CACHE"
}

psql_admin() {
  psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres "$@"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

start() {
  local format=${1:-json}
  local home bin app
  home=$(build)
  if [[ -x "$home/bin/listmonk" ]]; then bin="$home/bin/listmonk" app="$home/app"; else bin="$home/listmonk" app="$home"; fi
  command -v psql >/dev/null 2>&1 || die 3 "no psql (apt-get install postgresql-client)"
  local port db dir password
  port=$(free_port)
  db="listmonk_t_$$_$RANDOM"
  dir=$(mktemp -d "${TMPDIR:-/tmp}/listmonk.XXXXXX")
  password=$(node -e 'console.log(require("crypto").randomBytes(12).toString("hex"))')
  psql_admin -c "create database $db" || die 1 "could not create database $db on $PG_HOST:$PG_PORT as $PG_USER"
  # lib/pq reads "password= dbname=x" as the password "dbname=x": a placeholder keeps the DSN whole
  # (trust auth ignores it).
  cat >"$dir/config.toml" <<EOF
[app]
address = "127.0.0.1:$port"

[db]
host = "$PG_HOST"
port = $PG_PORT
user = "$PG_USER"
password = "unused-with-trust-auth"
database = "$db"
ssl_mode = "disable"
max_open = 10
max_idle = 5
max_lifetime = "300s"
params = ""
EOF
  if ! (cd "$app" && LISTMONK_ADMIN_USER=admin LISTMONK_ADMIN_PASSWORD="$password" LISTMONK_ADMIN_API_USER=audience \
      "$bin" --config "$dir/config.toml" --install --idempotent --yes >"$dir/install.log" 2>&1); then
    tail -5 "$dir/install.log" >&2
    psql_admin -c "drop database if exists $db with (force)" || true
    die 1 "listmonk --install failed (log: $dir/install.log)"
  fi
  local token
  token=$(sed -n 's/^export LISTMONK_ADMIN_API_TOKEN="\(.*\)"$/\1/p' "$dir/install.log" | tail -1)
  [[ -n "$token" ]] || die 1 "listmonk --install printed no LISTMONK_ADMIN_API_TOKEN (log: $dir/install.log)"
  # Loopback only: no update check against the internet; links point at this server.
  psql -X -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$db" -v ON_ERROR_STOP=1 \
    -c "update settings set value = 'false' where key = 'app.check_updates'" \
    -c "update settings set value = '\"http://127.0.0.1:$port\"' where key = 'app.root_url'"
  (cd "$app" && exec "$bin" --config "$dir/config.toml" >"$dir/listmonk.log" 2>&1) &
  local pid=$!
  local url="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do
    if curl -fsS -o /dev/null "$url/health" 2>/dev/null; then break; fi
    kill -0 "$pid" 2>/dev/null || { tail -5 "$dir/listmonk.log" >&2; die 1 "listmonk exited at start (log: $dir/listmonk.log)"; }
    sleep 0.2
  done
  curl -fsS -o /dev/null "$url/health" || die 1 "listmonk did not answer on $url within 30 s (log: $dir/listmonk.log)"
  if [[ "$format" == env ]]; then
    printf 'export LISTMONK_URL=%q LISTMONK_API_USER=audience LISTMONK_API_TOKEN=%q LISTMONK_PID=%q LISTMONK_DATABASE=%q LISTMONK_DIR=%q\n' \
      "$url" "$token" "$pid" "$db" "$dir"
  else
    printf '{"url":"%s","apiUser":"audience","apiToken":"%s","adminUser":"admin","adminPassword":"%s","pid":%s,"database":"%s","dir":"%s","version":"%s"}\n' \
      "$url" "$token" "$password" "$pid" "$db" "$dir" "$RELEASE"
  fi
}

stop() {
  local pid=${1:?usage: listmonk.sh stop PID [DATABASE] [DIR]} db=${2:-} dir=${3:-}
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [[ -n "$db" ]]; then
    [[ "$db" =~ ^listmonk_t_[0-9_]+$ ]] || die 1 "refusing to drop $db: not a database this script created"
    psql_admin -c "drop database if exists $db with (force)"
  fi
  if [[ -n "$dir" && -f "$dir/config.toml" ]]; then rm -rf "$dir"; fi
}

case "${1:-}" in
  build) build >/dev/null ;;
  start)
    case "${2:-}" in
      --env) start env ;;
      "" | --json) start json ;;
      *) die 1 "usage: listmonk.sh start [--json|--env]" ;;
    esac
    ;;
  stop) shift; stop "$@" ;;
  *) die 1 "usage: listmonk.sh build | start [--json|--env] | stop PID [DATABASE] [DIR]" ;;
esac
