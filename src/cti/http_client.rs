//! The HTTPS-capable HTTP client shared by CRM lookups and webhook deliveries, and the wording
//! of its failures.
//!
//! Owns: building `reqwest::Client` with rustls (the `ring` provider: no OpenSSL, no aws-lc,
//! no cmake) and its trust roots; turning a `reqwest::Error` into one readable sentence.
//! Must not touch: what is sent (lookups and the webhook worker decide), retries, breakers.
//! Driven by: `LookupService::new` and `DeliveryWorker::new`, once each at start-up.
//!
//! Trust roots, in this order:
//! 1. the system's store through `rustls-native-certs`, which reads what OpenSSL would: the
//!    distribution's bundle, or exactly `SSL_CERT_FILE` / `SSL_CERT_DIR` when those are set;
//! 2. when that finds nothing (a bare container without `ca-certificates`), the Mozilla roots
//!    compiled in by `webpki-roots`, so public CRMs still verify on a bare machine;
//! 3. plus the operator's CA file (`[cti] ca_file`, PEM), for a CRM behind a private CA.
//!
//! Certificates are always verified; there is deliberately no switch to turn that off.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The ring provider. rustls 0.23.48 deprecates it because it lacks post-quantum key exchange
/// (only aws-lc-rs has it); we keep ring on purpose: no aws-lc, no cmake, no C toolchain
/// beyond `cc`. X25519 and the NIST curves remain.
#[allow(deprecated)]
fn ring() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Makes ring the process's default rustls provider, so that any other `reqwest::Client`
/// (built without `build_client`) works too; reqwest is built without a provider of its own
/// and panics when none is installed. Idempotent.
pub fn install_default_provider() {
    let _ = ring().install_default(); // Err: one is installed already.
}

/// Builds the client: rustls over ring, HTTP/1.1, no proxy, roots as the module docs say.
pub fn build_client(ca_file: Option<&Path>) -> Result<reqwest::Client, String> {
    install_default_provider();
    let roots = trust_roots(ca_file)?;
    let provider = Arc::new(ring());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS set-up: {err}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .no_proxy()
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|err| describe(&err))
}

/// The roots: the system's (or webpki's when the system has none) and the operator's file.
fn trust_roots(ca_file: Option<&Path>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for err in &native.errors {
        tracing::debug!(error = %err, "reading a system CA certificate failed");
    }
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    if added == 0 {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
            .map_err(|err| format!("reading CA file {}: {err}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("CA file {} holds no certificate", path.display()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|err| format!("CA file {}: {err}", path.display()))?;
        }
    }
    Ok(roots)
}

/// One sentence for a failed request, with the cause chain that reqwest's `Display` leaves
/// out (e.g. `invalid peer certificate: UnknownIssuer`).
pub fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Whether the failure is the server's certificate not verifying (untrusted, expired, wrong
/// name): a configuration problem worth a warning, not a passing outage.
pub fn is_certificate_error(description: &str) -> bool {
    description.contains("certificate")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_ca_file_is_a_clear_error() {
        let err = build_client(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let err = build_client(Some(&path)).unwrap_err();
        assert!(err.contains("no certificate"), "{err}");
    }

    #[test]
    fn the_client_builds_with_the_system_roots() {
        build_client(None).unwrap();
    }
}
