#!/bin/sh
# The system packages `npm run demo` and `npm test` need, installed with apt-get when missing
# (Debian 12+, Ubuntu 22.04+; root, or sudo). Run by both npm scripts; a no-op once all are there.
#   docker-registry  the registries the demo and the tests start (CNCF distribution; no service is started)
#   skopeo           the independent client the tests verify digests with
#   apache2-utils    htpasswd, for registries with Basic auth
#   openssl          test certificates
#   default-jre-headless  (--tests) DynamoDB Local, the reference engine of the store's tests
#   bsdutils         (--tests) `script`, a TTY for the progress-bar test (present on every Debian/Ubuntu)
#   tinyproxy        (--tests) a real forward proxy, for the HTTPS_PROXY/HTTP_PROXY tests
#   iproute2, util-linux  (--tests) `ip` and `unshare`: tests that could reach a public name run in a
#                    loopback-only network namespace (the tests run as root)
set -eu

need_node_major=20
need_node_minor=18
version=$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
if [ "$major" -lt "$need_node_major" ] || { [ "$major" -eq "$need_node_major" ] && [ "$minor" -lt "$need_node_minor" ]; }; then
  echo "setup: Node.js >= $need_node_major.$need_node_minor is needed (found $version): install it from https://nodejs.org or your distribution's NodeSource packages" >&2
  exit 1
fi

wanted="docker-registry:docker-registry skopeo:skopeo htpasswd:apache2-utils openssl:openssl"
if [ "${1:-}" = "--tests" ]; then
  wanted="$wanted java:default-jre-headless script:bsdutils tinyproxy:tinyproxy ip:iproute2 unshare:util-linux"
fi
missing=""
for pair in $wanted; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: missing system packages:$missing. This script installs them on Debian or Ubuntu only; install their equivalents, then run again." >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "setup: missing system packages:$missing. Installing them needs root: run 'apt-get install -y$missing' as root (or install sudo), then run again." >&2
  exit 1
fi
echo "setup: installing$missing with apt-get${as_root:+ (through sudo)}" >&2
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086 # one word per package
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "setup: done" >&2
