#!/usr/bin/env bash
# Runs the product on this machine: printdock-server on its embedded SQLite default (127.0.0.1:8080,
# data in ./printdock-data). On first start it prints the bootstrap admin credentials once.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
go build -o bin/ ./cmd/printdock-server
exec bin/printdock-server serve --data-dir ./printdock-data "$@"
