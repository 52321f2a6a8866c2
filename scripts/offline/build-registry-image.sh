#!/usr/bin/env bash
# Builds the local registry image from Debian's docker-registry package: the binary, the
# libraries it links and a config without authentication (filesystem storage, :5000).
# It serves the offline node's containerd as a mirror of docker.io and registry.k8s.io.
source "$(dirname "$0")/lib.sh"
command -v docker-registry >/dev/null || die "docker-registry is missing: apt-get install docker-registry"
reg_version="$(dpkg-query -W -f='${Version}' docker-registry 2>/dev/null || echo unknown)"
IMAGE="kube-lab-grader/registry:${reg_version%%+*}"
if cached_image "$IMAGE"; then log "registry image $IMAGE cached"; echo "REGISTRY_IMAGE=$IMAGE" >"$CACHE_ROOT/registry-image.env"; exit 0; fi
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
bin="$(command -v docker-registry)"
mkdir -p "$work/usr/bin" "$work/etc/docker/registry" "$work/var/lib/registry" "$work/tmp"
cp "$bin" "$work/usr/bin/docker-registry"
for lib in $(ldd "$bin" | grep -oE '/[^ ]+' | sort -u); do
  mkdir -p "$work$(dirname "$lib")"; cp -L "$lib" "$work$lib"
done
cat >"$work/etc/docker/registry/config.yml" <<'YAML'
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
YAML
tar --numeric-owner --owner=0 --group=0 -C "$work" -c . | docker import \
  --change 'ENTRYPOINT ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]' \
  --change 'EXPOSE 5000' \
  --change "LABEL io.kube-lab-grader.offline-build=true org.opencontainers.image.description=\"Debian docker-registry $reg_version for offline grading\"" \
  - "$IMAGE" >/dev/null
echo "REGISTRY_IMAGE=$IMAGE" >"$CACHE_ROOT/registry-image.env"
log "registry image $IMAGE ready"
