# Summary connector: build, test, demo.
#
#   make demo   run everything in one process against local fakes (needs Go only)
#   make test   lint, then all tests with -race, including the end-to-end cases on
#               the fauxqs SQS emulator (installed with npm, started and stopped here)

SHELL       := /bin/bash
GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FAUXQS      := tools/fauxqs/fauxqs.sh
TEST_FLAGS  ?= -race -count=1 -timeout 9m

.PHONY: all build demo bench chaos test unit lint fmt vet staticcheck fauxqs-start fauxqs-stop clean

all: build

build:
	$(GO) build -o bin/connector ./cmd/connector

demo:
	$(GO) run ./cmd/connector demo

# bench runs every scenario of tools/bench with the worker as a subprocess and
# prints one JSON line per scenario, then a table; worker logs stay in
# .cache/bench. Flags go in BENCH_FLAGS, e.g.
#   make bench BENCH_FLAGS='--messages 2000 --scenario backlog --env SF_BATCH_SIZE=50'
bench:
	$(GO) build -o .cache/bench/connector ./cmd/connector
	$(GO) run ./tools/bench --connector .cache/bench/connector $(BENCH_FLAGS)

# chaos sends 10,000 summaries through `connector run` subprocesses while the
# fake org and the SQS server inject faults and the worker is killed and
# restarted, then checks every message and prints one JSON line; it exits 1
# when a summary was lost, written twice or dead-lettered for a wrong reason.
# Worker logs stay in .cache/chaos. Flags go in CHAOS_FLAGS, e.g.
#   make chaos CHAOS_FLAGS='--seed 7 --messages 3000'
chaos:
	$(GO) build -o .cache/chaos/connector ./cmd/connector
	$(GO) run ./tools/chaos --connector .cache/chaos/connector $(CHAOS_FLAGS)

# test starts fauxqs, runs every package's tests against it and the in-process
# server, and stops it again whatever the outcome.
test: lint
	@set -euo pipefail; mkdir -p .cache; \
	endpoint=$$($(FAUXQS) start); \
	trap '$(FAUXQS) stop' EXIT; \
	echo "fauxqs SQS emulator at $$endpoint"; \
	SQS_EMULATOR_ENDPOINT=$$endpoint REQUIRE_SQS_EMULATOR=1 \
		$(GO) test $(TEST_FLAGS) -v ./... 2>&1 | tee .cache/test.log | \
		grep -vE '^=== (RUN|PAUSE|CONT|NAME)|^    --- (PASS|SKIP): Fuzz[A-Za-z]+/[0-9a-f]+ '; \
	echo "full test log: .cache/test.log"

# unit runs the tests without the external emulator (its cases skip and say so).
unit:
	$(GO) test $(TEST_FLAGS) ./...

lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

fauxqs-start:
	@$(FAUXQS) start

fauxqs-stop:
	@$(FAUXQS) stop

clean:
	rm -rf bin .cache
