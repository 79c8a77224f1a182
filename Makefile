# hotel-kafka-bridge: the two commands are `make run` and `make test`; the rest serve them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CONFIG ?= config/example.yaml
BRIDGE_PID := var/run/bridge.pid
BRIDGE_LOG := var/log/bridge.log

.PHONY: help install build typecheck lint stack-up stack-down stack-status run stop test test-node24 test-cluster test-kafka3 stack-down-kafka3 test-container image engine-up engine-down test-unit test-integration bench bench-batch clean

help:
	@echo "make run      start Kafka + schema registry (local JVMs) and the bridge with $(CONFIG)"
	@echo "make test     run every test: unit, integration (real broker and registry), failover (a real 3-broker cluster)"
	@echo "make stop     stop the bridge started by make run;  make stack-down  stop Kafka and the registry"
	@echo "make build    compile to dist/;  make bench  CPU per event, an HTTPS sweep, overload, throughput and latency (numbers)"
	@echo "make bench-batch  what one maximum-size Servio batch costs the DV2000 events meanwhile"
	@echo "make test-node24  every test again on Node 24 (CI runs it after make test)"
	@echo "STACK_BROKERS=3 make stack-up   a three-broker KRaft cluster (9092, 9094, 9096) instead of one broker"
	@echo "make test-cluster  failover tests against a three-broker cluster (19092-19097)"
	@echo "make test-kafka3   a smoke set against Kafka $(KAFKA3_VERSION), on a stack of its own (29092-29394, 28081; CI runs it)"
	@echo "make image   build the container image (hotel-kafka-bridge:dev);  make test-container  run it with testcontainers"
	@echo "make engine-up / engine-down   a Docker engine of this checkout's own (root; no bridge network, host networking)"

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

# Unit and integration tests against the one broker, then the failover tests against a three-broker cluster on
# 19092-19097 (test/cluster; its setup starts the cluster and stops what it started), then the container tests
# (the image built and run with testcontainers; without a Docker engine they say so in one line and do not run).
SUMMARY = node -e 'const fs=require("fs");let p=0,f=0,s=0;for(const file of process.argv.slice(1)){if(!fs.existsSync(file))continue;const r=JSON.parse(fs.readFileSync(file,"utf8"));p+=r.numPassedTests;f+=r.numFailedTests;s+=r.numPendingTests}console.log(`$${p} passed, $${f} failed, $${s} skipped`)'
VITEST_JSON = --reporter=default --reporter=json --outputFile.json

test: install typecheck lint stack-up
	@rm -f var/test-results-container.json
	npx vitest run $(VITEST_JSON)=var/test-results.json
	npx vitest run --config vitest.cluster.config.ts $(VITEST_JSON)=var/test-results-cluster.json
	bash scripts/container-tests.sh $(VITEST_JSON)=var/test-results-container.json
	@$(SUMMARY) var/test-results.json var/test-results-cluster.json var/test-results-container.json

# The same tests on Node 24 (an LTS line in support; the image's), installed from the npm registry's `node`
# package into a git-ignored folder: a version difference fails here, not in production.
NODE24 := .ci/node24/node_modules/node/bin/node
$(NODE24):
	npm install --prefix .ci/node24 --no-audit --no-fund --no-save node@24

test-node24: install $(NODE24) stack-up
	@echo "running every test on node $$($(NODE24) --version)"
	PATH="$(CURDIR)/$(dir $(NODE24)):$$PATH" $(NODE24) node_modules/vitest/vitest.mjs run $(VITEST_JSON)=var/test-results-node24.json
	PATH="$(CURDIR)/$(dir $(NODE24)):$$PATH" $(NODE24) node_modules/vitest/vitest.mjs run --config vitest.cluster.config.ts $(VITEST_JSON)=var/test-results-node24-cluster.json
	@echo -n "node24: " && $(SUMMARY) var/test-results-node24.json var/test-results-node24-cluster.json

# The container image: the official Node LTS base, or one built here from Debian's packages where it cannot be pulled.
image:
	bash scripts/image.sh

# Only the container tests (part of make test), about 3 minutes; needs an engine (make engine-up, as root).
test-container: install
	bash scripts/container-tests.sh

engine-up:
	bash scripts/docker-engine.sh up

engine-down:
	bash scripts/docker-engine.sh down

# Only the failover tests (part of make test), about 4 minutes.
test-cluster: install
	npx vitest run --config vitest.cluster.config.ts

# Many hotel groups still run Kafka 3.x: producing through the registry, the spool replayed through a broker's crash and
# restart, and the secured broker, against Kafka 3.9 on a stack of its own beside the main one (about 6 minutes).
KAFKA3_VERSION ?= 3.9.2
KAFKA3_STACK := KAFKA_VERSION=$(KAFKA3_VERSION) STACK_DIR=$(CURDIR)/.stack/kafka-$(KAFKA3_VERSION) KAFKA_PORT=29092 KAFKA_CONTROLLER_PORT=29093 SECURE_KAFKA_PORT=29392 REGISTRY_PORT=28081
test-kafka3: install
	$(KAFKA3_STACK) npx vitest run --project integration test/integration/dv2000.test.ts test/integration/outage.test.ts test/integration/secured-kafka.test.ts $(VITEST_JSON)=var/test-results-kafka3.json

# Its stack stops when its tests end; this is for a run that was cut short.
stack-down-kafka3:
	$(KAFKA3_STACK) bash scripts/stack.sh down

test-unit: install
	npx vitest run --project unit

test-integration: install stack-up
	npx vitest run --project integration

# The bridge and a null fastify server side by side (benchmarks/compare.ts); benchmarks/ingest.ts measures the spool.
# The bridge's own CPU per event per mode (keep-alive, close, HTTPS close) against the null server; an HTTPS
# new-connection-per-event sweep with Kafka's own producer as the floor; more than the bridge takes, on a CPU of its
# own (overload.ts); then throughput and latency (compare.ts).
bench: build stack-up
	npx tsx benchmarks/cpu-per-event.ts $(BENCH_CPU_ARGS)
	npx tsx benchmarks/https-sweep.ts $(BENCH_SWEEP_ARGS)
	npx tsx benchmarks/overload.ts $(BENCH_OVERLOAD_ARGS)
	npx tsx benchmarks/compare.ts $(BENCH_ARGS)

# One maximum-size Servio batch under a DV2000 stream: its answer, the event loop's longest delay, the longest DV2000
# answer meanwhile, the bridge's peak RSS (benchmarks/big-batch.ts).
bench-batch: build stack-up
	npx tsx benchmarks/big-batch.ts $(BENCH_ARGS)

clean:
	rm -rf dist var
