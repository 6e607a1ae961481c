#!/usr/bin/env bash
# bench/load.sh: CPU per call as production sees it. The Procore emulator
# (cmd/procore-emulator, rate limits off) runs as a process of its own, and
# directoryd runs against it with --upstream-url and otherwise its default
# flags (pass-through auth, --required-fields=auto, access log at info,
# metrics, tracing without an exporter), both on loopback.
#
# Every phase spreads its updates over USERS users (default 64: clones of
# the seed's user 1001 with e-mail addresses of their own, from
# `restload seed`), in turn, as production traffic does. directoryd writes
# one user at a time (#12's per-user lock, held for the round trip to
# Procore), so with USERS=1 the 16 callers queue on that lock and the run
# measures the queue, not the CPU a call costs.
#
# Phases of DURATION each, at a fixed concurrency (closed loop):
#   bare  restload PATCHes the emulator directly, flat out: the same bodies
#         and headers directoryd sends
#   grpc  restload's lean gRPC client (the generated DirectoryServiceClient,
#         one connection, one prebuilt request per user) calls
#         UpdateCompanyUser
#   ghz   (GHZ=1 only) ghz, the same call, as a second opinion
#   floor (FLOOR=1 only) the grpc phase against bench/floord instead of
#         directoryd: grpc-go and net/http forwarding one PATCH and nothing
#         else, the least a facade on these libraries costs
#   rest  restload PATCHes the REST gateway (/v1 route, mask from the body)
#   bare@grpc, bare@rest (and bare@floor)  the bare phase again, paced
#         evenly at each facade phase's rate
# Per phase: calls/s, latency percentiles, errors, directoryd's CPU per call
# and the emulator's per PATCH (utime+stime from /proc/PID/stat, both
# sampled over the same phase), directoryd's CPU per call as a ratio to the
# emulator's per PATCH (issue #15's targets: gRPC <= 2.0x, REST /v1 <=
# 2.5x) in the same phase, flat out and paced (restload table says why
# three), and directoryd's RSS in the first and last 10 s and its peak
# (VmHWM).
#
# Every update masks last_name and email_address among five fields, so each
# costs one PATCH upstream in every --required-fields mode.
#
# Pass-through auth, not client credentials: outside --dev, client
# credentials need mutual TLS and a policy (docs/security.md), which would
# add a TLS handshake and record layer the bare phase does not pay. The
# callers send the emulator's token for the seed's Directory Admin client.
#
# Not part of CI (it runs for minutes). Needs Go and Linux (/proc). Stops by
# itself and kills what it started.
#
#   bench/load.sh                          # 30 s per phase, 16 callers, 64 users
#   DURATION=10s CONC=32 bench/load.sh
#   USERS=1 bench/load.sh                  # every call to one user: the lock's queue
#   GHZ=1 bench/load.sh                    # also ghz (installs the pinned ghz into .tools/bin)
#   FLOOR=1 bench/load.sh                  # also the floor (bench/floord)
#   DIRECTORYD_FLAGS="--log-level warn" bench/load.sh
#   OUT=bench/results/load.md bench/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${DURATION:-30s}
CONC=${CONC:-16}
USERS=${USERS:-64}
GHZ=${GHZ:-0}
FLOOR=${FLOOR:-0}
DIRECTORYD_FLAGS=${DIRECTORYD_FLAGS:-}
GHZ_VERSION=v0.120.0              # go list -m -versions github.com/bojand/ghz lists only old tags; v0.120.0 is the latest release
OUT=${OUT:-}

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

echo "building directoryd, procore-emulator and restload" >&2
go build -o "$WORK/directoryd" ./cmd/directoryd
go build -o "$WORK/procore-emulator" ./cmd/procore-emulator
go build -o "$WORK/restload" ./bench/restload
[ "$FLOOR" = 1 ] && go build -o "$WORK/floord" ./bench/floord
RL="$WORK/restload"

# waitfor FILE PATTERN PID: waits up to 30 s for a line of FILE matching PATTERN.
waitfor() {
  for _ in $(seq 300); do
    grep -q "$2" "$1" && return 0
    if ! kill -0 "$3" 2>/dev/null; then
      echo "process $3 exited:" >&2
      cat "$WORK"/*.err >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "no line matching $2 in $1" >&2
  exit 1
}

"$RL" seed -users "$USERS" >"$WORK/seed.json"
"$WORK/procore-emulator" --addr 127.0.0.1:0 --hourly-limit 0 --spike-limit 0 --seed "$WORK/seed.json" \
  >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
EPID=$!
PIDS+=("$EPID")
waitfor "$WORK/emulator.out" '^procore-emulator listening on ' "$EPID"
EMU_URL=$(sed -n 's/^procore-emulator listening on \(http:\/\/[^ ]*\)$/\1/p' "$WORK/emulator.out" | head -1)

# shellcheck disable=SC2086 # DIRECTORYD_FLAGS is a list of flags
"$WORK/directoryd" --upstream-url "$EMU_URL" --grpc-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 $DIRECTORYD_FLAGS \
  >"$WORK/directoryd.out" 2>"$WORK/directoryd.err" &
DPID=$!
PIDS+=("$DPID")
waitfor "$WORK/directoryd.out" '^directoryd listening:' "$DPID"
LISTEN=$(grep -m1 '^directoryd listening:' "$WORK/directoryd.out")
GRPC_ADDR=$(sed -n 's/^directoryd listening: grpc=\([^ ]*\) http=.*/\1/p' <<<"$LISTEN")
HTTP_ADDR=$(sed -n 's/^directoryd listening: grpc=[^ ]* http=\(.*\)$/\1/p' <<<"$LISTEN")
[ -n "$GRPC_ADDR" ] && [ -n "$HTTP_ADDR" ] && [ -n "$EMU_URL" ] || { echo "cannot find the addresses" >&2; exit 1; }
echo "directoryd pid $DPID: grpc=$GRPC_ADDR http=$HTTP_ADDR; emulator pid $EPID: $EMU_URL" >&2

# The update every phase sends: five fields, last_name and email_address
# among them, to bench user {id} of company 8089 (restload fills in {id}
# and {email}, the user's own address, call by call).
LAST=Diaz EMAIL='{email}' TITLE="Senior Project Manager" MOBILE="+1 503 555 0142"
UPSTREAM_BODY="{\"user\":{\"email_address\":\"$EMAIL\",\"is_active\":true,\"job_title\":\"$TITLE\",\"last_name\":\"$LAST\",\"mobile_phone\":\"$MOBILE\"}}"
REST_BODY="{\"last_name\":\"$LAST\",\"email_address\":\"$EMAIL\",\"job_title\":\"$TITLE\",\"mobile_phone\":\"$MOBILE\",\"is_active\":true}"
# ghz's data: one message per user, which ghz sends in turn (an array).
GRPC_DATA=$(for ((i = 0; i < USERS; i++)); do
  id=$((5001 + i))
  printf '%s{"company_id":8089,"id":%d,"user":%s,"update_mask":{"paths":["last_name","email_address","job_title","mobile_phone","is_active"]}}' \
    "$([ "$i" = 0 ] && echo '[' || echo ',')" "$id" "${REST_BODY//\{email\}/bench-$id@summitridge.example}"
done; echo ']')

# The seed's Directory Admin client; its token is the callers' (pass-through).
TOKEN=$("$RL" token -token-url "$EMU_URL/oauth/token" -client-id directory-admin-app -client-secret admin-secret-4f2a)

RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
PROCS=(-pid "$DPID" -upstream-pid "$EPID")

# bare PHASE [RATE]: PATCH the emulator directly, flat out or paced at RATE/s.
bare() {
  "$RL" load -phase "$1" -c "$CONC" -d "$DURATION" -rate "${2:-0}" "${PROCS[@]}" \
    -users "$USERS" -url "$EMU_URL/rest/v1.3/companies/8089/users/{id}" -body "$UPSTREAM_BODY" \
    -header "Authorization: Bearer $TOKEN" -header "Procore-Company-Id: 8089" \
    -header "Content-Type: application/json" -header "Accept: application/json" \
    -header "User-Agent: procore-directory/upstream" >>"$RESULTS"
}
# rps PHASE: the calls/s a phase reached, from its summary.
rps() { sed -n "s/.*\"phase\":\"$1\".*\"rps\":\([0-9.]*\).*/\1/p" "$RESULTS"; }

echo "phase bare: PATCH $EMU_URL directly, $CONC callers, $DURATION" >&2
bare bare

echo "phase grpc: generated-stub client, UpdateCompanyUser on $GRPC_ADDR, $CONC callers, $DURATION" >&2
"$RL" grpc -phase grpc -c "$CONC" -d "$DURATION" -users "$USERS" "${PROCS[@]}" -addr "$GRPC_ADDR" -token "$TOKEN" >>"$RESULTS"

if [ "$GHZ" = 1 ]; then
  TOOLS="$ROOT/.tools"
  mkdir -p "$TOOLS/bin"
  if [ ! -x "$TOOLS/bin/ghz" ] || [ "$(cat "$TOOLS/.ghz" 2>/dev/null)" != "$GHZ_VERSION" ]; then
    echo "installing ghz $GHZ_VERSION into .tools/bin" >&2
    # Outside the module, so that ghz's own dependency versions are used.
    (cd / && GOBIN="$TOOLS/bin" GOFLAGS= go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION")
    echo "$GHZ_VERSION" >"$TOOLS/.ghz"
  fi
  GHZ_BIN="$TOOLS/bin/ghz"
  echo "phase ghz: ghz UpdateCompanyUser on $GRPC_ADDR, $CONC callers, $DURATION" >&2
  META="{\"authorization\":\"Bearer $TOKEN\"}"
  "$GHZ_BIN" --insecure --call procore.directory.v1.DirectoryService.UpdateCompanyUser -m "$META" \
    -d "$GRPC_DATA" -c "$CONC" -n 2000 -O summary "$GRPC_ADDR" >"$WORK/ghz-warmup.txt"
  "$RL" monitor -phase ghz -c "$CONC" "${PROCS[@]}" -d "$DURATION" -ghz-report "$WORK/ghz.json" >>"$RESULTS" &
  MPID=$!
  PIDS+=("$MPID")
  "$GHZ_BIN" --insecure --call procore.directory.v1.DirectoryService.UpdateCompanyUser -m "$META" \
    -d "$GRPC_DATA" -c "$CONC" -z "$DURATION" --duration-stop=wait -O json -o "$WORK/ghz.json.tmp" "$GRPC_ADDR"
  mv "$WORK/ghz.json.tmp" "$WORK/ghz.json"
  wait "$MPID"
fi

echo "phase rest: PATCH http://$HTTP_ADDR/v1/companies/8089/users/{id}, $CONC callers, $DURATION" >&2
"$RL" load -phase rest -c "$CONC" -d "$DURATION" -users "$USERS" "${PROCS[@]}" \
  -url "http://$HTTP_ADDR/v1/companies/8089/users/{id}" -body "$REST_BODY" \
  -header "Authorization: Bearer $TOKEN" -header "Content-Type: application/json" >>"$RESULTS"

PACED=(grpc rest)
if [ "$FLOOR" = 1 ]; then
  "$WORK/floord" -upstream "$EMU_URL" >"$WORK/floord.out" 2>"$WORK/floord.err" &
  FPID=$!
  PIDS+=("$FPID")
  waitfor "$WORK/floord.out" '^floord listening: grpc=' "$FPID"
  FLOOR_ADDR=$(sed -n 's/^floord listening: grpc=\(.*\)$/\1/p' "$WORK/floord.out" | head -1)
  echo "phase floor: generated-stub client, UpdateCompanyUser on bench/floord $FLOOR_ADDR, $CONC callers, $DURATION" >&2
  "$RL" grpc -phase floor -c "$CONC" -d "$DURATION" -users "$USERS" -pid "$FPID" -upstream-pid "$EPID" \
    -addr "$FLOOR_ADDR" -token "$TOKEN" >>"$RESULTS"
  kill -TERM "$FPID"
  PACED+=(floor)
fi

# The emulator paced at each facade phase's rate (its CPU per request falls
# as its load rises and its requests come in bursts; paced, they come one
# at a time).
for phase in "${PACED[@]}"; do
  r=$(rps "$phase")
  echo "phase bare@$phase: PATCH $EMU_URL directly at $phase's $r calls/s, $CONC callers, $DURATION" >&2
  bare "bare@$phase" "$r"
done

for p in "$DPID" "$EPID"; do
  kill -0 "$p" 2>/dev/null || { echo "process $p died during the run" >&2; exit 1; }
done
{
  echo "procore-emulator --hourly-limit 0 --spike-limit 0 --seed (restload seed -users $USERS); directoryd --upstream-url EMULATOR${DIRECTORYD_FLAGS:+ $DIRECTORYD_FLAGS} (defaults otherwise);" \
    "$(nproc) CPUs, $CONC concurrent callers over $USERS users, $DURATION per phase, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  "$RL" table "$RESULTS"
  echo
  echo "Raw summaries:"
  echo
  sed 's/^/    /' "$RESULTS"
} | tee ${OUT:+"$OUT"}
