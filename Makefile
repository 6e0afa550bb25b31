# CloudFlix build, run and test entry points. `make run` and `make test` are
# the two commands a newcomer needs; both install what is missing first.
# `make run-stack` is the optional third: the production backends, locally.

GO        ?= go
TOOL      := $(GO) tool -modfile=tools/go.mod
PROMTOOL  := $(GO) tool -modfile=tools/promtool/go.mod promtool
HELM      := $(GO) tool -modfile=tools/helm/go.mod helm
KUBECTL   ?= kubectl
MINIKUBE  ?= minikube
STACK_NS  := cloudflix
IMAGE_TAG ?= dev
BIN       := bin/cloudflix
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/cloudflix/cloudflix.Version=$(VERSION)

.PHONY: all build tools proto check-proto check-vendor lint test test-short fuzz run run-stack run-stack-split clean \
	test-monitor test-deploy minikube-images minikube-up minikube-down

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/cloudflix

## tools: ffmpeg and chromium (system packages), versitygw (pinned, into .bin/), and the pinned test tools compiled
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

## check-vendor: fail when the vendored hls.js differs from a fresh download of its pinned version
check-vendor:
	./scripts/vendor-hls.sh --check

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed" >&2; exit 1; }
	$(GO) vet ./...
	$(TOOL) staticcheck ./...

## test: everything CI runs: lint, generated-code drift, unit, integration, end-to-end and fuzz tests
test: tools check-proto check-vendor lint test-monitor test-deploy fuzz
	PATH="$(CURDIR)/.bin:$$PATH" $(GO) test -race -count=1 -timeout 45m $$($(GO) list ./... | grep -v '/deploy$$')

## fuzz: every fuzz target for FUZZTIME each (2000x: inputs), one after another; `make fuzz FUZZTIME=1000000x` is a long run
FUZZTIME ?= 2000x
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

## test-monitor: Prometheus rules (promtool check and unit tests) and Grafana dashboards (monitorcheck)
test-monitor:
	$(PROMTOOL) check rules monitor/prometheus/*.yml
	$(PROMTOOL) test rules monitor/prometheus/tests/*.yml
	$(GO) -C tools/promtool vet ./...
	$(GO) -C tools/promtool test -count=1 ./...
	$(GO) -C tools/promtool run ./monitorcheck $(CURDIR)/monitor

## test-deploy: the container image, Helm chart and minikube stack, checked offline (helm pinned in tools/helm/go.mod)
test-deploy:
	$(GO) vet ./deploy/...
	$(GO) test -count=1 -timeout 20m ./deploy/...

## test-short: the tests that need no server and no ffmpeg; the others skip (internal/testenv)
test-short:
	$(GO) test -short -count=1 ./...

## run: the whole platform in one process on embedded backends (data in ./data), at http://localhost:8080
run: build
	./scripts/install-tools.sh ffmpeg
	$(BIN) serve

## run-stack: the whole platform on this machine's PostgreSQL, Redis, RabbitMQ and a local S3 server
run-stack: build
	./scripts/install-tools.sh ffmpeg versitygw
	./scripts/run-stack.sh

## run-stack-split: the same, one process per target talking gRPC, as on Kubernetes
run-stack-split: build
	./scripts/install-tools.sh ffmpeg versitygw
	./scripts/run-stack.sh split

## minikube-images: build the service and encode images inside minikube (deploy/README.md)
minikube-images:
	eval "$$($(MINIKUBE) docker-env)" && \
	docker build -f deploy/Dockerfile --target service --build-arg VERSION=$(VERSION) -t cloudflix:$(IMAGE_TAG) . && \
	docker build -f deploy/Dockerfile --target encode --build-arg VERSION=$(VERSION) -t cloudflix-encode:$(IMAGE_TAG) .

## minikube-up: the backing stack, monitor/ rules and dashboards, and the chart, in namespace cloudflix
minikube-up:
	$(KUBECTL) apply -f deploy/minikube/namespace.yaml
	$(KUBECTL) -n $(STACK_NS) create configmap prometheus-rules $(foreach f,$(wildcard monitor/prometheus/*.yml),--from-file=$(f)) \
		--dry-run=client -o yaml | $(KUBECTL) apply --server-side --force-conflicts -f -
	$(KUBECTL) -n $(STACK_NS) create configmap grafana-dashboards $(foreach f,$(wildcard monitor/grafana/*.json),--from-file=$(f)) \
		--dry-run=client -o yaml | $(KUBECTL) apply --server-side --force-conflicts -f -
	$(KUBECTL) apply -k deploy/minikube
	$(KUBECTL) -n $(STACK_NS) rollout restart deployment/prometheus deployment/grafana
	$(KUBECTL) -n $(STACK_NS) wait --for=condition=Available deployment --all --timeout=5m
	$(HELM) upgrade --install cloudflix deploy/helm/cloudflix --namespace $(STACK_NS) \
		--values deploy/minikube/values.yaml --wait --timeout 10m

## minikube-down: uninstall the chart and delete the stack with its namespace and volumes
minikube-down:
	-$(HELM) uninstall cloudflix --namespace $(STACK_NS) --wait
	$(KUBECTL) delete -k deploy/minikube --ignore-not-found

clean:
	rm -rf bin .run data
