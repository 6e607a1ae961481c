#!/usr/bin/env bash
# Installs pinned tools into .tools/ (ignored by git). Idempotent: a tool
# already at its pinned version is not installed again.
#
#   scripts/tools.sh                  # code generation (the default): buf (npm), protoc plugins, third-party .proto files
#   scripts/tools.sh grpcurl          # grpcurl only: `go install`, no npm
#   scripts/tools.sh govulncheck      # govulncheck only: `go install`, no npm
#   scripts/tools.sh openapi-validator  # swagger-parser (npm), for scripts/validate-openapi.mjs
#   scripts/tools.sh procore-sdk      # Procore's JavaScript SDK (npm), for the gateway's SDK test
#   scripts/tools.sh gen grpcurl ...  # several groups
#
# WITH_GRPCURL=1 and WITH_GOVULNCHECK=1 add those tools to the groups asked for.
# Put the tools on PATH with: export PATH="$PWD/.tools/bin:$PATH"
set -euo pipefail
cd "$(dirname "$0")/.."

BUF_VERSION=1.75.0
GOOGLE_PROTO_FILES_VERSION=6.0.1
SWAGGER_PARSER_VERSION=12.1.0
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
GRPC_GATEWAY_VERSION=v2.33.0
PROTOVALIDATE_PROTO_VERSION=v1.2.2
GRPCURL_VERSION=v1.9.3
GOVULNCHECK_VERSION=v1.9.0
PROCORE_JS_SDK_VERSION=4.0.2

TOOLS="$PWD/.tools"
mkdir -p "$TOOLS/bin"
export GOBIN="$TOOLS/bin"

stamp() { # stamp NAME VERSION -> true when NAME is already installed at VERSION
  [ -f "$TOOLS/.$1" ] && [ "$(cat "$TOOLS/.$1")" = "$2" ]
}
mark() { echo "$2" >"$TOOLS/.$1"; }

go_tool() { # go_tool NAME PACKAGE VERSION
  if ! stamp "$1" "$3" || [ ! -x "$TOOLS/bin/$1" ]; then
    go install "$2@$3"
    mark "$1" "$3"
  fi
}

npm_tool() { # npm_tool STAMP VERSION PACKAGE@VERSION...
  local name=$1 version=$2
  shift 2
  if ! stamp "$name" "$version"; then
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/npm" "$@"
    mark "$name" "$version"
  fi
}

install_gen() {
  npm_tool npm "$BUF_VERSION-$GOOGLE_PROTO_FILES_VERSION" \
    "@bufbuild/buf@$BUF_VERSION" "google-proto-files@$GOOGLE_PROTO_FILES_VERSION"
  ln -sf "$TOOLS/npm/node_modules/.bin/buf" "$TOOLS/bin/buf"

  go_tool protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION"
  go_tool protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION"
  go_tool protoc-gen-grpc-gateway github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway "$GRPC_GATEWAY_VERSION"
  go_tool protoc-gen-openapiv2 github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2 "$GRPC_GATEWAY_VERSION"

  # Third-party .proto files, fetched from package registries into .tools/proto (ignored).
  # The stamp names the set of files too, so adding one refreshes every checkout.
  local PROTO="$TOOLS/proto" GOOGLE_PROTOS="api/annotations api/http api/field_behavior api/client api/launch_stage longrunning/operations rpc/status"
  local proto_stamp="$GOOGLE_PROTO_FILES_VERSION-$PROTOVALIDATE_PROTO_VERSION-$(echo "$GOOGLE_PROTOS" | cksum | cut -d' ' -f1)"
  if ! stamp proto "$proto_stamp" || [ ! -d "$PROTO/google/api" ]; then
    rm -rf "$PROTO" && mkdir -p "$PROTO/google" "$PROTO/buf"
    # Only the files our protos import (and what those import), so buf
    # compiles nothing else. google/longrunning/operations.proto is compiled
    # for its HTTP bindings (the gateway's and OpenAPI's operation routes)
    # and the descriptor set; its Go types come from
    # cloud.google.com/go/longrunning/autogen/longrunningpb.
    for f in $GOOGLE_PROTOS; do
      mkdir -p "$PROTO/google/$(dirname "$f")"
      cp "$TOOLS/npm/node_modules/google-proto-files/google/$f.proto" "$PROTO/google/$f.proto"
    done
    moddir() { GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }
    cp -r "$(moddir "github.com/bufbuild/protovalidate@$PROTOVALIDATE_PROTO_VERSION")/proto/protovalidate/buf/validate" "$PROTO/buf/validate"
    mkdir -p "$PROTO/protoc-gen-openapiv2/options"
    cp "$(moddir "github.com/grpc-ecosystem/grpc-gateway/v2@$GRPC_GATEWAY_VERSION")"/protoc-gen-openapiv2/options/*.proto "$PROTO/protoc-gen-openapiv2/options/"
    chmod -R u+w "$PROTO"
    mark proto "$proto_stamp"
  fi
}

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(gen)
[ "${WITH_GRPCURL:-0}" = 1 ] && groups+=(grpcurl)
[ "${WITH_GOVULNCHECK:-0}" = 1 ] && groups+=(govulncheck)

for g in "${groups[@]}"; do
  case "$g" in
  gen) install_gen ;;
  grpcurl) go_tool grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl "$GRPCURL_VERSION" ;;
  govulncheck) go_tool govulncheck golang.org/x/vuln/cmd/govulncheck "$GOVULNCHECK_VERSION" ;;
  openapi-validator) npm_tool swagger-parser "$SWAGGER_PARSER_VERSION" "@apidevtools/swagger-parser@$SWAGGER_PARSER_VERSION" ;;
  procore-sdk) npm_tool procore-sdk "$PROCORE_JS_SDK_VERSION" "@procore/js-sdk@$PROCORE_JS_SDK_VERSION" ;;
  *)
    echo "tools.sh: unknown group $g (gen, grpcurl, govulncheck, openapi-validator, procore-sdk)" >&2
    exit 2
    ;;
  esac
done
