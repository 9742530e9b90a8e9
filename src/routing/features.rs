//! Agent feature codes dialled from a phone: log in, log out, break (with a reason code),
//! ready.
//!
//! Owns: `FeatureCodes` (the configured prefixes) and `FeatureAction` (what a dialled string
//! means).
//! Must not touch: agent state; the call layer turns the action into an `AcdHandle` call.
//! Driven by: the call layer, for each number an extension dials, before the dialplan.

use crate::routing::ids::ReasonCode;

/// What a dialled feature code asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeatureAction {
    /// Log in (and become available).
    Login,
    /// Log out.
    Logout,
    /// Take a break, with the reason code dialled after the prefix (`*13` then `2` = reason
    /// 2; none dialled: reason 1).
    Pause(ReasonCode),
    /// Back from a break.
    Ready,
}

/// The configured feature codes. Each is matched as an exact string, except `pause`, which
/// may be followed by reason-code digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureCodes {
    /// Log in (default `*11`).
    pub login: String,
    /// Log out (default `*12`).
    pub logout: String,
    /// Break (default `*13`).
    pub pause: String,
    /// Ready again (default `*14`).
    pub ready: String,
}

impl Default for FeatureCodes {
    fn default() -> Self {
        FeatureCodes {
            login: "*11".into(),
            logout: "*12".into(),
            pause: "*13".into(),
            ready: "*14".into(),
        }
    }
}

impl FeatureCodes {
    /// What `dialled` asks for, or `None` when it is not a feature code.
    pub fn parse(&self, dialled: &str) -> Option<FeatureAction> {
        if dialled == self.login {
            return Some(FeatureAction::Login);
        }
        if dialled == self.logout {
            return Some(FeatureAction::Logout);
        }
        if dialled == self.ready {
            return Some(FeatureAction::Ready);
        }
        let rest = dialled.strip_prefix(self.pause.as_str())?;
        if rest.is_empty() {
            return Some(FeatureAction::Pause(ReasonCode(1)));
        }
        if !rest.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        match rest.parse::<u16>() {
            Ok(code) if code > 0 => Some(FeatureAction::Pause(ReasonCode(code))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_codes() {
        let codes = FeatureCodes::default();
        assert_eq!(codes.parse("*11"), Some(FeatureAction::Login));
        assert_eq!(codes.parse("*12"), Some(FeatureAction::Logout));
        assert_eq!(codes.parse("*14"), Some(FeatureAction::Ready));
        assert_eq!(
            codes.parse("*13"),
            Some(FeatureAction::Pause(ReasonCode(1)))
        );
        assert_eq!(
            codes.parse("*132"),
            Some(FeatureAction::Pause(ReasonCode(2)))
        );
        assert_eq!(codes.parse("*130"), None);
        assert_eq!(codes.parse("*13x"), None);
        assert_eq!(codes.parse("1001"), None);
        assert_eq!(codes.parse("*1"), None);
    }
}
