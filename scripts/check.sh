#!/usr/bin/env bash
# The quick edit-test loop: formatting, vet, staticcheck and the short test suite. Needs only Go (and the
# module proxy for staticcheck on its first run); real parts that are missing are skipped, not installed.
# The full suite, with every real part, is `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
STATICCHECK_VERSION=v0.8.2
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "gofmt needed:"; echo "$unformatted"; exit 1; fi
go vet ./...
go run "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" ./...
go test -short -count=1 ./...
