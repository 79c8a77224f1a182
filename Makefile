# hotel-kafka-bridge: the two commands are `make run` and `make test`; the rest serve them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CONFIG ?= config/example.yaml
BRIDGE_PID := var/run/bridge.pid
BRIDGE_LOG := var/log/bridge.log

.PHONY: help install build typecheck lint stack-up stack-down stack-status run stop test test-node24 test-cluster test-unit test-integration bench clean

help:
	@echo "make run      start Kafka + schema registry (local JVMs) and the bridge with $(CONFIG)"
	@echo "make test     run every test (unit + integration against the real broker and registry)"
	@echo "make stop     stop the bridge started by make run;  make stack-down  stop Kafka and the registry"
	@echo "make build    compile to dist/;  make bench  print throughput and latency numbers"
	@echo "make test-node24  every test again on Node 24 (CI runs it after make test)"
	@echo "STACK_BROKERS=3 make stack-up   a three-broker KRaft cluster (9092, 9094, 9096) instead of one broker"
	@echo "make test-cluster  failover tests against a three-broker cluster (19092-19097)"

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

# The same tests on Node 24 (an LTS line in support; the image's), installed from the npm registry's `node`
# package into a git-ignored folder: a version difference fails here, not in production.
NODE24 := .ci/node24/node_modules/node/bin/node
$(NODE24):
	npm install --prefix .ci/node24 --no-audit --no-fund --no-save node@24

test-node24: install $(NODE24) stack-up
	@echo "running every test on node $$($(NODE24) --version)"
	PATH="$(CURDIR)/$(dir $(NODE24)):$$PATH" $(NODE24) node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json=var/test-results-node24.json
	@$(NODE24) -e 'const r=require("./var/test-results-node24.json");console.log(`node24: $${r.numPassedTests} passed, $${r.numFailedTests} failed, $${r.numPendingTests} skipped`)'

# Failover against a real three-broker cluster on 19092-19097, beside the one broker (about 3 minutes).
test-cluster: install
	npx vitest run --config vitest.cluster.config.ts

test-unit: install
	npx vitest run --project unit

test-integration: install stack-up
	npx vitest run --project integration

bench: build stack-up
	npx tsx benchmarks/ingest.ts

clean:
	rm -rf dist var
