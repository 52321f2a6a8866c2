#!/usr/bin/env bash
# Everything an offline grading cluster needs, built locally and cached (warm runs build nothing):
# Kubernetes binaries, add-ons, the kind node image, the registry image and the lab's look-alikes.
source "$(dirname "$0")/lib.sh"
HERE="$REPO_ROOT/scripts/offline"
command -v go >/dev/null || die "Go is required to build the offline cluster (no registry reachable)"
command -v docker >/dev/null || die "Docker is required"
missing=()
for tool in mmdebstrap docker-registry jq; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || die "missing ${missing[*]}: apt-get install mmdebstrap docker-registry jq"
  log "installing ${missing[*]} from the machine's apt sources"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap docker-registry jq >/dev/null
fi
dpkg -s busybox-static >/dev/null 2>&1 || { [[ $(id -u) == 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null; }
bash "$HERE/build-kubernetes.sh"
bash "$HERE/build-components.sh"
bash "$HERE/build-node-image.sh"
# The node image's control-plane images are built under their upstream names to be preloaded into
# it; once it exists, drop those tags so that this host's Docker never runs them by those names.
for tag in $(docker images --filter label=io.kube-lab-grader.offline-build=true --format '{{.Repository}}:{{.Tag}}' | grep '^registry\.k8s\.io/' || true); do
  [[ "$(docker image inspect -f '{{index .Config.Labels "io.kube-lab-grader.mirror"}}' "$tag")" == true ]] && continue
  docker image rm "$tag" >/dev/null 2>&1 && log "removed the local tag $tag (preloaded into the node image)" || true
done
bash "$HERE/build-addon-images.sh"
bash "$HERE/build-registry-image.sh"
if [[ "${LAB_GRADER_REBUILD:-0}" == 1 ]]; then bash "$HERE/build-app-images.sh" --force; else bash "$HERE/build-app-images.sh"; fi
log "offline artefacts ready"
