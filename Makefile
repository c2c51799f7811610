GO      ?= go
BIN     := bin/klint
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
CORPUS  ?= ../shared/corpus

.PHONY: all build test vet unit lint-deploy e2e docs bench bench-go bench-corpus bench-webhook clean

all: build

build:
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/klint
	$(GO) build -trimpath -ldflags "-s -w" -o bin/admission-webhook ./cmd/admission-webhook

## test: go vet, unit tests with the race detector (OPA policy tests included), docs up to date,
## and klint on its own deploy manifests
test: vet unit lint-deploy

lint-deploy:
	$(GO) run ./cmd/klint --fail-on warning deploy/webhook

## e2e: the webhook against a real kube-apiserver and etcd built from their Go modules
e2e:
	cd test/e2e && $(GO) vet ./... && $(GO) test -count=1 -timeout 30m -v ./...

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

## docs: regenerate docs/rules.md from the rule registry and policies
docs:
	$(GO) run ./cmd/klint rules --format markdown > docs/rules.md

## bench: Go benchmarks, then whole-process timings on the corpus (when present)
bench: bench-go bench-corpus

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./pkg/... | tee bench.out

bench-corpus: build
	bash scripts/bench-corpus.sh $(BIN) $(CORPUS)

## bench-webhook: 1,000 AdmissionReviews/s over HTTPS on loopback, engine vs no-op handler
bench-webhook:
	$(GO) build -o bin/admission-webhook ./cmd/admission-webhook
	$(GO) run ./test/loadgen -webhook bin/admission-webhook -rate 1000 -duration 30s

clean:
	rm -rf bin bench.out
