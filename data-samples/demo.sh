#!/usr/bin/env bash
# `npm run demo` (scripts/demo.mjs says what it runs). Kept for those who run the demo by this path.
exec node "$(dirname "$0")/../scripts/demo.mjs" "$@"
