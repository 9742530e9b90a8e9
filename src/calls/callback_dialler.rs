//! The callback dialler: the owner of every callback task the ACD offers. Each offer becomes
//! an agent-first originated call (`originate`), placed once the agent's screen pop is out
//! (`Notices` holds the offer until then); an offer the ACD takes back (ring-no-answer,
//! logout) stops the agent's phones ringing.
//!
//! Owns: the map of callback offers being rung (task → withdraw handle).
//! Must not touch: the ACD's state (it only answers offers through `AcdHandle`), SIP (through
//! `originate`).
//! Driven by: the ACD's notices on the callback channel sink (`server` registers the sink
//! before agents log in, so no offer is lost at start-up).

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::CallManager;
use super::caller_id::Overrides;
use super::originate::Purpose;
use crate::routing::{Channel, Notices, TaskId, TaskNotice};

/// Serves the callback offers arriving on `notices` until the ACD stops.
pub fn spawn(manager: Arc<CallManager>, mut notices: Notices) {
    tokio::spawn(async move {
        let mut ringing: HashMap<TaskId, mpsc::UnboundedSender<()>> = HashMap::new();
        while let Some(notice) = notices.recv().await {
            ringing.retain(|_, withdraw| !withdraw.is_closed());
            match notice {
                TaskNotice::Offer {
                    task,
                    agent,
                    agent_number,
                    channel: Channel::Callback,
                    customer,
                    attempt,
                    ..
                } => {
                    tracing::info!(%task, agent = %agent_number, attempt, "callback offered; ringing the agent");
                    let customer = customer.unwrap_or_default();
                    let purpose = Purpose::Callback { task, agent };
                    // The queue's caller ID joins once the call knows its queue (`originate`).
                    let overrides = Overrides::default();
                    match manager.place(&agent_number, &customer, purpose, overrides) {
                        Ok(placed) => {
                            ringing.insert(task, placed.withdraw);
                        }
                        Err(err) => {
                            tracing::warn!(%err, %task, "callback not placed; offer returned");
                            if let Err(err) = manager.acd.offer_unanswered(task, agent).await {
                                tracing::debug!(%err, %task, "offer already gone");
                            }
                        }
                    }
                }
                TaskNotice::OfferEnded { task, .. } => {
                    if let Some(withdraw) = ringing.remove(&task) {
                        let _ = withdraw.send(());
                    }
                }
                other => tracing::debug!(?other, "callback notice"),
            }
        }
    });
}
