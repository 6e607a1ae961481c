#!/usr/bin/env bash
# The breaking-change gate: fails when proto/ (as in the working tree) breaks
# the wire or source compatibility of the API at a git ref, by the FILE rules
# named in buf.yaml.
#
#   scripts/breaking.sh                # against every released API (below)
#   scripts/breaking.sh HEAD~1         # against one ref
#   scripts/breaking.sh origin/main v1.2
#
# With no ref, the refs are HEAD~1 and every commit of main (first parent)
# since the v1 promise ($V1_PROMISE, the merge of #17) that changed proto/ or
# buf.yaml: each is an API that callers may have built against, and a
# change landed several commits at once must not break any of them (against
# HEAD~1 alone, a break in an earlier commit of the same landing passed).
# Refs with the same proto/ tree are compared once.
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
V1_PROMISE=09305ec
buf="$PWD/.tools/bin/buf"

refs=("$@")
if [ ${#refs[@]} -eq 0 ]; then
  refs=(HEAD~1)
  if git rev-parse -q --verify "$V1_PROMISE^{commit}" >/dev/null; then
    while read -r c; do refs+=("$c"); done < <(git rev-list --first-parent "$V1_PROMISE^..HEAD~1" -- proto buf.yaml 2>/dev/null || true)
  fi
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$buf" build -o "$tmp/current.binpb"
declare -A seen=()
for ref in "${refs[@]}"; do
  if ! git rev-parse -q --verify "$ref^{commit}" >/dev/null; then
    echo "buf breaking: skipped, no commit $ref (single-commit or shallow repository)"
    continue
  fi
  if ! git cat-file -e "$ref:proto" 2>/dev/null; then
    echo "buf breaking: skipped, $ref has no proto/"
    continue
  fi
  tree="$(git rev-parse "$ref:proto"):$(git rev-parse "$ref:buf.yaml" 2>/dev/null || true)"
  if [ -n "${seen[$tree]:-}" ]; then
    echo "buf breaking: $ref ($(git rev-parse --short "$ref")) has the API of ${seen[$tree]}, checked"
    continue
  fi
  seen[$tree]="$ref"
  against="$tmp/against-${#seen[@]}"
  mkdir -p "$against/.tools"
  git archive "$ref" -- buf.yaml proto | tar -x -C "$against"
  cp -r .tools/proto "$against/.tools/proto"
  (cd "$against" && "$buf" build -o "$against.binpb")
  "$buf" breaking "$tmp/current.binpb" --against "$against.binpb" --config buf.yaml
  echo "buf breaking: no breaking change against $ref ($(git rev-parse --short "$ref"))"
done
