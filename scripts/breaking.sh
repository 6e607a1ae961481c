#!/usr/bin/env bash
# The breaking-change gate: fails when proto/ (as in the working tree) breaks
# the wire or source compatibility of the API at a git ref (default HEAD~1,
# the previous commit of main), by the FILE rules named in buf.yaml.
#
#   scripts/breaking.sh            # against HEAD~1
#   scripts/breaking.sh origin/main
#
# buf.yaml's workspace includes .tools/proto, which git ignores, so
# `buf breaking --against .git#ref=...` cannot resolve the imports. Instead
# the ref's buf.yaml and proto/ are extracted into a temporary directory,
# given this checkout's .tools/proto, and both sides are built into images
# (comparing the workspace itself with an image does not match the files
# of its modules). With no such ref (a single-commit repository, a shallow
# clone) or no proto/ at the ref, there is nothing to break: the gate
# passes and says why.
set -euo pipefail
cd "$(dirname "$0")/.."
ref="${1:-HEAD~1}"
buf="$PWD/.tools/bin/buf"

if ! git rev-parse -q --verify "$ref^{commit}" >/dev/null; then
  echo "buf breaking: skipped, no commit $ref (single-commit or shallow repository)"
  exit 0
fi
if ! git cat-file -e "$ref:proto" 2>/dev/null; then
  echo "buf breaking: skipped, $ref has no proto/"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/against/.tools"
git archive "$ref" -- buf.yaml proto | tar -x -C "$tmp/against"
cp -r .tools/proto "$tmp/against/.tools/proto"
(cd "$tmp/against" && "$buf" build -o "$tmp/against.binpb")
"$buf" build -o "$tmp/current.binpb"
"$buf" breaking "$tmp/current.binpb" --against "$tmp/against.binpb" --config buf.yaml
echo "buf breaking: no breaking change against $ref ($(git rev-parse --short "$ref"))"
