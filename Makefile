GO      ?= go
BIN     := bin/klint
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
CORPUS  ?= ../shared/corpus

.PHONY: all build test vet unit docs bench bench-go bench-corpus clean

all: build

build:
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/klint

## test: go vet, unit tests with the race detector (OPA policy tests included), docs up to date
test: vet unit

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

clean:
	rm -rf bin bench.out
