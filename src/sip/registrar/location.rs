//! The location service: bindings per address of record, their expiry index, and REGISTER
//! processing (RFC 3261 section 10.3 steps 6 to 8).
//!
//! Owns: the bindings, an expiry index ordered by `expires_at_unix`, and the queue of
//! persistence changes. A request is applied all or nothing: it is planned on a copy of the
//! AOR's bindings and committed only when every contact passed.

use std::collections::{BTreeSet, HashMap, VecDeque};

use super::contact::contact_key;
use super::{
    Binding, BindingChange, ContactArg, ContactsArg, RegisterOutcome, RegisterRequest,
    RegistrarConfig,
};

/// The in-memory location service.
///
/// After every mutation (`register`, `restore`, `expire`), drain [`Registrar::poll_change`]
/// and persist the changes in order; sleep until [`Registrar::next_expiry`], then call
/// [`Registrar::expire`].
#[derive(Debug, Clone)]
pub struct Registrar {
    config: RegistrarConfig,
    /// Bindings per AOR, in no particular order.
    aors: HashMap<String, Vec<Stored>>,
    /// `(expires_at_unix, aor, contact key)` of every stored binding: the next expiry and `count`.
    expiries: BTreeSet<(u64, String, String)>,
    /// Changes the shell has not drained yet.
    changes: VecDeque<BindingChange>,
    /// Sequence for "newest" ordering; bumped on every insert or refresh.
    next_seq: u64,
}

/// A binding with its comparison key and recency.
#[derive(Debug, Clone)]
struct Stored {
    key: String,
    seq: u64,
    binding: Binding,
}

impl Registrar {
    /// An empty registrar with `config`.
    pub fn new(config: RegistrarConfig) -> Self {
        Registrar {
            config,
            aors: HashMap::new(),
            expiries: BTreeSet::new(),
            changes: VecDeque::new(),
            next_seq: 0,
        }
    }

    /// Loads persisted bindings at start-up. Expired ones are dropped and a
    /// [`BindingChange::Remove`] is queued for each so the store forgets them too. Bindings
    /// restored later in expiry order count as newer.
    pub fn restore(&mut self, bindings: impl IntoIterator<Item = Binding>, unix_secs: u64) {
        let mut bindings: Vec<Binding> = bindings.into_iter().collect();
        bindings.sort_by_key(|b| b.expires_at_unix);
        for binding in bindings {
            if binding.expires_at_unix <= unix_secs {
                self.changes.push_back(remove_change(&binding));
                continue;
            }
            let key = contact_key(&binding.contact);
            let list = self.aors.entry(binding.aor.clone()).or_default();
            if let Some(i) = list.iter().position(|s| s.key == key) {
                let old = list.swap_remove(i);
                self.expiries.remove(&index_key(&old));
            }
            let stored = Stored {
                key,
                seq: self.next_seq,
                binding,
            };
            self.next_seq += 1;
            self.expiries.insert(index_key(&stored));
            list.push(stored);
        }
    }

    /// Processes an authenticated REGISTER (RFC 3261 section 10.3 steps 6 to 8).
    pub fn register(&mut self, unix_secs: u64, req: RegisterRequest<'_>) -> RegisterOutcome {
        self.expire_aor(req.aor, unix_secs);
        let contacts = match &req.contacts {
            ContactsArg::Star => return self.remove_all(unix_secs, &req),
            ContactsArg::List(list) if list.iter().any(|c| c.uri.trim() == "*") => {
                if list.len() > 1 {
                    return RegisterOutcome::BadRequest("\"*\" Contact mixed with other contacts");
                }
                return self.remove_all(unix_secs, &req);
            }
            ContactsArg::List(list) => list,
        };
        let old = self.aors.get(req.aor).cloned().unwrap_or_default();
        let first_seq = self.next_seq;
        let mut working = old.clone();
        for contact in contacts {
            if let Err(outcome) =
                self.apply_contact(unix_secs, &req, contact, &mut working, first_seq)
            {
                self.next_seq = first_seq;
                return outcome;
            }
        }
        if working.len() > self.config.max_contacts_per_aor && working.len() > old.len() {
            self.next_seq = first_seq;
            return RegisterOutcome::TooManyContacts;
        }
        self.commit(req.aor, &old, working, first_seq);
        RegisterOutcome::Ok {
            bindings: self.lookup(unix_secs, req.aor),
        }
    }

    /// The live bindings of `aor`: highest q first (a missing q counts as 1.0), then newest.
    pub fn lookup(&self, unix_secs: u64, aor: &str) -> Vec<Binding> {
        let Some(list) = self.aors.get(aor) else {
            return Vec::new();
        };
        let mut live: Vec<&Stored> = list
            .iter()
            .filter(|s| s.binding.expires_at_unix > unix_secs)
            .collect();
        live.sort_by(|a, b| {
            let (qa, qb) = (a.binding.q.unwrap_or(1.0), b.binding.q.unwrap_or(1.0));
            qb.total_cmp(&qa).then_with(|| b.seq.cmp(&a.seq))
        });
        live.into_iter().map(|s| s.binding.clone()).collect()
    }

    /// Removes every binding expired at `unix_secs` (expiry is at `expires_at_unix` itself),
    /// queueing a [`BindingChange::Remove`] for each.
    pub fn expire(&mut self, unix_secs: u64) {
        while let Some((at, aor, key)) = self.expiries.first().cloned() {
            if at > unix_secs {
                break;
            }
            self.expiries.pop_first();
            let Some(list) = self.aors.get_mut(&aor) else {
                continue;
            };
            if let Some(i) = list.iter().position(|s| s.key == key) {
                let gone = list.swap_remove(i);
                self.changes.push_back(remove_change(&gone.binding));
            }
            if list.is_empty() {
                self.aors.remove(&aor);
            }
        }
    }

    /// The next change to persist, oldest first.
    pub fn poll_change(&mut self) -> Option<BindingChange> {
        self.changes.pop_front()
    }

    /// When the next binding expires (call [`Registrar::expire`] then).
    pub fn next_expiry(&self) -> Option<u64> {
        self.expiries.first().map(|(at, _, _)| *at)
    }

    /// Bindings held (a metric); live ones once [`Registrar::expire`] has run.
    pub fn count(&self) -> usize {
        self.expiries.len()
    }

    /// Applies one contact to `working`, or fails the whole request.
    fn apply_contact(
        &mut self,
        unix_secs: u64,
        req: &RegisterRequest<'_>,
        contact: &ContactArg<'_>,
        working: &mut Vec<Stored>,
        first_seq: u64,
    ) -> Result<(), RegisterOutcome> {
        let cfg = &self.config;
        let expires = contact
            .expires
            .or(req.expires_header)
            .unwrap_or(cfg.default_expires);
        if expires != 0 && expires < cfg.min_expires {
            return Err(RegisterOutcome::IntervalTooBrief {
                min_expires: cfg.min_expires,
            });
        }
        let expires = expires.min(cfg.max_expires);
        let key = contact_key(contact.uri);
        // The same contact, or the same device (RFC 5626 instance) under a new address.
        let matches = |s: &Stored| {
            s.key == key
                || contact
                    .instance
                    .is_some_and(|i| s.binding.instance.as_deref() == Some(i))
        };
        let out_of_order = working.iter().filter(|s| matches(s)).any(|s| {
            let touched_by_this_request = s.seq >= first_seq;
            !touched_by_this_request
                && s.binding.call_id == req.call_id
                && req.cseq <= s.binding.cseq
        });
        if out_of_order {
            return Err(RegisterOutcome::OutOfOrder);
        }
        working.retain(|s| !matches(s));
        if expires == 0 {
            return Ok(());
        }
        let binding = Binding {
            aor: req.aor.to_owned(),
            contact: contact.uri.to_owned(),
            expires_at_unix: unix_secs.saturating_add(u64::from(expires)),
            call_id: req.call_id.to_owned(),
            cseq: req.cseq,
            q: contact.q,
            source: req.source,
            instance: contact.instance.map(str::to_owned),
            user_agent: req.user_agent.map(str::to_owned),
        };
        working.push(Stored {
            key,
            seq: self.next_seq,
            binding,
        });
        self.next_seq += 1;
        Ok(())
    }

    /// Replaces the AOR's bindings `old` by `new` and queues the differences: a removal for each
    /// old contact text no longer present, an upsert for each binding touched by this request.
    fn commit(&mut self, aor: &str, old: &[Stored], new: Vec<Stored>, first_seq: u64) {
        for gone in old {
            self.expiries.remove(&index_key(gone));
            if !new
                .iter()
                .any(|s| s.binding.contact == gone.binding.contact)
            {
                self.changes.push_back(remove_change(&gone.binding));
            }
        }
        for stored in &new {
            self.expiries.insert(index_key(stored));
            if stored.seq >= first_seq {
                self.changes
                    .push_back(BindingChange::Upsert(stored.binding.clone()));
            }
        }
        if new.is_empty() {
            self.aors.remove(aor);
        } else {
            self.aors.insert(aor.to_owned(), new);
        }
    }

    /// `Contact: *` handling (RFC 3261 10.3 step 6).
    fn remove_all(&mut self, unix_secs: u64, req: &RegisterRequest<'_>) -> RegisterOutcome {
        if req.expires_header != Some(0) {
            return RegisterOutcome::BadRequest("\"*\" Contact requires Expires: 0");
        }
        let old = self.aors.get(req.aor).cloned().unwrap_or_default();
        let out_of_order = old
            .iter()
            .any(|s| s.binding.call_id == req.call_id && req.cseq <= s.binding.cseq);
        if out_of_order {
            return RegisterOutcome::OutOfOrder;
        }
        self.commit(req.aor, &old, Vec::new(), self.next_seq);
        RegisterOutcome::Ok {
            bindings: self.lookup(unix_secs, req.aor),
        }
    }

    /// Drops the expired bindings of one AOR before processing a request for it.
    fn expire_aor(&mut self, aor: &str, unix_secs: u64) {
        let Some(list) = self.aors.get_mut(aor) else {
            return;
        };
        let mut i = 0;
        while i < list.len() {
            if list[i].binding.expires_at_unix <= unix_secs {
                let gone = list.swap_remove(i);
                self.expiries.remove(&index_key(&gone));
                self.changes.push_back(remove_change(&gone.binding));
            } else {
                i += 1;
            }
        }
        if list.is_empty() {
            self.aors.remove(aor);
        }
    }
}

fn index_key(stored: &Stored) -> (u64, String, String) {
    (
        stored.binding.expires_at_unix,
        stored.binding.aor.clone(),
        stored.key.clone(),
    )
}

fn remove_change(binding: &Binding) -> BindingChange {
    BindingChange::Remove {
        aor: binding.aor.clone(),
        contact: binding.contact.clone(),
    }
}

#[cfg(test)]
mod tests;
