#!/usr/bin/env bash
# Installs what the test suite needs on a Debian machine: real SIP peers (SIPp from
# sip-tester, baresip), tcpdump for loopback captures, sox, the openssl command line (test
# CAs for the HTTPS stubs), Chromium with Node.js and playwright-core for the pages, and a
# PostgreSQL server when none answers on 127.0.0.1:5432. Safe to run again. Building Centrala
# itself needs none of this; libopus-dev and pkg-config are here only for the `system-opus`
# feature, whose interop tests (the default pure-Rust Opus against libopus) scripts/test.sh runs.
set -euo pipefail

packages=(sip-tester baresip baresip-core tcpdump sox libopus-dev pkg-config postgresql-client sqlite3
  openssl chromium fonts-liberation)
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The pages' tests drive Debian's Chromium with playwright-core (pinned in
# tests/browser/package-lock.json; it downloads no browser of its own).
if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.installed-lock.json; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error &&
    cp package-lock.json node_modules/.installed-lock.json)
fi

# PostgreSQL: the suite also runs the store against it.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  conf=/etc/postgresql/$version/main
  grep -q "^host all all 127.0.0.1/32 trust" "$conf/pg_hba.conf" ||
    sed -i '1i host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

# schemathesis (pinned) checks the OpenAPI document against the running server; it lives in
# its own virtualenv so that it cannot clash with the system's Python packages.
venv=${CENTRALA_TEST_VENV:-/opt/centrala-test-venv}
schemathesis_version=4.32.5
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$schemathesis_version"; then
  command -v python3 >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
  }
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$schemathesis_version"
fi
"$venv/bin/schemathesis" --version
