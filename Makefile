# hotel-kafka-bridge: the two commands are `make run` and `make test`; the rest serve them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CONFIG ?= config/example.yaml
BRIDGE_PID := var/run/bridge.pid
BRIDGE_LOG := var/log/bridge.log

.PHONY: help install build typecheck lint stack-up stack-down stack-status run stop test test-unit test-integration bench clean

help:
	@echo "make run      start Kafka + schema registry (local JVMs) and the bridge with $(CONFIG)"
	@echo "make test     run every test (unit + integration against the real broker and registry)"
	@echo "make stop     stop the bridge started by make run;  make stack-down  stop Kafka and the registry"
	@echo "make build    compile to dist/;  make bench  print throughput and latency numbers"

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

build: install
	npx tsc -p tsconfig.json

typecheck: install
	npx tsc -p tsconfig.check.json

# Import direction (STYLE 13) and STYLE 6: only main.ts touches process.env; everything else gets config.
lint: install
	npx depcruise src --config .dependency-cruiser.cjs
	@! grep -rn 'process\.env' src --include='*.ts' | grep -v '^src/main.ts:' || { echo 'process.env is read outside src/main.ts' >&2; exit 1; }

stack-up: install
	bash scripts/stack.sh up

stack-down:
	bash scripts/stack.sh down

stack-status:
	bash scripts/stack.sh status

run: build stack-up
	@bash scripts/run-bridge.sh "$(CONFIG)"

stop:
	@bash scripts/run-bridge.sh --stop

test: install typecheck lint stack-up
	npx vitest run --reporter=default --reporter=json --outputFile.json=var/test-results.json
	@node -e 'const r=require("./var/test-results.json");console.log(`$${r.numPassedTests} passed, $${r.numFailedTests} failed, $${r.numPendingTests} skipped`)'

test-unit: install
	npx vitest run --project unit

test-integration: install stack-up
	npx vitest run --project integration

bench: build stack-up
	npx tsx benchmarks/ingest.ts

clean:
	rm -rf dist var
