//! The outbound decisions and counters, pure: no clock (the day number is passed in), no
//! locks, no I/O.

use std::collections::HashMap;

use serde::Deserialize;

use super::OutboundConfig;

/// What kind of number is dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberClass {
    /// Short numbers (at most 5 digits): extensions and services behind the trunk.
    Internal,
    /// The home country.
    National,
    /// Another country (`+` or `00` and a foreign code).
    International,
    /// Premium-rate prefixes.
    Premium,
}

impl NumberClass {
    fn as_str(self) -> &'static str {
        match self {
            NumberClass::Internal => "internal",
            NumberClass::National => "national",
            NumberClass::International => "international",
            NumberClass::Premium => "premium",
        }
    }
}

/// Why an outbound call is refused (the B2BUA answers 403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The extension may not dial this class of number (or not through this trunk).
    #[error("{class} numbers are not allowed for this extension{via}")]
    NotAllowed {
        /// The number's class.
        class: &'static str,
        /// ` through trunk X` when the trunk is the reason.
        via: String,
    },
    /// The extension has as many outbound calls as it may.
    #[error("the extension already has {0} outbound calls")]
    ExtensionBusy(u32),
    /// The trunk carries as many calls as it may.
    #[error("the trunk already carries {0} calls")]
    TrunkBusy(u32),
    /// The extension made its calls for today.
    #[error("the extension made its {0} outbound calls for today")]
    DailyLimit(u32),
}

impl Refusal {
    /// The SIP reason phrase of the 403.
    pub fn reason_phrase(&self) -> &'static str {
        match self {
            Refusal::NotAllowed { .. } => "Forbidden (number not allowed)",
            Refusal::ExtensionBusy(_) | Refusal::TrunkBusy(_) => "Forbidden (call limit reached)",
            Refusal::DailyLimit(_) => "Forbidden (daily call limit reached)",
        }
    }
}

/// Decides and counts outbound calls.
#[derive(Debug)]
pub struct OutboundPolicy {
    config: OutboundConfig,
    active_by_extension: HashMap<String, u32>,
    active_by_trunk: HashMap<String, u32>,
    /// (day, calls started that day) per extension.
    daily: HashMap<String, (u64, u32)>,
}

impl OutboundPolicy {
    /// A policy with no call counted.
    pub fn new(config: OutboundConfig) -> OutboundPolicy {
        OutboundPolicy {
            config,
            active_by_extension: HashMap::new(),
            active_by_trunk: HashMap::new(),
            daily: HashMap::new(),
        }
    }

    /// The class of `number` as sent to the trunk.
    pub fn classify(&self, number: &str) -> NumberClass {
        let cc = self.config.home_country.as_str();
        let compact: String = number
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        let national = compact
            .strip_prefix('+')
            .or_else(|| compact.strip_prefix("00"))
            .map(|rest| rest.strip_prefix(cc).ok_or(rest));
        let significant = match national {
            Some(Ok(home)) => home,
            Some(Err(_foreign)) => {
                return if self.is_premium(&compact) {
                    NumberClass::Premium
                } else {
                    NumberClass::International
                };
            }
            None => compact.strip_prefix('0').unwrap_or(&compact),
        };
        if self.is_premium(significant) || self.is_premium(&compact) {
            NumberClass::Premium
        } else if compact.len() <= 5 {
            NumberClass::Internal
        } else {
            NumberClass::National
        }
    }

    fn is_premium(&self, number: &str) -> bool {
        let bare = number.trim_start_matches('+');
        self.config
            .premium_prefixes
            .iter()
            .any(|p| !p.is_empty() && bare.starts_with(p.trim_start_matches('+')))
    }

    /// Admits a call (counting it) or refuses it (counting nothing). `day` is the UTC day
    /// number (unix seconds / 86400).
    pub fn admit(
        &mut self,
        extension: &str,
        role: &str,
        trunk: &str,
        number: &str,
        day: u64,
    ) -> Result<(), Refusal> {
        let class = self.classify(number);
        let allowed = self
            .config
            .extensions
            .get(extension)
            .or_else(|| self.config.roles.get(role))
            .unwrap_or(&self.config.allow);
        if !allowed.contains(&class) {
            return Err(Refusal::NotAllowed {
                class: class.as_str(),
                via: String::new(),
            });
        }
        if let Some(trunks) = self.config.trunks.get(&class)
            && !trunks.iter().any(|t| t == trunk)
        {
            return Err(Refusal::NotAllowed {
                class: class.as_str(),
                via: format!(" through trunk {trunk}"),
            });
        }
        let max_ext = self.config.max_concurrent_per_extension;
        let active = self
            .active_by_extension
            .get(extension)
            .copied()
            .unwrap_or(0);
        if max_ext > 0 && active >= max_ext {
            return Err(Refusal::ExtensionBusy(max_ext));
        }
        let max_trunk = self.config.max_concurrent_per_trunk;
        let carried = self.active_by_trunk.get(trunk).copied().unwrap_or(0);
        if max_trunk > 0 && carried >= max_trunk {
            return Err(Refusal::TrunkBusy(max_trunk));
        }
        let max_daily = self.config.max_daily_per_extension;
        let today = match self.daily.get(extension) {
            Some(&(d, n)) if d == day => n,
            _ => 0,
        };
        if max_daily > 0 && today >= max_daily {
            return Err(Refusal::DailyLimit(max_daily));
        }
        self.daily.insert(extension.to_string(), (day, today + 1));
        *self
            .active_by_extension
            .entry(extension.into())
            .or_default() += 1;
        *self.active_by_trunk.entry(trunk.into()).or_default() += 1;
        Ok(())
    }

    /// Frees an admitted call's concurrent counts (its daily count stays).
    pub fn release(&mut self, extension: &str, trunk: &str) {
        for (map, key) in [
            (&mut self.active_by_extension, extension),
            (&mut self.active_by_trunk, trunk),
        ] {
            if let Some(n) = map.get_mut(key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(edit: impl FnOnce(&mut OutboundConfig)) -> OutboundPolicy {
        let mut config = OutboundConfig::default();
        edit(&mut config);
        OutboundPolicy::new(config)
    }

    #[test]
    fn numbers_are_classified_by_prefix() {
        let p = policy(|_| {});
        for (number, class) in [
            ("555", NumberClass::Internal),
            ("221234567", NumberClass::National),
            ("0221234567", NumberClass::National),
            ("+48221234567", NumberClass::National),
            ("0048221234567", NumberClass::National),
            ("+4420 7946 0000", NumberClass::International),
            ("0014155550100", NumberClass::International),
            ("701234567", NumberClass::Premium),
            ("+48701234567", NumberClass::Premium),
            ("0701234567", NumberClass::Premium),
        ] {
            assert_eq!(p.classify(number), class, "{number}");
        }
    }

    #[test]
    fn premium_and_international_are_refused_by_default() {
        let mut p = policy(|_| {});
        assert!(matches!(
            p.admit("1001", "agent", "carrier", "701234567", 1),
            Err(Refusal::NotAllowed {
                class: "premium",
                ..
            })
        ));
        assert!(matches!(
            p.admit("1001", "agent", "carrier", "+442079460000", 1),
            Err(Refusal::NotAllowed {
                class: "international",
                ..
            })
        ));
        assert_eq!(p.admit("1001", "agent", "carrier", "221234567", 1), Ok(()));
    }

    #[test]
    fn the_extension_overrides_its_role_which_overrides_the_default() {
        let mut p = policy(|c| {
            c.roles
                .insert("supervisor".into(), vec![NumberClass::International]);
            c.extensions
                .insert("1001".into(), vec![NumberClass::Premium]);
        });
        assert_eq!(
            p.admit("2001", "supervisor", "t", "+442079460000", 1),
            Ok(())
        );
        assert!(p.admit("2001", "supervisor", "t", "221234567", 1).is_err());
        assert_eq!(p.admit("1001", "agent", "t", "701234567", 1), Ok(()));
    }

    #[test]
    fn a_class_may_be_bound_to_trunks() {
        let mut p = policy(|c| {
            c.trunks.insert(NumberClass::National, vec!["cheap".into()]);
        });
        assert!(p.admit("1001", "agent", "pricey", "221234567", 1).is_err());
        assert_eq!(p.admit("1001", "agent", "cheap", "221234567", 1), Ok(()));
    }

    #[test]
    fn concurrent_calls_are_capped_and_freed() {
        let mut p = policy(|c| {
            c.max_concurrent_per_extension = 1;
            c.max_concurrent_per_trunk = 2;
        });
        assert_eq!(p.admit("1001", "agent", "t", "221234567", 1), Ok(()));
        assert_eq!(
            p.admit("1001", "agent", "t", "221234567", 1),
            Err(Refusal::ExtensionBusy(1))
        );
        assert_eq!(p.admit("1002", "agent", "t", "221234567", 1), Ok(()));
        assert_eq!(
            p.admit("1003", "agent", "t", "221234567", 1),
            Err(Refusal::TrunkBusy(2))
        );
        p.release("1001", "t");
        assert_eq!(p.admit("1001", "agent", "t", "221234567", 1), Ok(()));
    }

    #[test]
    fn the_daily_limit_counts_started_calls_and_resets_the_next_day() {
        let mut p = policy(|c| c.max_daily_per_extension = 2);
        for _ in 0..2 {
            assert_eq!(p.admit("1001", "agent", "t", "221234567", 7), Ok(()));
            p.release("1001", "t");
        }
        assert_eq!(
            p.admit("1001", "agent", "t", "221234567", 7),
            Err(Refusal::DailyLimit(2))
        );
        assert_eq!(p.admit("1001", "agent", "t", "221234567", 8), Ok(()));
    }
}
