//! `[features]`: the agent feature codes dialled from a phone.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::routing::FeatureCodes;

/// `[features]`: agent feature codes dialled from a phone.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeaturesSection {
    /// Log in (default `*11`).
    pub login: String,
    /// Log out (default `*12`).
    pub logout: String,
    /// Break; digits after it are the reason code (default `*13`).
    pub pause: String,
    /// Ready after a break (default `*14`).
    pub ready: String,
}

impl Default for FeaturesSection {
    fn default() -> Self {
        let codes = FeatureCodes::default();
        FeaturesSection {
            login: codes.login,
            logout: codes.logout,
            pause: codes.pause,
            ready: codes.ready,
        }
    }
}

impl FeaturesSection {
    /// The codes as the call layer matches them.
    pub fn codes(&self) -> FeatureCodes {
        FeatureCodes {
            login: self.login.clone(),
            logout: self.logout.clone(),
            pause: self.pause.clone(),
            ready: self.ready.clone(),
        }
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        let codes = [&self.login, &self.logout, &self.pause, &self.ready];
        for code in codes {
            if code.is_empty()
                || !code
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
            {
                return Err(format!("features: code {code:?} must be digits, * or #"));
            }
        }
        let unique: BTreeSet<_> = codes.iter().collect();
        if unique.len() != codes.len() {
            return Err("features: codes must differ".into());
        }
        Ok(())
    }
}
