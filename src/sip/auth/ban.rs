//! The failed-authentication ban list: per source IP, a sliding window of failure times; too
//! many failures inside the window ban the address for a while.
//!
//! Owns: failure counts and bans per IP, bounded to [`BanList::MAX_ENTRIES`] addresses (the
//! oldest-inserted address is evicted first). Must not touch: clocks (`now` is passed in),
//! logging (the caller logs once when [`BanList::record_failure`] returns `true`), responses
//! (the caller answers 403 to banned addresses before trying to authenticate them).
//! Driven by: the SIP shell, which records only *wrong* credentials as failures (a first
//! request without credentials that gets a 401 is not a failure), and calls
//! [`BanList::handle_timeout`] periodically to free memory.
//!
//! Known limit: an attacker who floods failures from more than `MAX_ENTRIES` (spoofed UDP)
//! addresses evicts older entries, bans included.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Counts failed authentications per source IP and bans addresses that fail too often.
#[derive(Debug, Clone)]
pub struct BanList {
    /// Failures that trigger a ban.
    max_failures: u32,
    /// The sliding window the failures must fall into.
    window: Duration,
    /// How long a ban lasts.
    ban_for: Duration,
    /// State per address.
    entries: HashMap<IpAddr, Entry>,
    /// Insertion order for eviction: `(generation, ip)`; records whose generation no longer
    /// matches the entry are skipped (the entry was removed and maybe re-inserted).
    order: VecDeque<(u64, IpAddr)>,
    /// Generation given to the next inserted entry.
    next_generation: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    generation: u64,
    /// Times of the recent failures, oldest first; at most `max_failures` of them.
    failures: VecDeque<Instant>,
    /// When the ban ends, if banned.
    banned_until: Option<Instant>,
}

impl BanList {
    /// The most addresses tracked at once; beyond it the oldest-inserted is forgotten.
    pub const MAX_ENTRIES: usize = 100_000;

    /// A ban list banning an address for `ban_for` after `max_failures` failures within
    /// `window`. A `max_failures` of 0 is treated as 1.
    pub fn new(max_failures: u32, window: Duration, ban_for: Duration) -> Self {
        BanList {
            max_failures: max_failures.max(1),
            window,
            ban_for,
            entries: HashMap::new(),
            order: VecDeque::new(),
            next_generation: 0,
        }
    }

    /// Whether `ip` is banned at `now`.
    pub fn is_banned(&self, now: Instant, ip: IpAddr) -> bool {
        self.entries
            .get(&ip)
            .is_some_and(|e| e.banned_until.is_some_and(|until| now < until))
    }

    /// Records a failed authentication from `ip`. Returns `true` exactly when this failure
    /// caused a new ban (so the shell logs it once); failures of a banned address are ignored.
    pub fn record_failure(&mut self, now: Instant, ip: IpAddr) -> bool {
        if self.is_banned(now, ip) {
            return false;
        }
        let (max, window, ban_for) = (self.max_failures, self.window, self.ban_for);
        let entry = self.entry(ip);
        entry.banned_until = None;
        while entry
            .failures
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= window)
        {
            entry.failures.pop_front();
        }
        entry.failures.push_back(now);
        if entry.failures.len() < max as usize {
            return false;
        }
        entry.failures.clear();
        entry.banned_until = Some(now + ban_for);
        true
    }

    /// Records a successful authentication from `ip`: forgets its failures (a running ban
    /// stays).
    pub fn record_success(&mut self, ip: IpAddr) {
        if let Some(entry) = self.entries.get_mut(&ip) {
            entry.failures.clear();
            if entry.banned_until.is_none() {
                self.entries.remove(&ip);
            }
        }
    }

    /// Drops entries whose ban ended and whose failures all left the window.
    pub fn handle_timeout(&mut self, now: Instant) {
        let window = self.window;
        self.entries.retain(|_, e| {
            let banned = e.banned_until.is_some_and(|until| now < until);
            let recent = e
                .failures
                .back()
                .is_some_and(|&t| now.saturating_duration_since(t) < window);
            banned || recent
        });
        self.compact_order();
    }

    /// Addresses banned at `now` (a metric).
    pub fn banned_count(&self, now: Instant) -> usize {
        self.entries
            .values()
            .filter(|e| e.banned_until.is_some_and(|until| now < until))
            .count()
    }

    /// The addresses banned at `now`, each with the time its ban has left, by address.
    pub fn banned(&self, now: Instant) -> Vec<(IpAddr, Duration)> {
        let mut banned: Vec<(IpAddr, Duration)> = self
            .entries
            .iter()
            .filter_map(|(ip, e)| {
                let until = e.banned_until.filter(|&until| now < until)?;
                Some((*ip, until - now))
            })
            .collect();
        banned.sort_unstable();
        banned
    }

    /// Lifts the ban of `ip` (and forgets its failures); `false` when it was not banned.
    pub fn lift(&mut self, now: Instant, ip: IpAddr) -> bool {
        let was_banned = self.is_banned(now, ip);
        if was_banned {
            self.entries.remove(&ip);
        }
        was_banned
    }

    /// Addresses tracked (banned or with recent failures).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no address is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry of `ip`, inserted (evicting the oldest when full) if absent.
    fn entry(&mut self, ip: IpAddr) -> &mut Entry {
        let mut generation = 0;
        if !self.entries.contains_key(&ip) {
            while self.entries.len() >= Self::MAX_ENTRIES {
                let Some((g, old)) = self.order.pop_front() else {
                    break;
                };
                if self.entries.get(&old).is_some_and(|e| e.generation == g) {
                    self.entries.remove(&old);
                }
            }
            self.compact_order();
            generation = self.next_generation;
            self.next_generation += 1;
            self.order.push_back((generation, ip));
        }
        let capacity = (self.max_failures as usize).min(16);
        self.entries.entry(ip).or_insert_with(|| Entry {
            generation,
            failures: VecDeque::with_capacity(capacity),
            banned_until: None,
        })
    }

    /// Drops order records of removed entries once they outnumber the live ones.
    fn compact_order(&mut self) {
        if self.order.len() > 2 * self.entries.len() + 64 {
            let entries = &self.entries;
            self.order
                .retain(|(g, ip)| entries.get(ip).is_some_and(|e| e.generation == *g));
        }
    }
}

#[cfg(test)]
mod tests;
