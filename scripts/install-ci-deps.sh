#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: rsyslog (the syslog tests start a private
# rsyslogd), chromium (the console and OAuth browser tests) and prometheus for its promtool (the /metrics exposition is
# checked by Prometheus's own parser and linter), systemd for `systemd-analyze verify` of the unit file, and
# redis-server, haproxy and nginx (the scale-out tests run replicas behind HAProxy and behind nginx, sharing one
# Redis).
# Idempotent: does nothing when all are already there.
set -euo pipefail

packages=()
command -v rsyslogd >/dev/null 2>&1 || [ -x /usr/sbin/rsyslogd ] || packages+=(rsyslog)
[ -x /usr/bin/chromium ] || packages+=(chromium)
command -v promtool >/dev/null 2>&1 || packages+=(prometheus)
command -v systemd-analyze >/dev/null 2>&1 || packages+=(systemd)
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || packages+=(haproxy)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx)

if [ ${#packages[@]} -eq 0 ]; then
  echo "install-ci-deps: rsyslog, chromium, promtool, systemd-analyze, redis-server, haproxy and nginx already installed"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

echo "install-ci-deps: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
