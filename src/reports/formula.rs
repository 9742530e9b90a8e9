//! The report formulas (version `FORMULA_VERSION`, documented in docs/REPORTS.md): additive
//! counts per group and time slot, and the figures derived from them.
//!
//! Owns: `Counts` (what the store sums per 15-minute slot), `SlVariant`, `QueueFigures`.
//! Must not touch: SQL, HTTP, time zones. Pure arithmetic, so the API, the CSV export and any
//! later page show the same numbers.
//! Driven by: `reports::compute`.

use serde::Serialize;

/// Bumped whenever a formula changes meaning; reported with every report.
pub const FORMULA_VERSION: &str = "1";

/// Sums over the queue-log rows of one group (queue, channel or agent) in one time slot.
/// Every field is a count, a sum or a maximum, so slots merge into any longer interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// `enqueue` + `overflow_in`: contacts that entered.
    pub offered: i64,
    /// `answer`.
    pub answered: i64,
    /// `answer` with `wait_ms <= T` (the queue's service-level threshold).
    pub answered_within: i64,
    /// `abandon` (including short abandons).
    pub abandoned: i64,
    /// `abandon` with `wait_ms < S` (the short-abandon threshold).
    pub short_abandoned: i64,
    /// `abandon` with `wait_ms > T`.
    pub abandoned_after: i64,
    /// Sum of `answer` waits, ms.
    pub wait_ms: i64,
    /// Longest `wait_ms` of an `answer` or `abandon`, ms.
    pub longest_wait_ms: i64,
    /// `complete` and `callback_retry` (an accepted task ended).
    pub handled: i64,
    /// Sum of their `duration_ms` (answer to completion: talk, hold included), ms.
    pub talk_ms: i64,
    /// Sum of `wrap_up` `duration_ms`, ms.
    pub wrap_ms: i64,
    /// `transfer`.
    pub transferred: i64,
    /// `overflow` (left for another queue).
    pub overflowed: i64,
    /// `callback_requested` (kept place) + `callback_created` (after an abandon or missed call).
    pub callbacks_requested: i64,
    /// `callback_requested` only.
    pub callbacks_kept_place: i64,
    /// `callback_attempt` answered.
    pub callbacks_completed: i64,
    /// Of those, at or before the callback task's SLA deadline.
    pub callbacks_within_sla: i64,
}

impl Counts {
    /// Adds `o` into `self` (maximum for the longest wait).
    pub fn add(&mut self, o: &Counts) {
        self.offered += o.offered;
        self.answered += o.answered;
        self.answered_within += o.answered_within;
        self.abandoned += o.abandoned;
        self.short_abandoned += o.short_abandoned;
        self.abandoned_after += o.abandoned_after;
        self.wait_ms += o.wait_ms;
        self.longest_wait_ms = self.longest_wait_ms.max(o.longest_wait_ms);
        self.handled += o.handled;
        self.talk_ms += o.talk_ms;
        self.wrap_ms += o.wrap_ms;
        self.transferred += o.transferred;
        self.overflowed += o.overflowed;
        self.callbacks_requested += o.callbacks_requested;
        self.callbacks_kept_place += o.callbacks_kept_place;
        self.callbacks_completed += o.callbacks_completed;
        self.callbacks_within_sla += o.callbacks_within_sla;
    }
}

/// Which service-level formula is the headline (per queue, `service_level_variant`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlVariant {
    /// answered within T / answered.
    Answered,
    /// answered within T / (answered + abandoned).
    Offered,
    /// answered within T / (answered + abandoned − short abandons).
    OfferedWithoutShort,
    /// answered within T / (answered + abandoned after T): abandons before T are not held
    /// against the queue. The live queue statistics (`QueueStats`) use this one.
    #[default]
    AbandonedAfterThreshold,
}

impl SlVariant {
    /// Every variant, in documentation order.
    pub const ALL: [SlVariant; 4] = [
        SlVariant::Answered,
        SlVariant::Offered,
        SlVariant::OfferedWithoutShort,
        SlVariant::AbandonedAfterThreshold,
    ];

    /// The configuration name.
    pub fn name(self) -> &'static str {
        match self {
            SlVariant::Answered => "answered",
            SlVariant::Offered => "offered",
            SlVariant::OfferedWithoutShort => "offered_without_short",
            SlVariant::AbandonedAfterThreshold => "abandoned_after_threshold",
        }
    }

    /// The variant with this configuration name.
    pub fn parse(name: &str) -> Option<SlVariant> {
        SlVariant::ALL.into_iter().find(|v| v.name() == name)
    }

    /// This variant's value for `c`; `None` when its denominator is zero.
    pub fn of(self, c: &Counts) -> Option<f64> {
        let den = match self {
            SlVariant::Answered => c.answered,
            SlVariant::Offered => c.answered + c.abandoned,
            SlVariant::OfferedWithoutShort => c.answered + c.abandoned - c.short_abandoned,
            SlVariant::AbandonedAfterThreshold => c.answered + c.abandoned_after,
        };
        ratio(c.answered_within, den)
    }
}

/// `num / den`, `None` when `den` is not positive.
pub fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Every variant's service level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceLevels {
    /// answered within T / answered.
    pub answered: Option<f64>,
    /// answered within T / (answered + abandoned).
    pub offered: Option<f64>,
    /// answered within T / (answered + abandoned − short abandons).
    pub offered_without_short: Option<f64>,
    /// answered within T / (answered + abandoned after T).
    pub abandoned_after_threshold: Option<f64>,
}

/// The figures of one group over one interval (or the whole period).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueFigures {
    /// Contacts that entered (`enqueue` + `overflow_in`).
    pub offered: i64,
    /// Answered.
    pub answered: i64,
    /// Answered within the threshold T.
    pub answered_within_threshold: i64,
    /// Abandoned, short abandons included.
    pub abandoned: i64,
    /// Abandoned before the short-abandon threshold S.
    pub short_abandoned: i64,
    /// The headline service level (the queue's `service_level_variant`), a fraction.
    pub service_level: Option<f64>,
    /// Which variant the headline is.
    pub service_level_variant: SlVariant,
    /// Every variant.
    pub service_levels: ServiceLevels,
    /// Average speed of answer, seconds.
    pub asa_secs: Option<f64>,
    /// Average handling time: (talk incl. hold + wrap-up) / handled, seconds.
    pub aht_secs: Option<f64>,
    /// Average talk (incl. hold) per handled contact, seconds.
    pub talk_secs: Option<f64>,
    /// Average wrap-up per handled contact, seconds.
    pub wrap_up_secs: Option<f64>,
    /// Longest wait of an answered or abandoned contact, seconds.
    pub longest_wait_secs: Option<f64>,
    /// (abandoned − short abandons) / (answered + abandoned − short abandons).
    pub abandon_rate: Option<f64>,
    /// Handled (completed) contacts.
    pub handled: i64,
    /// Transfers out.
    pub transferred: i64,
    /// Overflows out.
    pub overflowed: i64,
    /// Callbacks requested (kept place + left after an abandon or a missed call).
    pub callbacks_requested: i64,
    /// Callers who kept their place as a callback.
    pub callbacks_kept_place: i64,
    /// Callbacks that reached the customer.
    pub callbacks_completed: i64,
    /// Of those, within the callback SLA.
    pub callbacks_within_sla: i64,
}

impl QueueFigures {
    /// The figures of `c` with `headline` as the service level.
    pub fn new(c: &Counts, headline: SlVariant) -> QueueFigures {
        let secs = |ms: i64, n: i64| ratio(ms, n).map(|v| v / 1000.0);
        let kept = c.abandoned - c.short_abandoned;
        QueueFigures {
            offered: c.offered,
            answered: c.answered,
            answered_within_threshold: c.answered_within,
            abandoned: c.abandoned,
            short_abandoned: c.short_abandoned,
            service_level: headline.of(c),
            service_level_variant: headline,
            service_levels: ServiceLevels {
                answered: SlVariant::Answered.of(c),
                offered: SlVariant::Offered.of(c),
                offered_without_short: SlVariant::OfferedWithoutShort.of(c),
                abandoned_after_threshold: SlVariant::AbandonedAfterThreshold.of(c),
            },
            asa_secs: secs(c.wait_ms, c.answered),
            aht_secs: secs(c.talk_ms + c.wrap_ms, c.handled),
            talk_secs: secs(c.talk_ms, c.handled),
            wrap_up_secs: secs(c.wrap_ms, c.handled),
            longest_wait_secs: (c.answered + c.abandoned > 0)
                .then(|| c.longest_wait_ms as f64 / 1000.0),
            abandon_rate: ratio(kept, c.answered + kept),
            handled: c.handled,
            transferred: c.transferred,
            overflowed: c.overflowed,
            callbacks_requested: c.callbacks_requested,
            callbacks_kept_place: c.callbacks_kept_place,
            callbacks_completed: c.callbacks_completed,
            callbacks_within_sla: c.callbacks_within_sla,
        }
    }
}
