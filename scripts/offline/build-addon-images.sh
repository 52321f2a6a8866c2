#!/usr/bin/env bash
# Add-on images the grading cluster installs after it starts, built from the binaries that
# build-components.sh made. Tagged on this host under our own name only; the local registry serves
# them to the kind node under the upstream name (label io.kube-lab-grader.original).
source "$(dirname "$0")/lib.sh"
COMP_BIN="$CACHE_ROOT/components/bin"
ORIGINAL="registry.k8s.io/metrics-server/metrics-server:$METRICS_SERVER_VERSION"
IMAGE="kube-lab-grader/lookalike/$ORIGINAL"
if cached_image "$IMAGE" && \
   [[ "$(docker image inspect -f '{{index .Config.Labels "io.kube-lab-grader.offline-build"}}' "$IMAGE")" == true ]]; then
  log "add-on image $IMAGE cached"; exit 0
fi
[[ -x "$COMP_BIN/metrics-server" ]] || die "$COMP_BIN/metrics-server missing: run scripts/offline/build-components.sh"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp" "$work/etc" && chmod 1777 "$work/tmp"
cp "$COMP_BIN/metrics-server" "$work/metrics-server"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:1000:1000:nonroot:/home/nonroot:/sbin/nologin\n' >"$work/etc/passwd"
tar --numeric-owner --owner=0 --group=0 -C "$work" -c . | docker import \
  --change 'ENTRYPOINT ["/metrics-server"]' \
  --change "LABEL io.kube-lab-grader.offline-build=true io.kube-lab-grader.mirror=true io.kube-lab-grader.original=$ORIGINAL" \
  - "$IMAGE" >/dev/null
log "add-on image $IMAGE ready"
