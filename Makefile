# CloudFlix build, run and test entry points. `make run` and `make test` are
# the two commands a newcomer needs; both install what is missing first.

GO        ?= go
TOOL      := $(GO) tool -modfile=tools/go.mod
BIN       := bin/cloudflix
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/cloudflix/cloudflix.Version=$(VERSION)

.PHONY: all build tools proto check-proto lint test test-short run stack-up stack-down clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/cloudflix

## tools: ffmpeg (system packages) and versitygw (pinned, built into .bin/)
tools:
	./scripts/install-tools.sh

## proto: regenerate the gRPC code in proto/ with the pinned tools
proto:
	$(TOOL) buf lint
	$(TOOL) buf generate

## check-proto: fail when the committed generated code is not what `make proto` makes
check-proto: proto
	@git diff --exit-code -- proto/ || { echo "proto/: generated code is stale; run make proto and commit" >&2; exit 1; }
	@test -z "$$(git status --porcelain -- proto/)" || { git status --porcelain -- proto/; echo "proto/: untracked generated files; run make proto and commit" >&2; exit 1; }

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed" >&2; exit 1; }
	$(GO) vet ./...
	$(TOOL) staticcheck ./...

## test: everything CI runs: lint, generated-code drift, unit, integration and end-to-end tests
test: tools check-proto lint
	PATH="$(CURDIR)/.bin:$$PATH" $(GO) test -race -count=1 -timeout 30m ./...

## test-short: unit tests only (no servers needed)
test-short:
	$(GO) test -short -count=1 ./...

## run: the whole platform on this machine's PostgreSQL, Redis, RabbitMQ and a local S3 server
run: tools build
	./scripts/run-local.sh

clean:
	rm -rf bin .run
