#!/usr/bin/env bash
# API fuzzing: schemathesis (from PyPI) generates requests from docs/openapi.json and runs them against the built
# service (dist/, embedded database, throwaway data) with a valid bearer token. It fails on any 5xx answer and on
# any response that does not match the spec. Bounded: a fixed seed, few examples per operation, a time budget.
#
#   bash scripts/fuzz-api.sh            # after `npm run build`
#   FUZZ_MAX_EXAMPLES=50 FUZZ_MAX_TIME=600 bash scripts/fuzz-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/media-upload-service"
VENV="$CACHE/venv"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-15}"
MAX_TIME="${FUZZ_MAX_TIME:-240}"
SEED="${FUZZ_SEED:-20260101}"

# schemathesis lives in a virtualenv in the machine's cache, installed once per version.
if [[ "$("$VENV/bin/st" --version 2>/dev/null || true)" != *"$SCHEMATHESIS_VERSION"* ]]; then
  echo "fuzz: installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  mkdir -p "$CACHE"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

[[ -f dist/main.js ]] || npm run build

WORK="$(mktemp -d)"
PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
BASE="http://127.0.0.1:$PORT"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The service as it ships, on loopback, with its own embedded database and upload folder. Rate limits are raised:
# the fuzzer sends thousands of requests from one address on purpose.
NODE_ENV=development HOST=127.0.0.1 PORT="$PORT" LOG_LEVEL=warn \
  JWT_SECRET="fuzz-secret-$(node -p 'require("crypto").randomBytes(24).toString("hex")')" \
  EMBEDDED_DB_DIR="$WORK/db" UPLOAD_DIR="$WORK/uploads" MIN_FREE_DISK_BYTES=0 \
  THROTTLE_AUTH_LIMIT=1000000 THROTTLE_UPLOAD_LIMIT=1000000 THROTTLE_CHUNK_LIMIT=1000000 \
  node dist/main.js >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 240); do
  if curl -fs "$BASE/api/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/server.log" >&2; echo "fuzz: the service did not start" >&2; exit 1; fi
  sleep 0.5
done
curl -fs "$BASE/api/health" >/dev/null || { cat "$WORK/server.log" >&2; echo "fuzz: no healthy service" >&2; exit 1; }

TOKEN="$(curl -fs -X POST "$BASE/api/auth/register" -H 'content-type: application/json' \
  -d '{"username":"fuzzer","email":"fuzzer@example.com","password":"correct horse battery"}' |
  node -pe 'JSON.parse(require("fs").readFileSync(0)).accessToken')"

echo "fuzz: schemathesis against $BASE (max $MAX_EXAMPLES examples per operation, $MAX_TIME s, seed $SEED)"
set +e
# Run from the scratch folder: schemathesis keeps its example database in ./.schemathesis, not in the repo.
ROOT="$PWD"
cd "$WORK"
PYTHONPATH="$ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=fuzz_hooks "$VENV/bin/st" run "$ROOT/docs/openapi.json" \
  --url "$BASE" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "$MAX_EXAMPLES" \
  --max-time "$MAX_TIME" \
  --seed "$SEED" \
  --request-timeout 30 \
  --workers 2 \
  --no-color \
  --suppress-health-check all 2>&1 |
  # schemathesis closes with a pytest-style ruler ("==== 3 warnings in 240s ===="), which a CI log reader takes
  # for a test runner that ran no test. The rulers carry no information: print their text without them.
  sed -u -E 's/^=+ (.*) =+$/-- \1 --/; s/^=+$/--/'
STATUS=${PIPESTATUS[0]}
set -e
cd "$ROOT"
if [[ $STATUS -ne 0 ]]; then
  echo "fuzz: failures found (server log below)" >&2
  tail -n 100 "$WORK/server.log" >&2
fi
exit $STATUS
