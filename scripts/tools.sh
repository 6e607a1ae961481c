#!/usr/bin/env bash
# Installs the pinned code-generation and test tools into .tools/ (ignored by git).
# Idempotent: a tool already at its pinned version is not installed again.
set -euo pipefail
cd "$(dirname "$0")/.."

BUF_VERSION=1.75.0
GOOGLE_PROTO_FILES_VERSION=6.0.1
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
GRPC_GATEWAY_VERSION=v2.33.0
PROTOVALIDATE_PROTO_VERSION=v1.2.2
GRPCURL_VERSION=v1.9.3
GOVULNCHECK_VERSION=v1.9.0

TOOLS="$PWD/.tools"
mkdir -p "$TOOLS/bin"
export GOBIN="$TOOLS/bin"

stamp() { # stamp NAME VERSION -> true when NAME is already installed at VERSION
  [ -f "$TOOLS/.$1" ] && [ "$(cat "$TOOLS/.$1")" = "$2" ]
}
mark() { echo "$2" >"$TOOLS/.$1"; }

if ! stamp npm "$BUF_VERSION-$GOOGLE_PROTO_FILES_VERSION"; then
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/npm" \
    "@bufbuild/buf@$BUF_VERSION" "google-proto-files@$GOOGLE_PROTO_FILES_VERSION"
  mark npm "$BUF_VERSION-$GOOGLE_PROTO_FILES_VERSION"
fi
ln -sf "$TOOLS/npm/node_modules/.bin/buf" "$TOOLS/bin/buf"

go_tool() { # go_tool NAME PACKAGE VERSION
  if ! stamp "$1" "$3" || [ ! -x "$TOOLS/bin/$1" ]; then
    go install "$2@$3"
    mark "$1" "$3"
  fi
}
go_tool protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION"
go_tool protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION"
go_tool protoc-gen-grpc-gateway github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway "$GRPC_GATEWAY_VERSION"
go_tool protoc-gen-openapiv2 github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2 "$GRPC_GATEWAY_VERSION"

# Third-party .proto files, fetched from package registries into .tools/proto (ignored).
PROTO="$TOOLS/proto"
if ! stamp proto "$GOOGLE_PROTO_FILES_VERSION-$PROTOVALIDATE_PROTO_VERSION" || [ ! -d "$PROTO/google/api" ]; then
  rm -rf "$PROTO" && mkdir -p "$PROTO/google" "$PROTO/buf"
  # Only the files our protos import (and what those import), so buf compiles nothing else.
  mkdir -p "$PROTO/google/api"
  for f in annotations http field_behavior client launch_stage; do
    cp "$TOOLS/npm/node_modules/google-proto-files/google/api/$f.proto" "$PROTO/google/api/"
  done
  moddir() { GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }
  cp -r "$(moddir "github.com/bufbuild/protovalidate@$PROTOVALIDATE_PROTO_VERSION")/proto/protovalidate/buf/validate" "$PROTO/buf/validate"
  mkdir -p "$PROTO/protoc-gen-openapiv2/options"
  cp "$(moddir "github.com/grpc-ecosystem/grpc-gateway/v2@$GRPC_GATEWAY_VERSION")"/protoc-gen-openapiv2/options/*.proto "$PROTO/protoc-gen-openapiv2/options/"
  chmod -R u+w "$PROTO"
  mark proto "$GOOGLE_PROTO_FILES_VERSION-$PROTOVALIDATE_PROTO_VERSION"
fi

if [ "${WITH_GOVULNCHECK:-0}" = 1 ]; then
  go_tool govulncheck golang.org/x/vuln/cmd/govulncheck "$GOVULNCHECK_VERSION"
fi

if [ "${WITH_GRPCURL:-0}" = 1 ]; then
  go_tool grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl "$GRPCURL_VERSION"
fi
