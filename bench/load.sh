#!/usr/bin/env bash
# bench/load.sh: load test of `directoryd --dev` on loopback, with the dev
# emulator's rate limits off and --required-fields=masked-only.
#
# Three phases of DURATION each, at a fixed concurrency (closed loop):
#   bare  restload PATCHes the dev emulator directly (the floor: the same
#         body and headers the facade sends; the emulator runs inside
#         directoryd's process, so this phase's CPU is the emulator's alone)
#   grpc  ghz calls UpdateCompanyUser over gRPC
#   rest  restload PATCHes the REST gateway (/v1 route, mask from the body)
# and reports, per phase: calls/s, p50/p95/p99 latency, errors, directoryd's
# CPU seconds per 1,000 calls (utime+stime from /proc/PID/stat), its RSS in
# the first and last 10 s of the phase and its peak RSS (VmHWM).
#
# Not part of CI (it runs for minutes). Needs Go and Linux (/proc); installs
# the pinned ghz into .tools/bin. Stops by itself and kills what it started.
#
#   bench/load.sh                      # 30 s per phase, 16 concurrent callers
#   DURATION=10s CONC=32 bench/load.sh
#   OUT=bench/results/load.md bench/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${DURATION:-30s}
CONC=${CONC:-16}
LOG_LEVEL=${LOG_LEVEL:-info}      # directoryd's; info writes one access-log line per call
GHZ_VERSION=v0.120.0              # go list -m -versions github.com/bojand/ghz lists only old tags; v0.120.0 is the latest release
OUT=${OUT:-}

TOOLS="$ROOT/.tools"
mkdir -p "$TOOLS/bin"
if [ ! -x "$TOOLS/bin/ghz" ] || [ "$(cat "$TOOLS/.ghz" 2>/dev/null)" != "$GHZ_VERSION" ]; then
  echo "installing ghz $GHZ_VERSION into .tools/bin" >&2
  # Outside the module, so that ghz's own dependency versions are used.
  (cd / && GOBIN="$TOOLS/bin" GOFLAGS= go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION")
  echo "$GHZ_VERSION" >"$TOOLS/.ghz"
fi
GHZ="$TOOLS/bin/ghz"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/directoryd-load.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building directoryd and restload" >&2
go build -o "$WORK/directoryd" ./cmd/directoryd
go build -o "$WORK/restload" ./bench/restload
RL="$WORK/restload"

"$WORK/directoryd" --dev --dev-rate-limits=false --required-fields=masked-only \
  --grpc-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 --log-level "$LOG_LEVEL" \
  >"$WORK/directoryd.out" 2>"$WORK/directoryd.err" &
DPID=$!
PIDS+=("$DPID")

for _ in $(seq 300); do # up to 30 s
  grep -q '^directoryd listening:' "$WORK/directoryd.out" && break
  if ! kill -0 "$DPID" 2>/dev/null; then
    echo "directoryd exited:" >&2
    cat "$WORK/directoryd.err" >&2
    exit 1
  fi
  sleep 0.1
done
LISTEN=$(grep -m1 '^directoryd listening:' "$WORK/directoryd.out") || { echo "directoryd did not start" >&2; exit 1; }
GRPC_ADDR=$(sed -n 's/^directoryd listening: grpc=\([^ ]*\) http=.*/\1/p' <<<"$LISTEN")
HTTP_ADDR=$(sed -n 's/^directoryd listening: grpc=[^ ]* http=\(.*\)$/\1/p' <<<"$LISTEN")
EMU_URL=$(grep -m1 -o '"upstream":"http://127\.0\.0\.1:[0-9]*"' "$WORK/directoryd.err" | cut -d'"' -f4)
[ -n "$GRPC_ADDR" ] && [ -n "$HTTP_ADDR" ] && [ -n "$EMU_URL" ] || { echo "cannot find the addresses" >&2; exit 1; }
echo "directoryd pid $DPID: grpc=$GRPC_ADDR http=$HTTP_ADDR emulator=$EMU_URL" >&2

# The update every phase sends: five fields, last_name and email_address
# among them (the emulator follows the published schema), user 1001 of
# company 8089 from the built-in seed.
LAST=Diaz EMAIL=ana.diaz@summitridge.example TITLE="Senior Project Manager" MOBILE="+1 503 555 0142"
UPSTREAM_BODY="{\"user\":{\"email_address\":\"$EMAIL\",\"is_active\":true,\"job_title\":\"$TITLE\",\"last_name\":\"$LAST\",\"mobile_phone\":\"$MOBILE\"}}"
REST_BODY="{\"last_name\":\"$LAST\",\"email_address\":\"$EMAIL\",\"job_title\":\"$TITLE\",\"mobile_phone\":\"$MOBILE\",\"is_active\":true}"
GRPC_DATA="{\"company_id\":8089,\"id\":1001,\"user\":$REST_BODY,\"update_mask\":{\"paths\":[\"last_name\",\"email_address\",\"job_title\",\"mobile_phone\",\"is_active\"]}}"

# The seed's Directory Admin client: the credentials directoryd --dev uses.
TOKEN=$("$RL" token -token-url "$EMU_URL/oauth/token" -client-id directory-admin-app -client-secret admin-secret-4f2a)

RESULTS="$WORK/results.jsonl"
: >"$RESULTS"

echo "phase bare: PATCH $EMU_URL directly, $CONC callers, $DURATION" >&2
"$RL" load -phase bare -c "$CONC" -d "$DURATION" -pid "$DPID" \
  -url "$EMU_URL/rest/v1.3/companies/8089/users/1001" -body "$UPSTREAM_BODY" \
  -header "Authorization: Bearer $TOKEN" -header "Procore-Company-Id: 8089" \
  -header "Content-Type: application/json" -header "Accept: application/json" \
  -header "User-Agent: procore-directory/upstream" >>"$RESULTS"

echo "phase grpc: ghz UpdateCompanyUser on $GRPC_ADDR, $CONC callers, $DURATION" >&2
# Warm up (connections, reflection) outside the measurement.
"$GHZ" --insecure --call procore.directory.v1.DirectoryService.UpdateCompanyUser \
  -d "$GRPC_DATA" -c "$CONC" -n 2000 -O summary "$GRPC_ADDR" >"$WORK/ghz-warmup.txt"
"$RL" monitor -phase grpc -c "$CONC" -pid "$DPID" -d "$DURATION" -ghz-report "$WORK/ghz.json" >>"$RESULTS" &
MPID=$!
PIDS+=("$MPID")
"$GHZ" --insecure --call procore.directory.v1.DirectoryService.UpdateCompanyUser \
  -d "$GRPC_DATA" -c "$CONC" -z "$DURATION" --duration-stop=wait -O json -o "$WORK/ghz.json.tmp" "$GRPC_ADDR"
mv "$WORK/ghz.json.tmp" "$WORK/ghz.json"
wait "$MPID"

echo "phase rest: PATCH http://$HTTP_ADDR/v1/companies/8089/users/1001, $CONC callers, $DURATION" >&2
"$RL" load -phase rest -c "$CONC" -d "$DURATION" -pid "$DPID" \
  -url "http://$HTTP_ADDR/v1/companies/8089/users/1001" -body "$REST_BODY" \
  -header "Content-Type: application/json" >>"$RESULTS"

if ! kill -0 "$DPID" 2>/dev/null; then
  echo "directoryd died during the run" >&2
  exit 1
fi
{
  echo "directoryd --dev --dev-rate-limits=false --required-fields=masked-only --log-level $LOG_LEVEL;" \
    "$(nproc) CPUs, $CONC concurrent callers, $DURATION per phase, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  "$RL" table "$RESULTS"
  echo
  echo "Raw summaries:"
  echo
  sed 's/^/    /' "$RESULTS"
} | tee ${OUT:+"$OUT"}
