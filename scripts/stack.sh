#!/usr/bin/env bash
# Runs a real Kafka broker (KRaft) and an Apicurio schema registry (Confluent API) as local background JVMs, without Docker.
#
# Usage: scripts/stack.sh up [SERVICE]     start what is not running, wait until it answers, print env
#        scripts/stack.sh down [SERVICE]   SIGTERM our own PIDs, SIGKILL after ~30 s
#        scripts/stack.sh status | env
#        scripts/stack.sh kill9 SERVICE    SIGKILL, for crash tests (data survives; `up` restarts it)
#        scripts/stack.sh controller       the node name of the active KRaft controller (the quorum's leader)
#        scripts/stack.sh format SERVICE   format a node's KRaft storage (up does it too), without starting it
# SERVICE: kafka (every broker), registry, or kafka-secure (with STACK_SECURE=1 part of every command without a
# SERVICE): a secured broker of its own, SASL_SSL (SCRAM-SHA-512) on SECURE_KAFKA_PORT (9392), SSL requiring a client
# certificate on +1, StandardAuthorizer (users admin, a super user, and bridge, with no ACL: tests grant what they
# need), its CA and certificates made with openssl under .stack/pki/ (scripts/stack-pki.sh).
# With STACK_BROKERS=3 also kafka-1, kafka-2, kafka-3: a three-node
# KRaft cluster (each broker+controller) on KAFKA_PORT, +2, +4 (controllers +1), replication factor 3,
# min.insync.replicas 2, its data apart from the one-broker stack's. One broker is the default.
#
# Everything (jars, data, logs, PID files) lives in <repo>/.stack/, which is git-ignored; the data in STACK_DATA if set.
# KAFKA_CLUSTER_ID formats new storage with that id (default: random, kept beside the data).
# KAFKA_VERSION (default 4.4.0; 3.9.x works too) picks the broker's jars, fetched per version. STACK_DIR puts a stack's
# PID files, logs, generated configs and data elsewhere than .stack/ (a second stack beside the first, on other ports).
# Artifacts come from Maven Central through mvn, so only java (17+), mvn and curl are needed.
# stdout carries only the KEY=value lines of `up`/`env` (and `status`); progress goes to stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=$ROOT/.stack
STACK_DIR=${STACK_DIR:-$STACK}
RUN=$STACK_DIR/run
LOGS=$STACK_DIR/logs
CONF=$STACK_DIR/conf
DATA=${STACK_DATA:-$STACK_DIR/data}

KAFKA_VERSION=${KAFKA_VERSION:-4.4.0}
# Kafka 4.x logs through slf4j 1.7 and pulls log4j-core 2.25.5 in via kafka-server, but its POM has no
# slf4j binding (the release tarball adds one): without log4j-slf4j-impl (the slf4j-1.x binding, not
# slf4j2-impl) the broker runs silently. Keep this equal to the log4j-core version Kafka resolves.
LOG4J_VERSION=${LOG4J_VERSION:-2.25.5}
# Kafka 3.x logs through slf4j 1.7 to reload4j (log4j 1.2's API): the binding the release tarball adds is slf4j-reload4j.
SLF4J_VERSION=${SLF4J_VERSION:-1.7.36}
KAFKA_MAJOR=${KAFKA_VERSION%%.*}
# 3.0.9 is the newest apicurio-registry-app on Central that runs on Java 17: 3.3.x is compiled for
# Java 21, and 3.1/3.2 have no app artifact there.
APICURIO_VERSION=${APICURIO_VERSION:-3.0.9}

KAFKA_PORT=${KAFKA_PORT:-9092}
SECURE_KAFKA_PORT=${SECURE_KAFKA_PORT:-9392}
STACK_SECURE=${STACK_SECURE:-0}
PKI=$STACK/pki
STACK_BROKERS=${STACK_BROKERS:-1}
[[ $STACK_BROKERS == 1 || $STACK_BROKERS == 3 ]] || { printf '[stack] ERROR: STACK_BROKERS is 1 or 3, not %s\n' "$STACK_BROKERS" >&2; exit 2; }
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
REGISTRY_PORT=${REGISTRY_PORT:-8081}
STACK_TIMEOUT=${STACK_TIMEOUT:-120}
JAVA=${JAVA:-java}
REGISTRY_JAVA=${REGISTRY_JAVA:-$JAVA}
if [[ $STACK_BROKERS == 3 ]]; then KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms192m -Xmx384m}; else KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}; fi
REGISTRY_HEAP_OPTS=${REGISTRY_HEAP_OPTS:--Xms64m -Xmx384m}

KAFKA_HOME=$STACK/kafka/$KAFKA_VERSION
APICURIO_HOME=$STACK/apicurio/$APICURIO_VERSION
# The 2.8 plugin is pinned because Central lacks the 3.0.9 parent POM: newer dependency plugins refuse
# to resolve the registry artifact without it, 2.8's get with transitive=false does not need it.
MVN_DEP=org.apache.maven.plugins:maven-dependency-plugin:2.8

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# Debian's Maven 3.8 prints bare ANSI resets even under -q -B; they are stripped. Output goes to stderr.
mvn_quiet() { mvn -q -B "$@" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2; }

# ---------------------------------------------------------------------------------------------- fetch

fetch_kafka() {
  local marker=$KAFKA_HOME/libs/.fetched want="kafka_2.13 $KAFKA_VERSION log4j $LOG4J_VERSION slf4j $SLF4J_VERSION" logging binding
  if ((KAFKA_MAJOR >= 4)); then
    logging="<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>"
    binding=log4j-slf4j-impl
  else
    logging="<dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$SLF4J_VERSION</version></dependency>"
    binding=slf4j-reload4j
  fi
  [[ -f $marker && $(<"$marker") == "$want" ]] && return 0
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central (one-off) ..."
  rm -rf "$KAFKA_HOME/libs"
  mkdir -p "$KAFKA_HOME/libs"
  # kafka-tools brings the console producer/consumer and topic tool; its connect-runtime dependency
  # (Jetty, Jersey, ~25 MB) only serves the Connect plugin-path tool, so it is left out.
  cat >"$KAFKA_HOME/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.stack</groupId><artifactId>kafka-libs</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version>
      <exclusions><exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion></exclusions>
    </dependency>
    $logging
  </dependencies>
</project>
EOF
  mvn_quiet -f "$KAFKA_HOME/pom.xml" "$MVN_DEP:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME/libs" || die "mvn could not fetch Kafka $KAFKA_VERSION"
  compgen -G "$KAFKA_HOME/libs/$binding-*.jar" >/dev/null || die "no slf4j binding ($binding) among the Kafka jars"
  printf '%s' "$want" >"$marker"
}

fetch_apicurio() {
  [[ -f $APICURIO_HOME/.fetched ]] && return 0
  log "fetching Apicurio Registry $APICURIO_VERSION from Maven Central (one-off, ~110 MB) ..."
  rm -rf "$APICURIO_HOME"
  mkdir -p "$APICURIO_HOME"
  local tgz=$STACK/apicurio/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz
  mvn_quiet "$MVN_DEP:get" -Dtransitive=false -Ddest="$tgz" \
    -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" \
    || die "mvn could not fetch io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all"
  tar -xzf "$tgz" -C "$APICURIO_HOME"
  rm -f "$tgz"
  touch "$APICURIO_HOME/.fetched"
}

# ------------------------------------------------------------------------------------------ processes

pidfile() { echo "$RUN/$1.pid"; }

# Prints the PID only if the PID file names a live process that we started: its command line must
# mention .stack/, so a recycled PID belonging to someone else is never reported (nor signalled).
our_pid() {
  local f pid
  f=$(pidfile "$1")
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  ps -o args= -p "$pid" 2>/dev/null | grep -qF -- "$STACK/" || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Ready means it serves produce requests (registered, unfenced, every partition led, an acks=all produce
# acknowledged), not merely that it answers metadata: scripts/kafka-ready.mjs asks with kafkajs.
kafka_ready() {
  [[ -d $ROOT/node_modules/kafkajs ]] || die "node_modules is missing: run 'npm ci' first ('make stack-up' does)"
  if [[ $1 == kafka-secure ]]; then
    KAFKA_READY_CA=$PKI/ca.pem KAFKA_READY_SASL_USERNAME=admin KAFKA_READY_SASL_PASSWORD=$(<"$PKI/admin.password") \
      timeout 20 node "$ROOT/scripts/kafka-ready.mjs" "127.0.0.1:$(broker_port "$1")" 1 1 2>>"$LOGS/kafka-ready.log"
    return
  fi
  timeout 20 node "$ROOT/scripts/kafka-ready.mjs" "127.0.0.1:$(broker_port "$1")" "$STACK_BROKERS" "$(node_index "$1")" 2>>"$LOGS/kafka-ready.log"
}

# Nodes: "kafka" alone, or kafka-1..kafka-3. Node i listens on KAFKA_PORT+2(i-1), its controller one above.
kafka_nodes() { if [[ $STACK_BROKERS == 3 ]]; then echo kafka-1 kafka-2 kafka-3; else echo kafka; fi; }
# The secured broker: in the commands without a SERVICE with STACK_SECURE=1, and in `down` and `status` while it runs.
secure_nodes() { if [[ $STACK_SECURE == 1 ]] || our_pid kafka-secure >/dev/null; then echo kafka-secure; fi; }
node_index() { if [[ $1 == kafka || $1 == kafka-secure ]]; then echo 1; else echo "${1#kafka-}"; fi; }
broker_port() { if [[ $1 == kafka-secure ]]; then echo "$SECURE_KAFKA_PORT"; else echo $((KAFKA_PORT + 2 * ($(node_index "$1") - 1))); fi; }
controller_port() {
  case $1 in
    kafka) echo "$KAFKA_CONTROLLER_PORT" ;;
    kafka-secure) echo $((SECURE_KAFKA_PORT + 2)) ;;
    *) echo $(($(broker_port "$1") + 1)) ;;
  esac
}
node_data() {
  case $1 in
    kafka) echo "$DATA/kafka" ;;
    kafka-secure) echo "$DATA/secure" ;;
    *) echo "$DATA/cluster/$1" ;;
  esac
}
quorum_voters() {
  local node voters=()
  for node in $(kafka_nodes); do voters+=("$(node_index "$node")@127.0.0.1:$(controller_port "$node")"); done
  (IFS=,; echo "${voters[*]}")
}

registry_ready() { curl -fsS -o /dev/null --max-time 3 "$(registry_url)/subjects" 2>/dev/null; }

registry_url() { echo "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"; }

# Starts "$@" in its own session so it outlives this script and the caller's terminal; the previous
# log is kept as .prev so the reason of a crash survives a restart.
launch() {
  local name=$1 log=$LOGS/$1.log
  shift
  mkdir -p "$RUN" "$LOGS"
  [[ -f $log ]] && mv -f "$log" "$log.prev"
  # setsid is not a process-group leader here, so it execs instead of forking: $! is the JVM's PID.
  # 9>&- keeps the JVM from inheriting (and so holding forever) the lock taken in with_lock.
  setsid nohup "$@" >"$log" 2>&1 </dev/null 9>&- &
  local pid=$! i
  echo "$pid" >"$(pidfile "$name")"
  # Until the background child has exec'ed, $pid is a copy of this script, whose arguments do not name .stack/:
  # our_pid would then take a starting JVM for a dead one ("exited during start-up"), as a loaded machine showed.
  for ((i = 0; i < 100; i++)); do
    ps -o args= -p "$pid" 2>/dev/null | grep -qF -- "$STACK/" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  log "$name started (pid $pid, log ${log#"$ROOT"/})"
}

# What every node's config shares, for a replication factor and min.insync.replicas: small internal topics, quick
# crash recovery, threads for two cores.
node_tuning() {
  cat <<EOF
num.partitions=1
default.replication.factor=$1
min.insync.replicas=$2
offsets.topic.replication.factor=$1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$1
transaction.state.log.min.isr=$2
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$1
share.coordinator.state.topic.min.isr=$2
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
# After a kill -9 the controller refuses the restarted broker (DUPLICATE_BROKER_REGISTRATION) until the
# old incarnation's session expires: 9 s by default, 3 s here so crash tests recover quickly.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
# two cores: the defaults (3 network, 8 I/O threads) only add contention
num.network.threads=2
num.io.threads=4
EOF
}

# Kafka's logging: the broker's to stdout (which launch sends to logs/NODE.log); the storage tool's and Kafka's CLI
# tools' warnings only, on stderr. In log4j2's form for Kafka 4.x, in log4j 1.2's (reload4j) for 3.x.
write_log_configs() {
  mkdir -p "$CONF"
  cat >"$CONF/broker-log4j2.properties" <<'EOF'
appender.out.type=Console
appender.out.name=OUT
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.out.ref=OUT
logger.request.name=kafka.request.logger
logger.request.level=WARN
EOF
  cat >"$CONF/tools-log4j2.properties" <<'EOF'
appender.err.type=Console
appender.err.name=ERR
appender.err.target=SYSTEM_ERR
appender.err.layout.type=PatternLayout
appender.err.layout.pattern=%p %m (%c)%n
rootLogger.level=WARN
rootLogger.appenderRef.err.ref=ERR
EOF
  cat >"$CONF/broker-log4j.properties" <<'EOF'
log4j.rootLogger=INFO, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
EOF
  cat >"$CONF/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, err
log4j.appender.err=org.apache.log4j.ConsoleAppender
log4j.appender.err.Target=System.err
log4j.appender.err.layout=org.apache.log4j.PatternLayout
log4j.appender.err.layout.ConversionPattern=%p %m (%c)%n
EOF
}

# The JVM flag that points Kafka's logging at one of those configs: broker or tools.
log_flag() {
  if ((KAFKA_MAJOR >= 4)); then echo "-Dlog4j2.configurationFile=$CONF/$1-log4j2.properties"; else echo "-Dlog4j.configuration=file:$CONF/$1-log4j.properties"; fi
}

write_kafka_config() {
  local node=$1 port controller data rf=1 isr=1
  port=$(broker_port "$node")
  controller=$(controller_port "$node")
  data=$(node_data "$node")
  [[ $STACK_BROKERS == 3 ]] && rf=3 && isr=2
  mkdir -p "$data"
  mkdir -p "$CONF"
  cat >"$CONF/$node.properties" <<EOF
# Generated by scripts/stack.sh: KRaft node $node of $STACK_BROKERS, broker and controller in one JVM, loopback only.
process.roles=broker,controller
node.id=$(node_index "$node")
controller.quorum.voters=$(quorum_voters)
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data
auto.create.topics.enable=true
$(node_tuning "$rf" "$isr")
EOF
  write_log_configs
}

# The secured broker: SASL_SSL for SCRAM users, SSL requiring a client certificate (its CN is the principal), the
# controller on SSL too, StandardAuthorizer with admin and the broker's own certificate as super users.
write_secure_config() {
  local port controller data password
  port=$(broker_port kafka-secure)
  controller=$(controller_port kafka-secure)
  data=$(node_data kafka-secure)
  password=$(<"$PKI/keystore.password")
  mkdir -p "$data"
  # the log4j files the plain broker's config writes serve this one too
  write_kafka_config kafka
  cat >"$CONF/kafka-secure.properties" <<EOF
# Generated by scripts/stack.sh: a secured one-node KRaft broker, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=SASL_SSL://127.0.0.1:$port,SSL://127.0.0.1:$((port + 1)),CONTROLLER://127.0.0.1:$controller
advertised.listeners=SASL_SSL://127.0.0.1:$port,SSL://127.0.0.1:$((port + 1))
controller.listener.names=CONTROLLER
inter.broker.listener.name=SSL
listener.security.protocol.map=CONTROLLER:SSL,SSL:SSL,SASL_SSL:SASL_SSL
ssl.keystore.type=PKCS12
ssl.keystore.location=$PKI/broker.p12
ssl.keystore.password=$password
ssl.key.password=$password
ssl.truststore.type=PEM
ssl.truststore.location=$PKI/ca.pem
listener.name.ssl.ssl.client.auth=required
listener.name.controller.ssl.client.auth=required
listener.name.sasl_ssl.ssl.client.auth=none
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.principal.mapping.rules=RULE:^CN=([A-Za-z0-9._-]+)\$/\$1/,DEFAULT
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:broker
log.dirs=$data
auto.create.topics.enable=false
$(node_tuning 1 1)
EOF
}

# The secured broker's PKI and SCRAM passwords, made once under .stack/pki/.
secure_pki() {
  bash "$ROOT/scripts/stack-pki.sh" "$PKI"
  local user
  for user in admin bridge; do
    [[ -s $PKI/$user.password ]] || { head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$PKI/$user.password"; chmod 600 "$PKI/$user.password"; }
  done
}

# Every node of a cluster is formatted with one cluster id, kept beside their data.
cluster_id() {
  local file
  if [[ ${1:-} == kafka-secure ]]; then file=$DATA/secure-cluster-id; elif [[ $STACK_BROKERS == 3 ]]; then file=$DATA/cluster/cluster-id; else file=$DATA/kafka-cluster-id; fi
  mkdir -p "$(dirname "$file")"
  # a Kafka UUID is 16 random bytes in URL-safe base64 without padding
  [[ -s $file ]] || head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$file"
  cat "$file"
}

# `--cluster-id=ID`, not `-t ID`: an id may begin with "-" (URL-safe base64 does so one time in 64), which the
# storage tool's argument parser would take for an option and fail the start of a fresh stack.
format_node() {
  local node=$1 data id out users=()
  fetch_kafka
  if [[ $node == kafka-secure ]]; then
    secure_pki
    write_secure_config
    # SCRAM users exist from the first start: a secured broker cannot create them before it can authenticate anyone.
    users=(--add-scram "SCRAM-SHA-512=[name=admin,password=$(<"$PKI/admin.password")]" --add-scram "SCRAM-SHA-512=[name=bridge,password=$(<"$PKI/bridge.password")]")
  else
    write_kafka_config "$node"
  fi
  data=$(node_data "$node")
  [[ -f $data/meta.properties ]] && return 0
  id=${KAFKA_CLUSTER_ID:-$(cluster_id "$node")}
  log "formatting KRaft storage in ${data#"$ROOT"/} (cluster id $id)"
  out=$("$JAVA" "$(log_flag tools)" -cp "$KAFKA_HOME/libs/*" \
    kafka.tools.StorageTool format --ignore-formatted "--cluster-id=$id" -c "$CONF/$node.properties" "${users[@]}" 2>&1) \
    || { printf '%s\n' "$out" >&2; die "kafka storage format failed"; }
}

start_node() {
  local node=$1 cp="$KAFKA_HOME/libs/*"
  format_node "$node"
  # shellcheck disable=SC2086 # heap opts are deliberately word-split
  echo "$(broker_port "$node") $(controller_port "$node")" >"$RUN/$node.port"
  launch "$node" "$JAVA" $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    "$(log_flag broker)" -cp "$cp" kafka.Kafka "$CONF/$node.properties"
}

start_registry() {
  fetch_apicurio
  local jar
  # 3.0.x ships a legacy runner jar, 3.1+ the Quarkus fast-jar layout
  if [[ -f $APICURIO_HOME/quarkus-run.jar ]]; then
    jar=$APICURIO_HOME/quarkus-run.jar
  else
    jar=$(compgen -G "$APICURIO_HOME/apicurio-registry-app-*-runner.jar" | head -n1) \
      || die "no runnable jar in $APICURIO_HOME"
  fi
  mkdir -p "$DATA/registry"
  # Storage is an H2 file under .stack/data, so schemas and their ids survive a restart or a kill -9,
  # as in a real Confluent registry (which keeps them in Kafka); WRITE_DELAY=0 because H2 otherwise
  # writes commits up to ~1 s late and a kill -9 right after a register would lose the schema.
  # The BACKWARD default global rule is what the registry enforces; `up` also PUTs it to /config,
  # because 3.0.x answers GET /config with the stored global rule only (NONE otherwise).
  # Deletion is off by default in Apicurio 3; Confluent allows DELETE /subjects, so it is turned on.
  # The management interface (health, metrics; port 9000 on 3.1+) goes to a free loopback port.
  # shellcheck disable=SC2086
  launch registry "$REGISTRY_JAVA" $REGISTRY_HEAP_OPTS -Djava.awt.headless=true \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="${REGISTRY_MANAGEMENT_PORT:-0}" \
    -Dapicurio.datasource.url="jdbc:h2:file:$DATA/registry/registry;WRITE_DELAY=0" \
    -Dapicurio.rules.global.compatibility=BACKWARD \
    -Dapicurio.rest.deletion.group.enabled=true \
    -Dapicurio.rest.deletion.artifact.enabled=true \
    -Dapicurio.rest.deletion.artifact-version.enabled=true \
    -jar "$jar"
}

ports_of() {
  case $1 in
    registry) echo "$REGISTRY_PORT" ;;
    kafka-secure) echo "$SECURE_KAFKA_PORT $((SECURE_KAFKA_PORT + 1)) $((SECURE_KAFKA_PORT + 2))" ;;
    *) echo "$(broker_port "$1") $(controller_port "$1")" ;;
  esac
}

ready() { if [[ $1 == registry ]]; then registry_ready; else kafka_ready "$1"; fi; }

start_service() { if [[ $1 == registry ]]; then start_registry; else start_node "$1"; fi; }

# Waits until every named service answers; a dead process or the timeout fails loudly with its log.
wait_ready() {
  local deadline=$((SECONDS + STACK_TIMEOUT)) pending=("$@") still name
  while ((${#pending[@]})); do
    still=()
    for name in "${pending[@]}"; do
      # liveness first, so a port answered by someone else never passes for our process being ready
      if ! our_pid "$name" >/dev/null; then
        fail "$name exited during start-up" "$name"
      elif ready "$name"; then
        log "$name is ready"
      else
        still+=("$name")
      fi
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]})) || break
    ((SECONDS < deadline)) || fail "${pending[*]} not ready after ${STACK_TIMEOUT}s (left running; 'scripts/stack.sh down' stops it)" "${pending[@]}"
    sleep 0.5
  done
}

fail() {
  local msg=$1 name
  shift
  for name in "${@:-}"; do
    [[ -n $name && -f $LOGS/$name.log ]] || continue
    printf '\n[stack] ----- last lines of %s -----\n' "${LOGS#"$ROOT"/}/$name.log" >&2
    if [[ -s $LOGS/$name.log ]]; then tail -n 60 "$LOGS/$name.log" >&2; else echo "(empty)" >&2; fi
  done
  die "$msg"
}

# The one-broker stack and the cluster use the same ports unless KAFKA_PORT moves one of them (the tests run a
# cluster on 19092 beside the one broker on 9092): refuse only a real clash, recorded at launch in run/<node>.port.
other_mode_running() {
  local node others mine
  if [[ $STACK_BROKERS == 3 ]]; then others=kafka; else others="kafka-1 kafka-2 kafka-3"; fi
  mine=" $(for node in $(kafka_nodes); do echo -n "$(broker_port "$node") $(controller_port "$node") "; done)"
  for node in $others; do
    our_pid "$node" >/dev/null || continue
    [[ -f $RUN/$node.port ]] || die "$node runs, on ports this script did not record: stop it first (scripts/stack.sh down)"
    for port in $(<"$RUN/$node.port"); do
      [[ $mine == *" $port "* ]] && die "$node runs on 127.0.0.1:$port, which this stack needs: stop it first, or move one with KAFKA_PORT"
    done
  done
  return 0
}

up() {
  local name started=() pid port
  other_mode_running
  for name in "$@"; do
    if pid=$(our_pid "$name"); then
      log "$name already running (pid $pid)"
      started+=("$name")
      continue
    fi
    rm -f "$(pidfile "$name")"
    for port in $(ports_of "$name"); do
      port_open "$port" && die "127.0.0.1:$port is taken by a process this script did not start; stop it or set another port (KAFKA_PORT, KAFKA_CONTROLLER_PORT, REGISTRY_PORT)"
    done
    start_service "$name"
    started+=("$name")
  done
  wait_ready "${started[@]}"
  for name in "${started[@]}"; do
    if [[ $name == registry ]]; then
      curl -fsS -o /dev/null --max-time 10 -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
        -d '{"compatibility":"BACKWARD"}' "$(registry_url)/config" || die "could not set the registry's global compatibility"
    fi
  done
  print_env
}

# SIGTERM, then SIGKILL after a grace period; only a PID that our_pid vouches for is ever signalled.
# All named services are signalled at once: stopped one after another, the cluster's last node would wait in
# its controlled shutdown for a quorum that its peers took away (30 s, then SIGKILL).
down() {
  local name pid i alive names=() pids=()
  for name in "$@"; do
    if ! pid=$(our_pid "$name"); then
      rm -f "$(pidfile "$name")"
      log "$name not running"
      continue
    fi
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    names+=("$name")
    pids+=("$pid")
  done
  for ((i = 0; i < 60; i++)); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.5
  done
  for i in "${!names[@]}"; do
    name=${names[$i]}
    pid=${pids[$i]}
    if kill -0 "$pid" 2>/dev/null; then
      log "$name ignored SIGTERM for 30 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid"
    fi
    rm -f "$(pidfile "$name")"
    log "$name stopped"
  done
}

wait_gone() { local i; for ((i = 0; i < 50; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; }

kill9() {
  local pid
  pid=$(our_pid "$1") || die "$1 is not running (no live PID in $(pidfile "$1"))"
  log "SIGKILL $1 (pid $pid)"
  kill -KILL "$pid"
  wait_gone "$pid"
  rm -f "$(pidfile "$1")"
}

status() {
  local name pid rc=0
  # shellcheck disable=SC2046 # a word list
  for name in $(kafka_nodes) registry $(secure_nodes); do
    if pid=$(our_pid "$name"); then
      if ready "$name"; then echo "$name: running, ready (pid $pid)"; else echo "$name: running, NOT answering (pid $pid)"; rc=1; fi
    else
      echo "$name: stopped"
      rc=1
    fi
  done
  return $rc
}

# The quorum's leader, asked with Kafka's own tool: the Metadata API names a random broker as controller in KRaft.
controller() {
  local node leader
  for node in $(kafka_nodes); do
    our_pid "$node" >/dev/null || continue
    leader=$("$JAVA" "$(log_flag tools)" -cp "$KAFKA_HOME/libs/*" \
      org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "127.0.0.1:$(broker_port "$node")" describe --status 2>/dev/null |
      sed -n 's/^LeaderId: *\([0-9]*\).*/\1/p') || true
    if [[ -n $leader ]]; then
      if [[ $STACK_BROKERS == 3 ]]; then echo "kafka-$leader"; else echo kafka; fi
      return 0
    fi
  done
  die "no running node answered with the quorum's leader"
}

print_env() {
  local node brokers=()
  for node in $(kafka_nodes); do brokers+=("127.0.0.1:$(broker_port "$node")"); done
  echo "KAFKA_BROKERS=$(IFS=,; echo "${brokers[*]}")"
  echo "SCHEMA_REGISTRY_URL=$(registry_url)"
  if [[ -n $(secure_nodes) ]]; then
    echo "SECURE_KAFKA_SASL_BROKERS=127.0.0.1:$SECURE_KAFKA_PORT"
    echo "SECURE_KAFKA_MTLS_BROKERS=127.0.0.1:$((SECURE_KAFKA_PORT + 1))"
    echo "SECURE_KAFKA_PKI=$PKI"
  fi
}

services() {
  case ${1:-} in
    "") echo "$(kafka_nodes) registry $(secure_nodes)" ;;
    kafka) kafka_nodes ;;
    registry) echo registry ;;
    kafka-secure) echo kafka-secure ;;
    kafka-1 | kafka-2 | kafka-3) [[ $STACK_BROKERS == 3 ]] || die "$1 is a node of the cluster: set STACK_BROKERS=3"; echo "$1" ;;
    *) die "unknown service '$1' (kafka, registry$([[ $STACK_BROKERS == 3 ]] && echo ', kafka-1, kafka-2, kafka-3'))" ;;
  esac
}

# Serialises up/down/kill9: test runners and developers call this script concurrently, and two
# overlapping `up`s would each start a JVM (the loser dies on the port or on the registry's H2 lock).
with_lock() {
  mkdir -p "$RUN"
  exec 9>"$RUN/lock"
  if command -v flock >/dev/null; then
    flock -w $((STACK_TIMEOUT + 60)) 9 || die "another scripts/stack.sh still holds $RUN/lock"
  fi
  "$@"
}

main() {
  local cmd=${1:-} svc
  shift || true
  case $cmd in
    up | down | kill9 | format) svc=$(services "${1:-}") ;;
  esac
  # shellcheck disable=SC2086,SC2046 # svc is a word list
  case $cmd in
    up) with_lock up $svc ;;
    # reverse order of start-up
    down) with_lock down $(tr ' ' '\n' <<<"$svc" | sort -r) ;;
    status) status ;;
    env) print_env ;;
    controller) controller ;;
    format) for one in $svc; do [[ $one == registry ]] || with_lock format_node "$one"; done ;;
    kill9) [[ -n ${1:-} ]] || die "usage: $0 kill9 SERVICE"; for one in $svc; do with_lock kill9 "$one"; done ;;
    *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

main "$@"
