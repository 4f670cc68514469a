# printdock — see README.md.
.PHONY: run test check build bench fmt package

run: ## the product: server on embedded SQLite, an agent logged in, a simulated printer
	scripts/run.sh

test: ## the whole test suite (installs apt packages when missing)
	scripts/test.sh

check: ## the quick edit-test loop (< 2 min warm): gofmt, go vet, staticcheck, go test -short (no apt, QEMU, Wine)
	scripts/check.sh

# Without libusb's headers the binaries are built without USB printer support (the nousb tag).
NOUSB = $(shell pkg-config --exists libusb-1.0 2>/dev/null || echo -tags nousb)

build:
	@[ -z "$(NOUSB)" ] || echo "build: libusb-1.0 headers not found (apt install libusb-1.0-0-dev): building without USB printer support"
	go build $(NOUSB) -o bin/ ./cmd/printdock-server ./cmd/printdock-agent

package: ## .debs (agent, server, desktop app) and the agent's MSI into dist/ (docs/packaging.md; VERSION=… to set it)
	scripts/package.sh

bench: ## regenerate docs/benchmarks.md: every figure beside its baseline from the same run
	go run ./internal/benchdoc -out docs/benchmarks.md

fmt:
	gofmt -w $$(git ls-files '*.go')
