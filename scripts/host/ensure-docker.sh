#!/usr/bin/env bash
# Makes sure a Docker engine runs on this host and can start kind nodes.
#   --install   install Debian's docker.io (and jq) when dockerd is missing (CI, fresh machines)
# Idempotent. Exit 3 with one line of advice when Docker cannot be made usable.
set -euo pipefail
INSTALL=0; [[ "${1:-}" == "--install" ]] && INSTALL=1
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 3; }
HERE="$(cd "$(dirname "$0")" && pwd)"
WRAPPER_DST=/usr/local/libexec/kube-lab-grader/runc-without-sys-resource
DOCKERD_LOG=/var/log/kube-lab-grader-dockerd.log

need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
command -v jq >/dev/null || need_pkgs+=(jq)
if ((${#need_pkgs[@]})); then
  ((INSTALL)) || die "missing ${need_pkgs[*]}: install Docker (e.g. apt-get install docker.io) and start it"
  log "installing ${need_pkgs[*]} from the machine's apt sources"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/dev/null
fi

# CAP_SYS_RESOURCE is capability 24: privileged containers fail when the bounding set lacks it.
capbnd=$((16#$(awk '/^CapBnd/ {print $2}' /proc/self/status)))
needs_wrapper=0; (( (capbnd >> 24) & 1 )) || needs_wrapper=1

daemon_json=/etc/docker/daemon.json
configure_wrapper() {
  install -D -m 0755 "$HERE/runc-without-sys-resource" "$WRAPPER_DST"
  mkdir -p /etc/docker
  local current='{}'
  [[ -s $daemon_json ]] && current="$(cat "$daemon_json")"
  local wanted
  wanted="$(jq --arg p "$WRAPPER_DST" '.runtimes["runc-without-sys-resource"] = {path: $p} | .["default-runtime"] = "runc-without-sys-resource"' <<<"$current")"
  if [[ "$wanted" != "$current" ]]; then
    printf '%s\n' "$wanted" >"$daemon_json"
    return 0 # changed
  fi
  return 1
}

changed=0
if ((needs_wrapper)); then
  log "this host's capability bounding set lacks CAP_SYS_RESOURCE: docker's default runtime becomes $WRAPPER_DST (drops that capability so privileged kind nodes can start)"
  if configure_wrapper; then changed=1; fi
fi

docker_ok() { timeout 10 docker info >/dev/null 2>&1; }
if docker_ok && ((changed)); then
  log "restarting dockerd to load the new runtime"
  pkill -x dockerd || true
  for _ in $(seq 50); do pgrep -x dockerd >/dev/null || break; sleep 0.2; done
fi
if ! docker_ok; then
  if pgrep -x dockerd >/dev/null; then die "dockerd runs but does not answer: see $DOCKERD_LOG or restart it"; fi
  log "starting dockerd (log: $DOCKERD_LOG)"
  pgrep -x containerd >/dev/null || true
  nohup dockerd >"$DOCKERD_LOG" 2>&1 &
  for _ in $(seq 60); do docker_ok && break; sleep 0.5; done
  docker_ok || die "dockerd did not come up within 30s: see $DOCKERD_LOG"
fi
# kind recommends 512 inotify instances; the host default of 128 runs out with several nodes/pods.
if [[ -w /proc/sys/fs/inotify/max_user_instances ]] && (( $(cat /proc/sys/fs/inotify/max_user_instances) < 512 )); then
  echo 512 >/proc/sys/fs/inotify/max_user_instances || true
fi
log "docker $(docker version --format '{{.Server.Version}}') is ready (default runtime: $(docker info --format '{{.DefaultRuntime}}'))"
