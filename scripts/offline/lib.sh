# Shared helpers for the offline build scripts. Source it; do not run it.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../../versions.env
source "$REPO_ROOT/versions.env"
CACHE_ROOT="${LAB_GRADER_CACHE:-$HOME/.cache/kube-lab-grader}"
mkdir -p "$CACHE_ROOT"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 3; }
# LAB_GRADER_REBUILD=1 ignores cached images (used to measure a cold build); Go outputs are
# cached per LAB_GRADER_CACHE, so point that at an empty directory as well.
cached_image() { [[ "${LAB_GRADER_REBUILD:-0}" != 1 ]] && docker image inspect "$1" >/dev/null 2>&1; }
