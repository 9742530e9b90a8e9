#!/usr/bin/env bash
# The whole test suite: installs the test dependencies, checks formatting and lints, runs the
# unit, integration and end-to-end tests (real centrala binary, SIPp, baresip) on SQLite,
# then the store and end-to-end tests again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings

export CENTRALA_E2E=1
cargo test --locked --all-targets

echo "== again on PostgreSQL =="
export CENTRALA_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432
cargo test --locked --all-targets store:: postgres
