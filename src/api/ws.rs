//! `GET /api/v1/events`: the live event stream over a WebSocket, for agent desktops and
//! wallboards. Text frames, one JSON object each: first `{"type": "hello", ...}`, then every
//! event (the webhook JSON) the caller may see, screen pops (`"type": "screen_pop"`) for
//! agents, and `{"type": "lagged", "skipped": n}` when the client fell behind.
//!
//! Visibility (`visible`): an agent token sees only events whose `agent_id` is its agent, and
//! its own screen pops; other roles see every event and no pops. `?types=a,b` narrows to
//! those event types. Browsers may pass the token as `?access_token=` (see `api::auth`).
//! Revoking the token through the API closes its open streams (close code 1008).

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::auth::{Principal, Role};
use super::extract::Params;
use super::{ApiError, ApiState};
use crate::cti::events::LiveMessage;

/// `?types=` (comma-separated event types) and `?access_token=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only these event types, comma-separated (screen pops always pass).
    types: Option<String>,
    /// The bearer token, for clients that cannot set headers.
    access_token: Option<String>,
}

/// Upgrades to a WebSocket carrying the events the caller may see.
#[utoipa::path(get, operation_id = "events_events", path = "/api/v1/events", tag = "events", params(EventsQuery),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
              crate::api::openapi::Errors))]
pub async fn events(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Params(query): Params<EventsQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|rejection| ApiError::Rejected {
        status: rejection.status(),
        message: rejection.body_text(),
    })?;
    let _ = query.access_token;
    let types: Option<Vec<String>> = query
        .types
        .map(|t| t.split(',').map(|s| s.trim().to_string()).collect());
    let rx = state.publisher.subscribe();
    let revoked = state.revocations.subscribe();
    // An agent's stream is their desktop: their offers wait for its screen pop.
    let desktop = match (who.role, who.agent.as_deref()) {
        (Role::Agent, Some(agent)) => Some(state.publisher.desktop(agent)),
        _ => None,
    };
    Ok(upgrade.on_upgrade(move |socket| async move {
        stream(socket, rx, revoked, who, types).await;
        drop(desktop);
    }))
}

async fn stream(
    mut socket: WebSocket,
    mut rx: tokio::sync::broadcast::Receiver<LiveMessage>,
    mut revoked: tokio::sync::broadcast::Receiver<String>,
    who: Principal,
    types: Option<Vec<String>>,
) {
    let hello = json!({"type": "hello", "role": who.role.as_str(), "agent": who.agent});
    if socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            message = rx.recv() => {
                let text = match message {
                    Ok(message) => match visible(&message, &who, types.as_deref()) {
                        Some(text) => text,
                        None => continue,
                    },
                    Err(RecvError::Lagged(skipped)) => {
                        json!({"type": "lagged", "skipped": skipped}).to_string()
                    }
                    Err(RecvError::Closed) => break,
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            id = revoked.recv() => match id {
                Ok(id) if id == who.token_id => {
                    let close = axum::extract::ws::CloseFrame {
                        code: 1008, // policy violation
                        reason: "token revoked".into(),
                    };
                    let _ = socket.send(Message::Close(Some(close))).await;
                    break;
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// The frame `message` becomes for `who`, or `None` when they may not (or did not ask to)
/// see it.
pub fn visible(message: &LiveMessage, who: &Principal, types: Option<&[String]>) -> Option<String> {
    match message {
        LiveMessage::ScreenPop { agent, body } => (who.role == Role::Agent
            && who.agent.as_deref() == Some(agent.as_str()))
        .then(|| body.to_string()),
        LiveMessage::Event { agent, body } => {
            if who.role == Role::Agent
                && (agent.is_none() || agent.as_deref() != who.agent.as_deref())
            {
                return None;
            }
            let kind = body["type"].as_str().unwrap_or("");
            if types.is_some_and(|t| !t.iter().any(|k| k == kind)) {
                return None;
            }
            Some(body.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn who(role: Role, agent: Option<&str>) -> Principal {
        Principal {
            token_id: "t".into(),
            role,
            agent: agent.map(str::to_string),
        }
    }

    fn event(kind: &str, agent: Option<&str>) -> LiveMessage {
        LiveMessage::Event {
            agent: agent.map(str::to_string),
            body: Arc::new(json!({"type": kind, "agent_id": agent})),
        }
    }

    #[test]
    fn agents_see_only_their_own_events_and_pops() {
        let a1001 = who(Role::Agent, Some("1001"));
        let boss = who(Role::Supervisor, None);
        let own = event("task.offered", Some("1001"));
        let other = event("task.offered", Some("1002"));
        let nobody = event("task.queued", None);
        assert!(visible(&own, &a1001, None).is_some());
        assert!(visible(&other, &a1001, None).is_none());
        assert!(visible(&nobody, &a1001, None).is_none());
        assert!(visible(&other, &boss, None).is_some());
        let pop = LiveMessage::ScreenPop {
            agent: "1002".into(),
            body: Arc::new(json!({"type": "screen_pop"})),
        };
        assert!(visible(&pop, &a1001, None).is_none());
        assert!(visible(&pop, &who(Role::Agent, Some("1002")), None).is_some());
        assert!(visible(&pop, &boss, None).is_none());
    }

    #[test]
    fn the_types_filter_narrows_events() {
        let boss = who(Role::Admin, None);
        let only = vec!["call.ended".to_string()];
        assert!(visible(&event("task.queued", None), &boss, Some(&only)).is_none());
        assert!(visible(&event("call.ended", None), &boss, Some(&only)).is_some());
    }
}
