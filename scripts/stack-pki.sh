#!/usr/bin/env bash
# Makes the secured broker's PKI with openssl, once, under DIR (stack.sh passes .stack/pki): a private CA, the broker's
# certificate (CN=broker, IP 127.0.0.1) as a PKCS12 keystore, client certificates for the mutual-TLS principals, and a
# second CA nobody trusts (for the tests of a broker certificate the bridge's CA did not sign). Prints nothing on stdout.
# Usage: scripts/stack-pki.sh DIR
set -euo pipefail
DIR=${1:?usage: stack-pki.sh DIR}
mkdir -p "$DIR"
cd "$DIR"
[[ -f .made ]] && exit 0

ssl() { openssl "$@" 2>/dev/null; }
# A throwaway password of the keystore, beside it for the broker's properties.
head -c 18 /dev/urandom | base64 | tr -d '/+=' >keystore.password

ca() { # name subject
  ssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 3650 -subj "/CN=$2"
}
signed() { # name CN issuer [extension file]
  ssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
  ssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -out "$1.pem" -days 3650 ${4:+-extfile "$4"}
  rm -f "$1.csr"
}

ca ca hotel-kafka-bridge-test-ca
ca other-ca someone-elses-ca
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >broker.ext
signed broker broker ca broker.ext
ssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker -out broker.p12 -passout "pass:$(<keystore.password)"
# Mutual TLS: the bridge's principal (User:bridge-mtls), one signed by the other CA (refused), and the admin's.
signed bridge-mtls bridge-mtls ca
signed stranger bridge-mtls other-ca
signed admin-mtls admin ca
chmod 600 ./*.key keystore.password
touch .made
