#!/usr/bin/env bash
# The whole test suite: installs the test dependencies, checks formatting and lints, runs the
# unit, integration and end-to-end tests (the real centrala binary driven by SIPp and baresip)
# on SQLite, then the store and end-to-end tests again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
# The end-to-end tests claim port blocks in 30000-45999; keep the kernel's ephemeral ports
# out of that range where we may (best effort: not every container allows it).
sysctl -q -w net.ipv4.ip_local_reserved_ports=30000-45999 2>/dev/null || true

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings

# The demo e2e tests run the example CRM as a real server (target/debug/examples/crm).
cargo build --locked --examples
export CENTRALA_E2E=1
cargo test --locked --all-targets
# The pure-Rust Opus codec (default) against the system libopus, both ways.
cargo test --locked --lib --features system-opus media::codec::opus

echo "== store and end-to-end tests again on PostgreSQL =="
export CENTRALA_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432
cargo test --locked --lib store::
cargo test --locked --test e2e
