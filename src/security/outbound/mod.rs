//! Outbound-call policy against toll fraud: which numbers an extension may dial out through
//! a trunk (by class: internal, national, international, premium), and how many such calls
//! it and the trunk may have at once and per day.
//!
//! Owns: `OutboundConfig` (`[outbound]`), number classification, the sans-IO `OutboundPolicy`
//! (decisions and counters, `now` passed in) and the thin `OutboundGate` shell (a mutex and
//! an RAII `OutboundSlot` that frees the concurrent-call count when the call ends).
//! Must not touch: SIP, calls, the store. The B2BUA asks `OutboundGate::admit` where it picks
//! a trunk target for an extension's call, answers 403 on a refusal, and keeps the slot for
//! the call's lifetime.
//! Driven by: `calls::CallManager::invite` (one call per outbound attempt).
//!
//! Limits: the daily count is kept in memory (it restarts at zero after a restart, and per
//! node); click-to-dial and IVR dial-outs are not checked here (they are placed by the API
//! or the dialplan, not dialled from a phone).

mod policy;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;

pub use policy::{NumberClass, OutboundPolicy, Refusal};

/// `[outbound]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundConfig {
    /// The home country calling code: `+<cc>`/`00<cc>` numbers are national, not
    /// international.
    pub home_country: String,
    /// Prefixes of premium-rate numbers (matched on the number as sent to the trunk, and
    /// after `+<cc>`/`00<cc>`/`0`).
    pub premium_prefixes: Vec<String>,
    /// Classes every extension may dial, unless its role or itself is listed below.
    pub allow: Vec<NumberClass>,
    /// Classes by role (`agent`, `supervisor`, `user`...), replacing `allow`.
    pub roles: BTreeMap<String, Vec<NumberClass>>,
    /// Classes by extension number, replacing the role's.
    pub extensions: BTreeMap<String, Vec<NumberClass>>,
    /// Trunk names each class may use (absent: any trunk).
    pub trunks: BTreeMap<NumberClass, Vec<String>>,
    /// Outbound calls an extension may have at once (0: no limit).
    pub max_concurrent_per_extension: u32,
    /// Calls a trunk may carry out at once (0: no limit).
    pub max_concurrent_per_trunk: u32,
    /// Outbound calls an extension may start per UTC day (0: no limit).
    pub max_daily_per_extension: u32,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            home_country: "48".into(),
            premium_prefixes: vec!["70".into(), "900".into()],
            allow: vec![NumberClass::Internal, NumberClass::National],
            roles: BTreeMap::new(),
            extensions: BTreeMap::new(),
            trunks: BTreeMap::new(),
            max_concurrent_per_extension: 4,
            max_concurrent_per_trunk: 0,
            max_daily_per_extension: 0,
        }
    }
}

/// The name `[outbound.roles]` uses for an extension's role.
pub fn role_name(role: crate::config::Role) -> &'static str {
    match role {
        crate::config::Role::Agent => "agent",
        crate::config::Role::Supervisor => "supervisor",
        crate::config::Role::User => "user",
    }
}

/// The shared gate: the policy behind a mutex.
#[derive(Debug)]
pub struct OutboundGate {
    policy: Mutex<OutboundPolicy>,
}

/// A running outbound call's place in the concurrent counts; freed when dropped.
#[derive(Debug)]
pub struct OutboundSlot {
    gate: Arc<OutboundGate>,
    extension: String,
    trunk: String,
}

impl OutboundGate {
    /// A gate for `config`.
    pub fn new(config: OutboundConfig) -> Arc<OutboundGate> {
        Arc::new(OutboundGate {
            policy: Mutex::new(OutboundPolicy::new(config)),
        })
    }

    /// Admits `extension` (with `role`) dialling `number` through `trunk` at `unix_secs`, or
    /// says why not (logged at warn: a refused number is worth an operator's look).
    pub fn admit(
        self: &Arc<Self>,
        extension: &str,
        role: &str,
        trunk: &str,
        number: &str,
        unix_secs: u64,
    ) -> Result<OutboundSlot, Refusal> {
        let decided = self
            .lock()
            .admit(extension, role, trunk, number, unix_secs / 86_400);
        match decided {
            Ok(()) => Ok(OutboundSlot {
                gate: self.clone(),
                extension: extension.to_string(),
                trunk: trunk.to_string(),
            }),
            Err(refusal) => {
                tracing::warn!(%extension, %trunk, number = %crate::security::pii::masked(number),
                    %refusal, "outbound call refused");
                Err(refusal)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OutboundPolicy> {
        self.policy
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for OutboundSlot {
    fn drop(&mut self) {
        self.gate.lock().release(&self.extension, &self.trunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_section_parses() {
        let text = "[outbound]\nhome_country = \"48\"\npremium_prefixes = [\"70\", \"900\"]\n\
                    allow = [\"internal\", \"national\"]\n\
                    roles = { supervisor = [\"internal\", \"national\", \"international\"] }\n\
                    extensions = { \"2001\" = [\"international\"] }\n\
                    trunks = { international = [\"carrier\"] }\n\
                    max_concurrent_per_extension = 4\nmax_daily_per_extension = 0\n";
        let config = crate::config::Config::parse(text, "t.toml").unwrap();
        let outbound = config.outbound;
        assert_eq!(outbound.roles["supervisor"].len(), 3);
        assert_eq!(outbound.trunks[&NumberClass::International], ["carrier"]);
        assert!(crate::config::Config::parse("[outbound]\nallow = [\"moon\"]\n", "t").is_err());
    }
}
