#!/usr/bin/env bash
# Checks that a Docker engine runs on this host and can start kind nodes. Without flags it changes
# nothing: it reports what is missing and which flag would fix it (exit 3), or that all is well
# (exit 0). Every change to the host needs its own flag:
#   --install            apt-get update + install Debian's docker.io and jq when they are missing
#   --configure-runtime  on hosts whose capability bounding set lacks CAP_SYS_RESOURCE: install the
#                        runc wrapper and make it dockerd's default runtime in daemon.json (a backup
#                        of daemon.json is kept first; --restore-host puts it back)
#   --start              start dockerd when it is not running (systemctl where systemd runs it)
#   --restart-docker     restart dockerd so a changed daemon.json takes effect; refused while
#                        containers that kube-lab-grader did not create are running, unless also
#   --even-with-other-containers
#   --inotify            raise fs.inotify.max_user_instances to 512 (kind's advice) until reboot
#   --restore-host       undo --configure-runtime: restore daemon.json from the backup (or drop
#                        the two keys we added when there was no backup), and remove the wrapper
#                        once no running daemon uses it (add --restart-docker to apply it now)
# Exit 0 when Docker is usable for kind (after the requested changes), 3 with one line of advice
# otherwise, 4 on bad usage.
set -euo pipefail
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit "${2:-3}"; }
HERE="$(cd "$(dirname "$0")" && pwd)"
# Paths are overridable only so that the tests can exercise configure/restore in a scratch dir.
DAEMON_JSON="${LAB_GRADER_HOST_DAEMON_JSON:-/etc/docker/daemon.json}"
WRAPPER_DST="${LAB_GRADER_HOST_WRAPPER:-/usr/local/libexec/kube-lab-grader/runc-without-sys-resource}"
STATE_DIR="${LAB_GRADER_HOST_STATE:-/var/lib/kube-lab-grader/host}"
BACKUP="$STATE_DIR/daemon.json.before-kube-lab-grader"
NO_BACKUP_MARK="$STATE_DIR/daemon.json.was-absent"
DOCKERD_LOG=/var/log/kube-lab-grader-dockerd.log
RUNTIME=runc-without-sys-resource

INSTALL=0 CONFIGURE=0 START=0 RESTART=0 FORCE_RESTART=0 INOTIFY=0 RESTORE=0
for arg in "$@"; do
  case "$arg" in
    --install) INSTALL=1 ;;
    --configure-runtime) CONFIGURE=1 ;;
    --start) START=1 ;;
    --restart-docker) RESTART=1 ;;
    --even-with-other-containers) FORCE_RESTART=1 ;;
    --inotify) INOTIFY=1 ;;
    --restore-host) RESTORE=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown flag $arg (see --help)" 4 ;;
  esac
done
((RESTORE && CONFIGURE)) && die "--restore-host and --configure-runtime contradict each other" 4

docker_ok() { timeout 10 docker info >/dev/null 2>&1; }
dockerd_running() { pgrep -x dockerd >/dev/null; }
systemd_runs_docker() {
  [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null &&
    systemctl list-unit-files docker.service >/dev/null 2>&1 &&
    systemctl cat docker.service >/dev/null 2>&1
}
default_runtime() { timeout 10 docker info --format '{{.DefaultRuntime}}' 2>/dev/null || true; }

# Running containers kube-lab-grader did not create: anything that is neither a kind node of a
# cluster named lab-grader* nor labelled as ours (the local registry).
foreign_containers() {
  docker ps --format '{{.Names}}|{{.Label "io.x-k8s.kind.cluster"}}|{{.Label "io.kube-lab-grader.owner"}}' 2>/dev/null |
    awk -F'|' '!($2 ~ /^lab-grader/ || $3 == "lab-grader") { print $1 }'
}

start_dockerd() {
  if systemd_runs_docker; then
    log "starting docker with systemctl"
    systemctl start docker
  else
    log "starting dockerd (log: $DOCKERD_LOG)"
    nohup dockerd >>"$DOCKERD_LOG" 2>&1 &
  fi
  for _ in $(seq 60); do docker_ok && return 0; sleep 0.5; done
  die "dockerd did not come up within 30s: see $(systemd_runs_docker && echo '`journalctl -u docker`' || echo "$DOCKERD_LOG")"
}

restart_dockerd() {
  local foreign
  foreign="$(foreign_containers | tr '\n' ' ')"
  if [[ -n "${foreign// }" ]] && ((!FORCE_RESTART)); then
    die "not restarting dockerd: it runs containers kube-lab-grader did not create (${foreign% }); a restart would stop them. Add --even-with-other-containers to restart anyway, or restart Docker yourself"
  fi
  if systemd_runs_docker; then
    log "restarting docker with systemctl"
    systemctl restart docker
  else
    log "restarting dockerd"
    pkill -x dockerd || true
    for _ in $(seq 100); do dockerd_running || break; sleep 0.2; done
    dockerd_running && die "dockerd did not stop within 20s"
    nohup dockerd >>"$DOCKERD_LOG" 2>&1 &
  fi
  for _ in $(seq 60); do docker_ok && return 0; sleep 0.5; done
  die "dockerd did not come back within 30s"
}

# --- packages ---------------------------------------------------------------------------------
need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
command -v jq >/dev/null || need_pkgs+=(jq)
if ((${#need_pkgs[@]})); then
  ((INSTALL)) || die "missing ${need_pkgs[*]}: install them (e.g. apt-get install docker.io jq), or rerun with --install"
  log "installing ${need_pkgs[*]} from the machine's apt sources"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/dev/null
fi

# --- restore ----------------------------------------------------------------------------------
if ((RESTORE)); then
  if [[ -f $BACKUP ]]; then
    log "restoring $DAEMON_JSON from $BACKUP"
    cp -p "$BACKUP" "$DAEMON_JSON" && rm -f "$BACKUP"
  elif [[ -f $NO_BACKUP_MARK ]]; then
    log "removing $DAEMON_JSON (there was none before kube-lab-grader wrote it)"
    rm -f "$DAEMON_JSON" "$NO_BACKUP_MARK"
  elif [[ -f $DAEMON_JSON ]] && jq -e --arg r "$RUNTIME" '.runtimes[$r] // empty' "$DAEMON_JSON" >/dev/null 2>&1; then
    # Written by an older version that kept no backup: drop exactly what it added.
    log "no backup of $DAEMON_JSON: removing the $RUNTIME runtime that kube-lab-grader added"
    tmp="$(mktemp "$DAEMON_JSON.XXXXXX")"
    jq --arg r "$RUNTIME" 'del(.runtimes[$r]) | if .runtimes == {} then del(.runtimes) else . end
      | if .["default-runtime"] == $r then del(.["default-runtime"]) else . end' "$DAEMON_JSON" >"$tmp"
    chmod 0644 "$tmp" && mv "$tmp" "$DAEMON_JSON"
  else
    log "$DAEMON_JSON carries nothing of kube-lab-grader's"
  fi
  if ((RESTART)) && dockerd_running; then restart_dockerd; fi
  if [[ -e $WRAPPER_DST ]]; then
    if dockerd_running && [[ "$(default_runtime)" == "$RUNTIME" ]]; then
      log "the running dockerd still uses $WRAPPER_DST: it stays until Docker restarts (rerun with --restart-docker, or restart Docker and rerun --restore-host)"
    else
      log "removing $WRAPPER_DST"
      rm -f "$WRAPPER_DST"
      rmdir "$(dirname "$WRAPPER_DST")" 2>/dev/null || true
    fi
  fi
  exit 0
fi

# --- the capability workaround ----------------------------------------------------------------
# CAP_SYS_RESOURCE is capability 24: privileged containers fail when the bounding set lacks it.
capbnd=$((16#$(awk '/^CapBnd/ {print $2}' /proc/self/status)))
needs_wrapper=0; (( (capbnd >> 24) & 1 )) || needs_wrapper=1

configured() {
  [[ -x $WRAPPER_DST ]] && cmp -s "$HERE/$RUNTIME" "$WRAPPER_DST" && [[ -s $DAEMON_JSON ]] &&
    jq -e --arg r "$RUNTIME" --arg p "$WRAPPER_DST" '.runtimes[$r].path == $p and .["default-runtime"] == $r' "$DAEMON_JSON" >/dev/null 2>&1
}

configure_wrapper() {
  install -D -m 0755 "$HERE/$RUNTIME" "$WRAPPER_DST"
  mkdir -p "$(dirname "$DAEMON_JSON")" "$STATE_DIR"
  local current='{}'
  if [[ -s $DAEMON_JSON ]]; then
    current="$(cat "$DAEMON_JSON")"
    jq -e . >/dev/null <<<"$current" || die "$DAEMON_JSON is not valid JSON: fix it first"
    [[ -f $BACKUP ]] || cp -p "$DAEMON_JSON" "$BACKUP"
  elif [[ ! -f $BACKUP ]]; then
    : >"$NO_BACKUP_MARK"
  fi
  local tmp
  tmp="$(mktemp "$DAEMON_JSON.XXXXXX")"
  jq --arg r "$RUNTIME" --arg p "$WRAPPER_DST" '.runtimes[$r] = {path: $p} | .["default-runtime"] = $r' <<<"$current" >"$tmp"
  chmod 0644 "$tmp" && mv "$tmp" "$DAEMON_JSON"
  log "$DAEMON_JSON: default runtime is now $WRAPPER_DST (backup: $([[ -f $BACKUP ]] && echo "$BACKUP" || echo "none, there was no file"); undo with --restore-host)"
}

changed=0
if ((needs_wrapper)) && ! configured; then
  ((CONFIGURE)) || die "this host's capability bounding set lacks CAP_SYS_RESOURCE, so kind's privileged nodes cannot start; rerun with --configure-runtime (makes a runc wrapper that drops it dockerd's default runtime, keeping a backup of $DAEMON_JSON) and --restart-docker or --start"
  log "this host's capability bounding set lacks CAP_SYS_RESOURCE: making $WRAPPER_DST dockerd's default runtime (it drops that capability so privileged kind nodes can start)"
  configure_wrapper
  changed=1
fi

# --- the daemon -------------------------------------------------------------------------------
if docker_ok; then
  if ((needs_wrapper)) && [[ "$(default_runtime)" != "$RUNTIME" ]]; then
    ((RESTART)) || die "$DAEMON_JSON names $RUNTIME but the running dockerd does not use it yet$( ((changed)) && echo ' (just configured)'): rerun with --restart-docker, or restart Docker yourself"
    restart_dockerd
  fi
else
  if dockerd_running; then die "dockerd runs but does not answer: see $DOCKERD_LOG or \`journalctl -u docker\`, or restart it"; fi
  ((START)) || die "dockerd is not running: start it (\`systemctl start docker\`), or rerun with --start"
  start_dockerd
fi

# kind recommends 512 inotify instances; the host default of 128 runs out with several nodes/pods.
limit=$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 512)
if ((limit < 512)); then
  if ((INOTIFY)) && [[ -w /proc/sys/fs/inotify/max_user_instances ]]; then
    echo 512 >/proc/sys/fs/inotify/max_user_instances && log "fs.inotify.max_user_instances: $limit -> 512 (until reboot)"
  else
    log "note: fs.inotify.max_user_instances is $limit; kind advises 512 (--inotify raises it until reboot)"
  fi
fi
log "docker $(docker version --format '{{.Server.Version}}') is ready (default runtime: $(default_runtime))"
