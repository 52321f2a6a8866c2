#!/usr/bin/env bash
# Builds kube-lab-grader/smoke-app (our own test image) from fixtures/smoke-app, no base image.
# Prints the image name. Cached by source hash.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="$ROOT/fixtures/smoke-app"
hash="$(cat "$SRC"/*.go "$SRC/go.mod" "$0" | sha256sum | cut -c1-12)"
IMAGE="kube-lab-grader/smoke-app:$hash"
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  (cd "$SRC" && go test ./... >/dev/null && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/smoke-app" .)
  mkdir -p "$work/tmp" && chmod 1777 "$work/tmp"
  tar --numeric-owner --owner=0 --group=0 -C "$work" -c smoke-app tmp | docker import \
    --change 'ENTRYPOINT ["/smoke-app"]' --change 'EXPOSE 8080' \
    --change 'LABEL org.opencontainers.image.description="kube-lab-grader smoke test app"' - "$IMAGE" >/dev/null
fi
echo "$IMAGE"
