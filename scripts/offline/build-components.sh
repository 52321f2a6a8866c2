#!/usr/bin/env bash
# Builds the kind CLI and the add-on binaries the offline node image needs, from the Go module
# proxy and the Kubernetes module's own sources: etcd, CoreDNS, metrics-server, crictl, pause.
# Outputs are cached under $CACHE_ROOT keyed by the pinned versions; a warm run builds nothing.
source "$(dirname "$0")/lib.sh"
OUT="$CACHE_ROOT/components/bin"
mkdir -p "$OUT"

# go_build_tool <binary> <module> <version> <package> [ldflags]
# Builds through a throw-away wrapper module so the tool's own `replace` directives (which point
# at sibling directories of its repository) do not apply; its requires pick released siblings.
go_build_tool() {
  local bin="$1" module="$2" version="$3" pkg="$4" ldflags="${5:-}"
  local target="$OUT/$bin-$version"
  if [[ -x "$target" ]]; then log "$bin $version cached"; ln -sf "$bin-$version" "$OUT/$bin"; return; fi
  local work="$CACHE_ROOT/components/modules/$bin-$version"
  mkdir -p "$work"
  (
    cd "$work"
    local gover
    gover="$(go mod download -json "$module@$version" | jq -r .GoMod | xargs grep -m1 -E '^go ' | awk '{print $2}')"
    printf 'module kube-lab-grader.local/build-%s\n\ngo %s\n\nrequire %s %s\n' "$bin" "$gover" "$module" "$version" >go.mod
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >tools.go
    GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>tidy.log || { cat tidy.log >&2; die "resolving $module@$version failed"; }
    log "building $bin $version"
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w $ldflags" -o "$target.tmp" "$pkg"
    mv "$target.tmp" "$target"
  )
  ln -sf "$bin-$version" "$OUT/$bin"
}

go_build_tool kind sigs.k8s.io/kind "$KIND_VERSION" sigs.k8s.io/kind
go_build_tool etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 \
  "-X go.etcd.io/etcd/api/v3/version.GitSHA=offline"
go_build_tool coredns github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns \
  "-X github.com/coredns/coredns/coremain.GitCommit=offline"
go_build_tool metrics-server sigs.k8s.io/metrics-server "$METRICS_SERVER_VERSION" sigs.k8s.io/metrics-server/cmd/metrics-server \
  "-X sigs.k8s.io/metrics-server/pkg/version.gitVersion=$METRICS_SERVER_VERSION"
go_build_tool crictl sigs.k8s.io/cri-tools "$CRI_TOOLS_VERSION" sigs.k8s.io/cri-tools/cmd/crictl \
  "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRI_TOOLS_VERSION"

# pause: the small C program that ships inside the Kubernetes module, compiled statically.
pause_target="$OUT/pause-$PAUSE_IMAGE_TAG"
if [[ ! -x "$pause_target" ]]; then
  src="$(go env GOMODCACHE)/k8s.io/kubernetes@$KUBERNETES_VERSION/build/pause/linux/pause.c"
  [[ -f "$src" ]] || go mod download "k8s.io/kubernetes@$KUBERNETES_VERSION"
  log "compiling pause $PAUSE_IMAGE_TAG"
  gcc -Os -Wall -static -DVERSION="v$PAUSE_IMAGE_TAG-kube-lab-grader" -o "$pause_target" "$src"
  strip "$pause_target"
fi
ln -sf "pause-$PAUSE_IMAGE_TAG" "$OUT/pause"
log "components ready in $OUT"
