//! The configuration audit: weak or default secrets, a demo listening on all addresses, an
//! open `/metrics`. Warnings only; nothing here refuses to start.
//!
//! Owns: what counts as weak and the wording of each warning.
//! Must not touch: the configuration's validation (errors live in `config`), logging (the
//! callers print or log the list).
//! Driven by: `centrala check` (printed to stderr) and `centrala serve` (logged at warn).

use crate::config::Config;

/// Shortest secret not called weak.
const MIN_SECRET_LEN: usize = 12;

/// Secrets that are guessed first, whatever their length.
const COMMON: &[&str] = &[
    "password", "changeme", "secret", "admin", "123456", "12345678", "qwerty", "letmein",
    "centrala", "test",
];

/// Why `secret` is weak for an account named `owner`, if it is.
fn weakness(secret: &str, owner: &str) -> Option<&'static str> {
    let lower = secret.to_ascii_lowercase();
    if lower.starts_with("demo") {
        Some("is a demo default")
    } else if COMMON.contains(&lower.as_str()) || lower.contains(&owner.to_ascii_lowercase()) {
        Some("is easy to guess")
    } else if secret.len() < MIN_SECRET_LEN {
        Some("is shorter than 12 characters")
    } else {
        None
    }
}

/// Every warning for `config`; `demo` is the run without a config file.
pub fn audit(config: &Config, demo: bool) -> Vec<String> {
    let mut warnings = Vec::new();
    if demo {
        warnings.push(
            "running the built-in demo: its SIP passwords and API tokens are public; \
             give a config file for anything but a trial"
                .to_string(),
        );
        for (what, addr) in [("SIP", config.sip.listen), ("HTTP", config.http.listen)] {
            if addr.ip().is_unspecified() {
                warnings.push(format!(
                    "the demo's {what} listens on all addresses ({addr}); anyone who can reach \
                     this machine can use its public credentials"
                ));
            }
        }
    }
    let http = &config.http;
    if !http.api_token.is_empty()
        && let Some(why) = weakness(&http.api_token, "admin")
    {
        warnings.push(format!("http.api_token {why}"));
    }
    for token in &http.tokens {
        if let Some(why) = weakness(&token.token, &token.name) {
            warnings.push(format!("http.tokens {:?}: the token {why}", token.name));
        }
    }
    for ext in &config.extensions {
        if let Some(why) = weakness(&ext.password, &ext.number) {
            warnings.push(format!("extension {}: the SIP password {why}", ext.number));
        }
    }
    for trunk in &config.trunks {
        let password = trunk.outbound.as_ref().and_then(|o| o.password.as_deref());
        if let Some(why) = password.and_then(|p| weakness(p, &trunk.name)) {
            warnings.push(format!("trunk {:?}: the password {why}", trunk.name));
        }
    }
    for hook in &config.cti.webhooks {
        if let Some(why) = weakness(&hook.secret, &hook.name) {
            warnings.push(format!("cti.webhooks {:?}: the secret {why}", hook.name));
        }
    }
    match &http.metrics_token {
        None if !http.listen.ip().is_loopback() => warnings.push(format!(
            "/metrics is open to anyone who reaches {}; set http.metrics_token",
            http.listen
        )),
        Some(token) if weakness(token, "metrics").is_some() => {
            warnings.push("http.metrics_token is weak".to_string());
        }
        _ => {}
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_warns_about_its_public_secrets_and_all_addresses() {
        let warnings = audit(&Config::default(), true);
        let all = warnings.join("\n");
        assert!(all.contains("built-in demo"), "{all}");
        assert!(all.contains("demo's SIP listens on all addresses"), "{all}");
        assert!(
            all.contains("extension 1001: the SIP password is a demo default"),
            "{all}"
        );
        assert!(all.contains("http.api_token is a demo default"), "{all}");
        assert!(all.contains("/metrics is open"), "{all}");
    }

    #[test]
    fn a_config_file_creates_nothing_of_the_demo() {
        let config =
            Config::parse("[http]\napi_token = \"Zq8-vT3m-Lp0x-Wc7n\"\n", "t.toml").unwrap();
        assert!(config.http.tokens.is_empty(), "no demo API tokens");
        assert!(config.extensions.is_empty(), "no demo extensions");
        let config = Config::parse("[sip]\n", "t.toml").unwrap();
        assert_eq!(config.http.api_token, "", "no demo admin token");
        assert!(config.http.tokens.is_empty());
        let demo = Config::default();
        assert_eq!(
            demo.extensions[0].password, "demo1001",
            "the demo keeps its own"
        );
        assert_eq!(
            demo.http.tokens.len(),
            5,
            "every demo agent, the supervisor, the CRM"
        );
    }

    #[test]
    fn weak_secrets_in_a_file_are_named() {
        let text = "[http]\nlisten = \"0.0.0.0:8080\"\napi_token = \"admin123\"\n\
                    [[extensions]]\nnumber = \"1001\"\npassword = \"1001pw\"\n\
                    [[extensions]]\nnumber = \"1002\"\npassword = \"x7-Rq.9vLw2#kP\"\n";
        let config = Config::parse(text, "t.toml").unwrap();
        let all = audit(&config, false).join("\n");
        assert!(all.contains("http.api_token is easy to guess"), "{all}");
        assert!(
            all.contains("extension 1001: the SIP password is easy"),
            "{all}"
        );
        assert!(!all.contains("extension 1002"), "{all}");
        assert!(!all.contains("built-in demo"), "{all}");
    }

    #[test]
    fn a_strong_loopback_config_with_a_metrics_token_has_no_warning() {
        let text = "[http]\nlisten = \"0.0.0.0:8080\"\napi_token = \"Zq8-vT3m-Lp0x-Wc7n\"\n\
                    metrics_token = \"Hk2-9sQe-Vb4r-Ty1u\"\n";
        let config = Config::parse(text, "t.toml").unwrap();
        assert_eq!(audit(&config, false), Vec::<String>::new());
    }

    #[test]
    fn an_open_metrics_endpoint_on_loopback_is_not_a_warning() {
        let text = "[http]\nlisten = \"127.0.0.1:8080\"\n";
        let config = Config::parse(text, "t.toml").unwrap();
        assert_eq!(audit(&config, false), Vec::<String>::new());
    }
}
