#!/usr/bin/env bash
# Installs the grader from the action's own checkout ($GITHUB_ACTION_PATH): its dependencies and
# the compiled CLI. Skips the install when that checkout already has both (a repository that uses
# its own action with `uses: ./` and has run `npm ci`).
set -euo pipefail
cd "${GITHUB_ACTION_PATH:-$(dirname "$0")/../..}"
if [[ -f node_modules/.package-lock.json && -f dist/cli.js && node_modules/.package-lock.json -nt package-lock.json ]]; then
  echo "lab-grader: already installed in $PWD"
  exit 0
fi
command -v node >/dev/null || { echo "::error title=lab-grader::Node.js is not installed on this runner (the action needs Node.js 20 or later)"; exit 1; }
echo "lab-grader: npm ci in $PWD"
npm ci --no-audit --no-fund
[[ -f dist/cli.js ]] || npm run build
