#!/usr/bin/env bash
# tox -e lint's non-Python half: ShellCheck on every shell script (found by shebang, plus the recipes'
# preamble, which is sourced and has none; settings in .shellcheckrc), actionlint on every workflow (with
# the shell of each `run:` checked too).
set -euo pipefail
cd "$(dirname "$0")/.."
missing() { echo "lint: $1 is missing: $2" >&2; exit 1; }
command -v shellcheck >/dev/null || missing shellcheck "bash scripts/bootstrap.sh installs it (Debian package shellcheck)"
command -v actionlint >/dev/null || missing actionlint "python3 -m offline.build actionlint builds it (Go module proxy)"
mapfile -t files < <(grep -rlIE --exclude-dir=.git --exclude-dir=.tox --exclude-dir=artifacts --exclude-dir=__pycache__ \
                       '^#!(/usr/bin/env bash|/bin/(ba)?sh)' . | sort)
files+=(offline/recipes/_lib.sh)
shellcheck "${files[@]}"
echo "shellcheck: ${#files[@]} files clean"
workflows=(.github/workflows/*.yml)
actionlint -no-color -shellcheck="$(command -v shellcheck)" "${workflows[@]}"
echo "actionlint: ${#workflows[@]} workflow(s) clean"
