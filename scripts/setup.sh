#!/usr/bin/env bash
# `npm run setup`: prepares a machine for grading and for `npm test`, after `npm ci`:
#   Docker usable for kind (scripts/host/ensure-docker.sh), the Debian packages the tests and the
#   offline cluster build need, the Go tools the tests run (pinned in versions.env, `go install`ed
#   into $LAB_GRADER_CACHE/tools/bin), and the grading cluster (`lab-grader cluster up`).
# It first checks everything and says what it will change; where everything is present it changes
# nothing. Flags:
#   --check        only say what would change (exit 0 when nothing would, 1 otherwise)
#   --no-cluster   do not bring the cluster up
# Needs root (or sudo) only for what it installs with apt-get and for Docker.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECK=0 CLUSTER=1
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    --no-cluster) CLUSTER=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown flag $arg (see --help)" >&2; exit 4 ;;
  esac
done
say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit "${2:-3}"; }

# shellcheck source=../versions.env
source versions.env
TOOLS_BIN="${LAB_GRADER_CACHE:-$HOME/.cache/kube-lab-grader}/tools/bin"
APT_PACKAGES=(mmdebstrap docker-registry jq busybox-static libxml2-utils chromium)
# The flags a machine dedicated to grading needs; ensure-docker.sh acts only where needed.
DOCKER_FLAGS=(--install --configure-runtime --start --restart-docker --inotify)

plan=()
docker_msg="$(bash scripts/host/ensure-docker.sh 2>&1)" && docker_ok=1 || docker_ok=0
((docker_ok)) || plan+=("Docker: bash scripts/host/ensure-docker.sh ${DOCKER_FLAGS[*]}  (now: ${docker_msg##*$'\n'})")

need_pkgs=()
for pkg in "${APT_PACKAGES[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg"); done
((${#need_pkgs[@]})) && plan+=("apt-get install ${need_pkgs[*]}")

[[ -d node_modules && -f dist/cli.js ]] || plan+=("npm ci (node_modules or dist/ missing)")

tool_version() { # <binary> → its version, empty when missing
  case "$1" in
    actionlint) "$TOOLS_BIN/actionlint" -version 2>/dev/null | head -1 ;;
    act) "$TOOLS_BIN/act" --version 2>/dev/null | sed -n 's/^act version /v/p' ;;
  esac
}
need_go=()
[[ "$(tool_version actionlint)" == "$ACTIONLINT_VERSION" ]] || need_go+=("github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION")
[[ "$(tool_version act)" == "$ACT_VERSION" ]] || need_go+=("github.com/nektos/act@$ACT_VERSION")
((${#need_go[@]})) && plan+=("go install into $TOOLS_BIN: ${need_go[*]}")

cluster_ok=1
if ((CLUSTER)); then
  if [[ -f dist/cli.js ]] && node bin/lab-grader.js cluster status >/dev/null 2>&1; then cluster_ok=1; else cluster_ok=0; fi
  ((cluster_ok)) || plan+=("bring the grading cluster up: node bin/lab-grader.js cluster up (reuses cached images; a cold offline build takes ~20 min)")
fi

if ((${#plan[@]} == 0)); then
  say "everything is present: Docker, ${APT_PACKAGES[*]}, actionlint $ACTIONLINT_VERSION, act $ACT_VERSION$( ((CLUSTER)) && echo ', the grading cluster'); nothing to change"
  exit 0
fi
say "will change:"
for p in "${plan[@]}"; do printf '  - %s\n' "$p"; done
((CHECK)) && exit 1

as_root() { if ((EUID == 0)); then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "needs root for: $*"; fi; }

if ((!docker_ok)); then
  say "Docker"
  as_root bash scripts/host/ensure-docker.sh "${DOCKER_FLAGS[@]}"
fi
if ((${#need_pkgs[@]})); then
  say "apt-get install ${need_pkgs[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/dev/null
fi
if [[ ! -d node_modules || ! -f dist/cli.js ]]; then
  say "npm ci"
  npm ci --no-audit --no-fund
fi
if ((${#need_go[@]})); then
  command -v go >/dev/null || die "Go is needed to install ${need_go[*]}: install Go 1.24 or later, then rerun npm run setup"
  mkdir -p "$TOOLS_BIN"
  for mod in "${need_go[@]}"; do
    say "go install $mod"
    GOBIN="$TOOLS_BIN" go install "$mod"
  done
fi
if ((CLUSTER && !cluster_ok)); then
  say "cluster up"
  # One more try when the first ends in an environment error (exit 3): a machine that has just
  # started Docker can drop the first connections to a new node. Usage errors are not retried.
  up_rc=0
  node bin/lab-grader.js cluster up || up_rc=$?
  if ((up_rc == 3)); then
    say "cluster up failed (exit 3); trying once more"
    node bin/lab-grader.js cluster up
  elif ((up_rc != 0)); then
    exit "$up_rc"
  fi
fi
say "done"
