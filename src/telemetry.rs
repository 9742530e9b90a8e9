//! Logs and metrics: tracing set-up and the Prometheus counters every subsystem updates.
//!
//! Owns: the `Metrics` registry (exposed at `/metrics`) and the log subscriber.
//! Must not touch: anything else; subsystems hold an `Arc<Metrics>` and bump counters.

use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels with one `result`/`direction`-style dimension.
type Labels = Vec<(&'static str, String)>;

/// The process's metrics. Cheap to update from any task (atomics inside).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Calls in progress (from INVITE to end).
    pub active_calls: Gauge,
    /// Finished calls by result (`answered`, `busy`, ...).
    pub calls: Family<Labels, Counter>,
    /// Live registrar bindings.
    pub registrations: Gauge,
    /// SIP messages received and sent, by `direction`.
    pub sip_messages: Family<Labels, Counter>,
    /// Messages that failed to parse or validate.
    pub sip_parse_errors: Counter,
    /// Requests refused with 503 because a shard inbox was full.
    pub sip_load_shed: Counter,
    /// Source addresses banned now for failed authentication.
    pub banned_addresses: Gauge,
    /// RTP packets dropped as malformed or unexpected.
    pub rtp_dropped: Counter,
    /// The `in` and `out` series of `sip_messages`, looked up once: counting a message is an
    /// atomic add, not a label hash and a lock.
    sip_in: Counter,
    sip_out: Counter,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("centrala");
        let metrics = Metrics {
            active_calls: Gauge::default(),
            calls: Family::default(),
            registrations: Gauge::default(),
            sip_messages: Family::default(),
            sip_parse_errors: Counter::default(),
            sip_load_shed: Counter::default(),
            banned_addresses: Gauge::default(),
            rtp_dropped: Counter::default(),
            registry: Registry::default(),
            sip_in: Counter::default(),
            sip_out: Counter::default(),
        };
        let series = |direction: &str| {
            metrics
                .sip_messages
                .get_or_create(&vec![("direction", direction.to_string())])
                .clone()
        };
        let (sip_in, sip_out) = (series("in"), series("out"));
        registry.register(
            "active_calls",
            "Calls in progress",
            metrics.active_calls.clone(),
        );
        registry.register("calls", "Finished calls by result", metrics.calls.clone());
        registry.register(
            "registrations",
            "Live registrations",
            metrics.registrations.clone(),
        );
        registry.register(
            "sip_messages",
            "SIP messages by direction",
            metrics.sip_messages.clone(),
        );
        registry.register(
            "sip_parse_errors",
            "SIP messages that failed to parse or validate",
            metrics.sip_parse_errors.clone(),
        );
        registry.register(
            "sip_load_shed",
            "Requests refused with 503 because a shard was full",
            metrics.sip_load_shed.clone(),
        );
        registry.register(
            "banned_addresses",
            "Source addresses banned for failed authentication",
            metrics.banned_addresses.clone(),
        );
        registry.register(
            "rtp_dropped",
            "RTP packets dropped",
            metrics.rtp_dropped.clone(),
        );
        Arc::new(Metrics {
            registry,
            sip_in,
            sip_out,
            ..metrics
        })
    }

    /// Counts a finished call.
    pub fn call_finished(&self, result: &str) {
        self.calls
            .get_or_create(&vec![("result", result.to_string())])
            .inc();
    }

    /// Counts a SIP message; `direction` is `in` or `out`.
    pub fn sip_message(&self, direction: &'static str) {
        match direction {
            "in" => self.sip_in.inc(),
            "out" => self.sip_out.inc(),
            other => self
                .sip_messages
                .get_or_create(&vec![("direction", other.to_string())])
                .inc(),
        };
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Installs the log subscriber: `RUST_LOG` filters (default `info`), output to stderr.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_shows_registered_metrics() {
        let metrics = Metrics::new();
        metrics.active_calls.set(3);
        metrics.call_finished("answered");
        metrics.sip_message("in");
        metrics.sip_message("out");
        metrics.sip_message("out");
        let text = metrics.render();
        assert!(text.contains("centrala_active_calls 3"), "{text}");
        assert!(
            text.contains("centrala_calls_total{result=\"answered\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("centrala_sip_messages_total{direction=\"in\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("centrala_sip_messages_total{direction=\"out\"} 2"),
            "{text}"
        );
    }
}
