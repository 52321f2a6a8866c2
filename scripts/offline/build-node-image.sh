#!/usr/bin/env bash
# Builds, without any registry, the kind node image for KUBERNETES_VERSION and the control-plane
# and add-on images it preloads under their exact upstream names.
#
#   rootfs     mmdebstrap of Debian DEBIAN_SUITE (systemd, containerd, runc, CNI plugins, iptables)
#   + kind     kind KIND_VERSION's base-image files, read from the Go module cache
#   + k8s      kubeadm/kubelet/kubectl, crictl; component images preloaded into containerd (k8s.io)
#
# Differences from kind's official image, all because of what can be built offline here:
#   - containerd/runc/CNI plugins are Debian's (1.6 / 1.1 / 1.1) instead of kind's builds;
#     enable_unprivileged_ports/icmp reproduce containerd >= 2.0 defaults, which kind's image has.
#   - no kindnetd: a static ptp CNI config (single node) replaces it.
#   - no local-path-provisioner: kind falls back to a host-path StorageClass.
#   - a guard rejects packets to the Service range that kube-proxy has not translated
#     (node/kube-lab-grader-service-cidr-guard explains why).
# Writes the resulting image name to $CACHE_ROOT/offline-images.env (NODE_IMAGE=...).
source "$(dirname "$0")/lib.sh"
HERE="$REPO_ROOT/scripts/offline"
K8S_BIN="$CACHE_ROOT/kubernetes-$KUBERNETES_VERSION/bin"
COMP_BIN="$CACHE_ROOT/components/bin"
KIND_SRC="$(go env GOMODCACHE)/sigs.k8s.io/kind@$KIND_VERSION/images/base/files"
[[ -d "$KIND_SRC" ]] || go mod download "sigs.k8s.io/kind@$KIND_VERSION" 2>/dev/null || (cd "$CACHE_ROOT" && GOFLAGS=-mod=mod go mod download "sigs.k8s.io/kind@$KIND_VERSION")
[[ -d "$KIND_SRC" ]] || die "kind $KIND_VERSION base files not found in the Go module cache"

NODE_PACKAGES=(systemd systemd-sysv dbus conntrack iptables nftables iproute2 ethtool util-linux mount kmod
  libseccomp2 pigz bash ca-certificates curl jq procps socat containerd runc containernetworking-plugins)

# The key covers everything that goes into the image, so a change anywhere rebuilds it; the host
# tools at the end of versions.env do not go into the image.
key="$( { sed '/^# --- Host tools/,$d' "$REPO_ROOT/versions.env"; cat "$0" "$HERE"/node/*; printf '%s\n' "${NODE_PACKAGES[@]}"; } | sha256sum | cut -c1-12)"
NODE_IMAGE="kube-lab-grader/node:$KUBERNETES_VERSION-$key"
write_env() { printf 'NODE_IMAGE=%s\n' "$NODE_IMAGE" >"$CACHE_ROOT/offline-images.env"; }
if cached_image "$NODE_IMAGE"; then
  log "node image $NODE_IMAGE cached"; write_env; exit 0
fi

# --- apt sources: whatever this machine is configured with -----------------------------------
apt_sources() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do [[ -f $f ]] && { cat "$f"; echo; }; done
  [[ -f /etc/apt/sources.list ]] && grep -E '^deb ' /etc/apt/sources.list || true
  for f in /etc/apt/sources.list.d/*.list; do [[ -f $f ]] && grep -E '^deb ' "$f" || true; done
}

# --- rootfs ------------------------------------------------------------------------------------
rootfs_tar="$CACHE_ROOT/rootfs/node-$DEBIAN_SUITE-$(printf '%s\n' "${NODE_PACKAGES[@]}" | sha256sum | cut -c1-12).tar"
if [[ ! -s "$rootfs_tar" ]]; then
  command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: apt-get install mmdebstrap"
  mkdir -p "$(dirname "$rootfs_tar")"
  sources="$(mktemp --suffix=.sources)"; apt_sources >"$sources"
  log "mmdebstrap $DEBIAN_SUITE with ${#NODE_PACKAGES[@]} packages (about a minute)"
  mmdebstrap --quiet --format=tar --variant=minbase --include="$(IFS=,; echo "${NODE_PACKAGES[*]}")" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$DEBIAN_SUITE" "$rootfs_tar.tmp" "$sources"
  rm -f "$sources"; mv "$rootfs_tar.tmp" "$rootfs_tar"
fi

for b in kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
  [[ -x "$K8S_BIN/$b" ]] || die "$K8S_BIN/$b missing: run scripts/offline/build-kubernetes.sh"
done
for b in etcd coredns crictl pause; do
  [[ -x "$COMP_BIN/$b" ]] || die "$COMP_BIN/$b missing: run scripts/offline/build-components.sh"
done

WORK="$(mktemp -d "$CACHE_ROOT/node-build.XXXXXX")"
BUILD_CID=""
cleanup() { [[ -n "$BUILD_CID" ]] && docker rm -f "$BUILD_CID" >/dev/null 2>&1; rm -rf "$WORK"; }
trap cleanup EXIT
ROOT="$WORK/rootfs"; mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$rootfs_tar"

# --- component images: one binary each, under the names kubeadm and kind expect --------------
# copy_with_libs <rootfs-src> <dest-root> <path>...: copies binaries and their shared libraries.
copy_with_libs() {
  local src="$1" dst="$2"; shift 2
  local p lib
  for p in "$@"; do
    mkdir -p "$dst$(dirname "$p")"; cp -a "$src$p" "$dst$p"
    if [[ -L "$src$p" ]]; then continue; fi
    for lib in $(chroot "$src" ldd "$p" 2>/dev/null | grep -oE '/[^ ]+' | sort -u); do
      [[ -e "$dst$lib" ]] && continue
      mkdir -p "$dst$(dirname "$lib")"; cp -aL "$src$lib" "$dst$lib"
    done
  done
}
image_from_dir() { # dir name [docker import --change ...]
  local dir="$1" name="$2"; shift 2
  mkdir -p "$dir/tmp" "$dir/etc"; chmod 1777 "$dir/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  tar --numeric-owner -C "$dir" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'LABEL io.kube-lab-grader.offline-build=true' "$@" - "$name" >/dev/null
}
declare -A IMAGES=(
  [kube-apiserver]="registry.k8s.io/kube-apiserver:$KUBERNETES_VERSION"
  [kube-controller-manager]="registry.k8s.io/kube-controller-manager:$KUBERNETES_VERSION"
  [kube-scheduler]="registry.k8s.io/kube-scheduler:$KUBERNETES_VERSION"
  [kube-proxy]="registry.k8s.io/kube-proxy:$KUBERNETES_VERSION"
  [etcd]="registry.k8s.io/etcd:$ETCD_IMAGE_TAG"
  [coredns]="registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
  [pause]="registry.k8s.io/pause:$PAUSE_IMAGE_TAG"
)
expected_images="$("$K8S_BIN/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null | sort)"
ours="$(printf '%s\n' "${IMAGES[@]}" | sort)"
[[ "$expected_images" == "$ours" ]] || die "versions.env disagrees with kubeadm's image list:
kubeadm wants:
$expected_images
versions.env gives:
$ours"

for c in "${!IMAGES[@]}"; do
  d="$WORK/img-$c"; mkdir -p "$d/usr/local/bin"
  case $c in
    kube-*) cp "$K8S_BIN/$c" "$d/usr/local/bin/"; changes=() ;;
    etcd) cp "$COMP_BIN/etcd" "$d/usr/local/bin/"; mkdir -p "$d/var/lib/etcd"; changes=() ;;
    coredns) cp "$COMP_BIN/coredns" "$d/coredns"; changes=(--change 'ENTRYPOINT ["/coredns"]') ;;
    pause) cp "$COMP_BIN/pause" "$d/pause"; changes=(--change 'ENTRYPOINT ["/pause"]') ;;
  esac
  if [[ $c == kube-proxy ]]; then
    # kube-proxy programs iptables through the nft backend, like the node itself.
    copy_with_libs "$ROOT" "$d" /usr/sbin/xtables-nft-multi /usr/sbin/conntrack
    for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore \
             iptables-nft iptables-nft-save iptables-nft-restore ip6tables-nft ip6tables-nft-save ip6tables-nft-restore; do
      ln -sf xtables-nft-multi "$d/usr/sbin/$t"
    done
    mkdir -p "$d/usr/lib/x86_64-linux-gnu"; cp -a "$ROOT/usr/lib/x86_64-linux-gnu/xtables" "$d/usr/lib/x86_64-linux-gnu/"
    for lib in $(cd "$ROOT" && ls usr/lib/x86_64-linux-gnu/xtables/*.so); do
      for dep in $(chroot "$ROOT" ldd "/$lib" 2>/dev/null | grep -oE '/[^ ]+' | sort -u); do
        [[ -e "$d$dep" ]] || { mkdir -p "$d$(dirname "$dep")"; cp -aL "$ROOT$dep" "$d$dep"; }
      done
    done
  fi
  image_from_dir "$d" "${IMAGES[$c]}" "${changes[@]}"
  log "image ${IMAGES[$c]}"
done
docker save -o "$WORK/preload.tar" "${IMAGES[@]}"

# --- node rootfs: kind's base files and the Kubernetes node binaries ---------------------------
cp -r "$KIND_SRC/." "$ROOT/"
chmod -R u+w "$ROOT/etc" "$ROOT/kind" "$ROOT/usr/local/bin"
find "$ROOT/kind" "$ROOT/etc/containerd" "$ROOT/etc/default" "$ROOT/etc/sysctl.d" "$ROOT/etc/systemd/system" -type f -exec chmod 0644 {} +
chmod 0755 "$ROOT"/kind/bin/* "$ROOT"/usr/local/bin/clean-install "$ROOT"/usr/local/bin/entrypoint "$ROOT/kind/bin"
install -m 0755 "$HERE/node/adapt-to-host" "$ROOT/usr/local/bin/kube-lab-grader-adapt-to-host"
install -m 0755 "$HERE/node/kube-lab-grader-service-cidr-guard" "$ROOT/usr/local/bin/"
install -m 0644 "$HERE/node/kube-lab-grader-service-cidr-guard.service" "$ROOT/etc/systemd/system/"
install -m 0755 "$K8S_BIN/kubeadm" "$K8S_BIN/kubelet" "$K8S_BIN/kubectl" "$ROOT/usr/bin/"
install -m 0755 "$COMP_BIN/crictl" "$ROOT/usr/local/bin/crictl"
ln -sf /usr/bin/containerd "$ROOT/usr/local/bin/containerd"
ln -sf /usr/bin/ctr "$ROOT/usr/local/bin/ctr"
mkdir -p "$ROOT/opt/cni/bin" "$ROOT/etc/cni/net.d" "$ROOT/etc/kubernetes/manifests" "$ROOT/kind/manifests"
for p in host-local loopback ptp portmap bridge; do ln -sf "/usr/lib/cni/$p" "$ROOT/opt/cni/bin/$p"; done
install -m 0644 "$HERE/node/10-kube-lab-grader-ptp.conflist" "$ROOT/etc/cni/net.d/"
install -m 0644 "$HERE/node/default-cni.yaml" "$ROOT/kind/manifests/default-cni.yaml"
echo "$KUBERNETES_VERSION" >"$ROOT/kind/version"

# containerd: kind's config plus what containerd >= 2.0 does by default, and the registry mirror.
cat >>"$ROOT/etc/containerd/config.toml" <<'TOML'

# kube-lab-grader offline node: containerd 1.6 with containerd >= 2.0 defaults, and images served
# by the local registry mirror configured in /etc/containerd/certs.d.
[plugins."io.containerd.grpc.v1.cri"]
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/etc/containerd/certs.d"
TOML
# The [plugins."io.containerd.grpc.v1.cri"] table must appear once: merge the appended keys into it.
python3 - "$ROOT/etc/containerd/config.toml" <<'PY'
import re, sys
p = sys.argv[1]; s = open(p).read()
head = '[plugins."io.containerd.grpc.v1.cri"]\n'
first = s.index(head); second = s.index(head, first + 1)
extra_end = s.index('[plugins."io.containerd.grpc.v1.cri".registry]', second)
extra = s[second + len(head):extra_end]
s = s[:second] + s[extra_end:]
s = s[:first + len(head)] + extra.rstrip() + "\n" + s[first + len(head):]
open(p, "w").write(s)
PY
for upstream in docker.io registry.k8s.io _default; do
  mkdir -p "$ROOT/etc/containerd/certs.d/$upstream"
  cat >"$ROOT/etc/containerd/certs.d/$upstream/hosts.toml" <<'TOML'
# Offline grading: every image comes from the project's local registry container on the kind
# network. `server` points there too, so a missing image fails with a plain "not found".
server = "http://lab-grader-registry:5000"

[host."http://lab-grader-registry:5000"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
TOML
done
chroot "$ROOT" ctr oci spec \
  | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
  | jq 'del(.process.rlimits)' >"$ROOT/etc/containerd/cri-base.json"

# systemd, as kind's base Dockerfile sets it up.
find "$ROOT/lib/systemd/system/sysinit.target.wants/" -name "systemd-tmpfiles-setup.service" -delete
rm -f "$ROOT"/lib/systemd/system/multi-user.target.wants/* "$ROOT"/etc/systemd/system/*.wants/* \
  "$ROOT"/lib/systemd/system/local-fs.target.wants/* "$ROOT"/lib/systemd/system/sockets.target.wants/*udev* \
  "$ROOT"/lib/systemd/system/sockets.target.wants/*initctl* "$ROOT"/lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >>"$ROOT/etc/systemd/journald.conf"
ln -sf /lib/systemd/systemd "$ROOT/sbin/init"
systemctl --root="$ROOT" enable kubelet.service containerd.service undo-mount-hacks.service kube-lab-grader-service-cidr-guard.service >/dev/null 2>&1
systemctl --root="$ROOT" mask systemd-binfmt.service >/dev/null 2>&1
rm -f "$ROOT/etc/machine-id"; touch "$ROOT/etc/machine-id"

# --- assemble, then preload the component images into the node's containerd ------------------
base="kube-lab-grader/node-base:$KUBERNETES_VERSION-$key"
log "importing node rootfs as $base"
tar --numeric-owner -C "$ROOT" -c . | docker import - "$base" >/dev/null
BUILD_CID="$(docker run -d --privileged --entrypoint /bin/sleep "$base" infinity)"
docker cp "$WORK/preload.tar" "$BUILD_CID:/preload.tar"
docker exec "$BUILD_CID" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
for _ in $(seq 60); do docker exec "$BUILD_CID" ctr version >/dev/null 2>&1 && break; sleep 0.5; done
log "preloading ${#IMAGES[@]} images into the node's containerd"
docker exec "$BUILD_CID" ctr --namespace=k8s.io images import --all-platforms --no-unpack /preload.tar >/dev/null \
  || { docker exec "$BUILD_CID" cat /tmp/containerd.log >&2; die "ctr images import failed"; }
docker exec "$BUILD_CID" ctr --namespace=k8s.io images ls -q | sort >"$WORK/preloaded"
for img in "${IMAGES[@]}"; do grep -qx "$img" "$WORK/preloaded" || die "image $img missing after preload"; done
docker exec "$BUILD_CID" bash -c 'pkill containerd; sleep 1; rm -rf /preload.tar /tmp/containerd.log /var/lib/containerd/tmpmounts /run/containerd'
committed="kube-lab-grader/node-committed:$KUBERNETES_VERSION-$key"
docker commit \
  --change 'ENV container=docker' \
  --change 'ENTRYPOINT ["/usr/local/bin/kube-lab-grader-adapt-to-host", "/usr/local/bin/entrypoint", "/sbin/init"]' \
  --change 'CMD []' \
  --change "LABEL io.kube-lab-grader.offline-build=true io.kube-lab-grader.kubernetes-version=$KUBERNETES_VERSION io.kube-lab-grader.kind-version=$KIND_VERSION" \
  "$BUILD_CID" "$committed" >/dev/null
# `docker commit --change` cannot set STOPSIGNAL; the legacy builder can, from the local image.
printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$committed" | DOCKER_BUILDKIT=0 docker build -q -t "$NODE_IMAGE" - >/dev/null 2>"$WORK/build.err" || { cat "$WORK/build.err" >&2; die "setting STOPSIGNAL failed"; }
docker rmi "$committed" "$base" >/dev/null 2>&1 || true
write_env
log "node image $NODE_IMAGE ready ($(docker image inspect -f '{{.Size}}' "$NODE_IMAGE" | numfmt --to=iec))"
