//! Digital channels: each turns contacts into conversations, messages and routing tasks, and
//! carries agents' replies back.
//!
//! Owns: `Intake` (inbound message -> customer, conversation, stored message, ACD task), the
//! threading decision (`thread`), agents' replies (`Replies`: stored first, then handed to
//! the channel's `Sender`), and one folder per channel (`sms`: the generic signed-JSON SMS
//! gateway; `email`: the SMTP listener and replies). Fax is not a channel here; docs/ARCHITECTURE.md says how it would enter.
//! Must not touch: SQL (through `store::Store`), routing internals (it feeds the ACD only
//! through `AcdHandle`), HTTP routing (the API mounts the channels' webhooks).
//! Driven by: the API (webhooks under `/channels/v1`, replies through
//! `POST /api/v1/conversations/{id}/messages`) and `server` (`Channels::start`).
//!
//! Every channel implements one trait, `Sender`, for its outbound side; inbound adapters only
//! build an `Inbound` and call `Intake::receive`.

pub mod email;
mod intake;
mod replies;
pub mod sms;
mod thread;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use thiserror::Error;

pub use intake::{Accepted, Inbound, Intake};
pub use replies::Replies;
pub use thread::{Latest, Threading, thread};

use crate::config::Config;
use crate::cti::events::Publisher;
use crate::cti::lookup::{E164Rules, LookupService};
use crate::customers::{CustomerError, Customers};
use crate::routing::{AcdError, AcdHandle};
use crate::store::{Store, StoreError};

/// A channel operation that failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// The contact's data cannot be used (bad address, bad payload).
    #[error("{0}")]
    Rejected(String),
    /// Linking the customer failed.
    #[error(transparent)]
    Customer(#[from] CustomerError),
    /// The routing engine refused or did not answer.
    #[error(transparent)]
    Routing(#[from] AcdError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One outbound message for a channel's provider.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The conversation it answers.
    pub conversation_id: String,
    /// The agent (extension) or token writing.
    pub agent: Option<String>,
    /// Our message id (the provider echoes it in receipts as its reference).
    pub message_id: String,
    /// The customer's address.
    pub to: String,
    /// Our address, if the conversation has one.
    pub from: Option<String>,
    /// The text.
    pub text: String,
}

/// A failed send: the provider refused, failed or did not answer.
#[derive(Debug, Clone, Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// A future a `Sender` returns.
pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<String, SendError>> + Send + 'a>>;

/// The outbound side of a channel: hands a message to the provider and returns the
/// provider's id for it.
pub trait Sender: Send + Sync + std::fmt::Debug {
    /// Sends `out`.
    fn send<'a>(&'a self, out: &'a Outgoing) -> Sending<'a>;
}

/// Everything the channels need, built once at start-up; cheap to clone.
#[derive(Debug, Clone)]
pub struct Channels {
    /// The customer directory.
    pub customers: Customers,
    /// Inbound messages.
    pub intake: Intake,
    /// Agents' replies.
    pub replies: Replies,
    /// The generic SMS gateway, when enabled.
    pub sms_generic: Option<Arc<sms::GenericSms>>,
    /// The e-mail channel, when enabled (its listener is started by `server`).
    pub email: Option<Arc<email::EmailChannel>>,
}

impl Channels {
    /// Builds the channels from `config`.
    pub fn new(
        config: &Config,
        store: Store,
        lookups: Arc<LookupService>,
        acd: AcdHandle,
        publisher: Publisher,
    ) -> Result<Channels, String> {
        let rules = E164Rules {
            country_code: config.cti.default_country_code.clone(),
            national_digits: config.cti.national_number_digits,
        };
        let customers = Customers::new(store.clone(), lookups, rules, config.customers.clone());
        let intake = Intake::new(customers.clone(), store.clone(), acd, publisher.clone());
        let mut senders: BTreeMap<&'static str, Arc<dyn Sender>> = BTreeMap::new();
        let sms_generic = if config.sms.generic.enabled {
            let sms = Arc::new(sms::GenericSms::new(&config.sms.generic)?);
            senders.insert("sms", sms.clone());
            Some(sms)
        } else {
            None
        };
        let email = config.email.enabled.then(|| {
            senders.insert(
                "email",
                Arc::new(email::EmailSender::new(&config.email, store.clone())),
            );
            Arc::new(email::EmailChannel::new(
                &config.email,
                intake.clone(),
                store.clone(),
            ))
        });
        Ok(Channels {
            customers,
            replies: Replies::new(store, publisher, senders),
            intake,
            sms_generic,
            email,
        })
    }
}

/// `prefix_` and 16 random hex digits.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", hex::encode(rand::random::<[u8; 8]>()))
}
