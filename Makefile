SHELL   := bash
.SHELLFLAGS := -o pipefail -c
GO      ?= go
BIN     := bin/klint
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
CORPUS  ?= ../shared/corpus

.PHONY: all build test vet unit race lint-deploy e2e e2e-tools render-tools render-check docs peers bench bench-go bench-corpus bench-webhook bench-webhook-hostile bench-helm release clean
CORPUS_HELM ?= ../shared/corpus-helm/prometheus-community

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/klint
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/admission-webhook ./cmd/admission-webhook

## test: every package's tests and go vet in one build (OPA policy tests, docs up to date included),
## and klint on its own deploy manifests
test: unit lint-deploy

lint-deploy:
	$(GO) run ./cmd/klint --fail-on warning deploy/webhook

## e2e: klint's chart and kustomize rendering against the real helm and kustomize,
## and the webhook against a real kube-apiserver and etcd, all built from their Go modules
e2e: render-check e2e-tools
	cd test/e2e && $(GO) vet ./... && CORPUS=$(abspath $(wildcard $(CORPUS))) $(GO) test -count=1 -timeout 15m -v ./...

## e2e-tools: kube-apiserver and etcd built from their Go modules, and the webhook, into
## bin/e2e, before the e2e tests run (go build -v prints each package as it is built;
## the build cache makes later runs fast)
e2e-tools:
	@echo "building kube-apiserver and etcd from their Go modules (10-20 minutes on a cold cache)"
	cd test/e2e && $(GO) build -v -o ../../bin/e2e/ k8s.io/kubernetes/cmd/kube-apiserver go.etcd.io/etcd/server/v3 2>&1 | awk '{n++} n%50==1 {print "  [" n " packages] " $$0; fflush()}'
	$(GO) build -o bin/e2e/ ./cmd/admission-webhook ./cmd/klint

## render-tools: helm and kustomize built from their modules (reference binaries, bin/ref)
render-tools:
	@echo "building helm and kustomize from their Go modules (a few minutes on a cold cache)"
	cd test/render && $(GO) build -o ../../bin/ref/helm helm.sh/helm/v4/cmd/helm
	cd test/render && $(GO) build -o ../../bin/ref/kustomize sigs.k8s.io/kustomize/kustomize/v5

## render-check: klint renders exactly what helm template and kustomize build render
## (fixtures, and the shared corpora when they are present)
render-check: render-tools
	cd test/render && $(GO) vet ./... && $(GO) test -c -o ../../bin/ref/render.test .
	cd test/render && HELM=$(CURDIR)/bin/ref/helm KUSTOMIZE=$(CURDIR)/bin/ref/kustomize \
		CORPUS_HELM=$(abspath $(wildcard $(CORPUS_HELM))) CORPUS=$(abspath $(wildcard $(CORPUS))) \
		../../bin/ref/render.test -test.count=1 -test.timeout 10m -test.v

## vet: go vet on every package (make test vets the packages with tests as it builds them)
vet:
	$(GO) vet ./...

## unit: every package's tests, vetted by the same build (go test -vet=all), and go vet on
## the few packages without tests
unit:
	$(GO) test -vet=all -count=1 ./...
	pkgs=$$($(GO) list -f '{{if not .TestGoFiles}}{{if not .XTestGoFiles}}{{.ImportPath}}{{end}}{{end}}' ./...); \
	if [ -n "$$pkgs" ]; then $(GO) vet $$pkgs; fi

## race: the tests of the packages whose code runs concurrently (the engine's workers, the
## webhook's server and limits, the renders' parallel values sets and watchdog, certificate
## reloads) with the race detector. Its build compiles those packages' dependencies again
## (about 4 minutes on a cold cache): CI runs it (.ci/run); make test does not.
RACE_PKGS := ./pkg/engine/... ./pkg/admission/... ./cmd/admission-webhook/... ./pkg/render/... ./pkg/tlscert/... ./pkg/helm/... ./pkg/kustomize/... ./pkg/parallel/...
race:
	$(GO) test -race -count=1 $(RACE_PKGS)

## peers: run the peers' check fixtures through klint (POLARIS, KUBE_LINTER, KUBE_SCORE: their checkouts); see docs/peers.md
peers:
	$(GO) run ./test/peers -polaris "$(POLARIS)" -kube-linter "$(KUBE_LINTER)" -kube-score "$(KUBE_SCORE)"

## docs: regenerate docs/rules.md and README's table of rules from the rule registry and policies
docs:
	$(GO) test ./cmd/klint -run TestRulesDocsAreUpToDate -count=1 -update

## bench: Go benchmarks, then whole-process timings on the corpus (when present)
bench: bench-go bench-corpus bench-floor

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./pkg/... | tee bench.out

bench-corpus: build
	bash scripts/bench-corpus.sh $(BIN) $(CORPUS)

## bench-floor: klint's wall time on the corpus against the floor (test/floor), and the ratio
bench-floor: build
	$(GO) build -o bin/floor ./test/floor
	bash scripts/bench-floor.sh $(BIN) bin/floor $(CORPUS)

## bench-helm: whole-process timings on the Helm chart corpus (when present); set
## KUBE_LINTER=/path/to/kube-linter to time it on the same charts
bench-helm: build
	$(GO) build -o bin/floor ./test/floor
	bash scripts/bench-helm.sh $(BIN) bin/floor $(CORPUS_HELM)

## bench-webhook: 1,000 AdmissionReviews/s over HTTPS on loopback, engine vs no-op handler
bench-webhook:
	$(GO) build -o bin/admission-webhook ./cmd/admission-webhook
	$(GO) run ./test/loadgen -webhook bin/admission-webhook -rate 1000 -duration 30s

## bench-webhook-hostile: the hostile cases (60 stalled 7 MiB uploads, 40,000-container
## Deployments, 20,000 distinct kinds), each beside a 100 req/s probe stream: probe
## latency and failures, the server's peak RSS, and the request counter's series
bench-webhook-hostile:
	$(GO) build -o bin/admission-webhook ./cmd/admission-webhook
	$(GO) run ./test/loadgen -webhook bin/admission-webhook -hostile -rate 100 -duration 15s

## release: static binaries of klint for linux, darwin and windows on amd64 and arm64 and
## of the webhook for linux, with SHA256SUMS, in dist/ (VERSION from git describe; TARGETS="os/arch ..." picks some)
release:
	bash scripts/release.sh $(VERSION) dist

clean:
	rm -rf bin dist bench.out
