//! The pages: the sign-in page (`/`), the agent desktop (`/agent`) and their assets, served
//! from files embedded in the binary (no Node, no build step: plain ES modules, with Preact +
//! htm vendored in `assets/vendor/`).
//!
//! Owns: the page routes, the embedded assets (`assets`), and signing in and out (`signin`),
//! which turns an extension and password into a browser session: an ordinary API token
//! carried by an HttpOnly cookie (see `api::session`).
//! Must not touch: calls, the ACD, SQL. The pages talk to the core only through the public
//! API (`/api/v1`) and its event WebSocket, so anything a page can do a CRM can do too.
//! Driven by: `server`, which merges `router` beside `api::app`.

mod assets;
mod signin;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;

use crate::api::{FailureLimiter, LimitPolicy};
use crate::config::Extension;
use crate::store::Store;

pub use signin::{Account, Accounts, hash_password};

/// What the page routes need.
#[derive(Clone)]
pub struct WebState {
    /// Where session tokens are stored (the API checks them like any token).
    store: Store,
    /// Who may sign in.
    accounts: Arc<Accounts>,
    /// Failed sign-ins per account (never per address: one office behind NAT must not lock
    /// its colleagues out).
    limiter: Arc<Mutex<FailureLimiter<String>>>,
    /// Mark the cookie `Secure` (set when the pages are served over HTTPS).
    secure_cookies: bool,
}

impl WebState {
    /// The pages' state for the configured `extensions`.
    pub fn new(store: Store, extensions: &[Extension], secure_cookies: bool) -> WebState {
        WebState {
            store,
            accounts: Arc::new(Accounts::from_extensions(extensions)),
            limiter: Arc::new(Mutex::new(FailureLimiter::new(SIGN_IN_LIMIT))),
            secure_cookies,
        }
    }
}

/// Five wrong passwords within 5 minutes lock that account's sign-in for 5 minutes.
const SIGN_IN_LIMIT: LimitPolicy = LimitPolicy {
    max_failures: 5,
    window: Duration::from_secs(300),
    block: Duration::from_secs(300),
};

/// The page routes and the sign-in API.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(assets::sign_in_page))
        .route("/agent", get(assets::agent_page))
        .route("/assets/{*file}", get(assets::asset))
        .route("/auth/login", axum::routing::post(signin::login))
        .route("/auth/session", get(signin::session).delete(signin::logout))
        .with_state(state)
}
