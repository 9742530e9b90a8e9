//! Where a new call comes from and where it goes.

use std::borrow::Cow;

use super::CallsConfig;
use super::caller_id::Overrides;
use crate::config::Trunk;
use crate::dialplan::Dialplan;
use crate::sip::message::{Message, Uri, unescape};
use crate::sip::registrar::{Binding, RegistrarService};

/// Who placed the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Origin {
    /// An authenticated user (their extension number).
    Extension(String),
    /// A carrier trunk, recognised by source address.
    Trunk(String),
}

impl Origin {
    pub(super) fn describe(&self) -> String {
        match self {
            Origin::Extension(_) => "extension".into(),
            Origin::Trunk(name) => format!("trunk:{name}"),
        }
    }
}

/// Where the call goes.
#[derive(Debug, Clone)]
pub(super) enum Target {
    /// An extension's registered phones, rung in parallel.
    Extension {
        number: String,
        contacts: Vec<Binding>,
    },
    /// A number dialled out through a trunk, presenting the caller ID `overrides` choose
    /// over the trunk's own (`calls::caller_id`).
    Trunk {
        trunk: Box<Trunk>,
        number: String,
        overrides: Overrides,
    },
    /// A number the dialplan handles (IVR); `trunk` names the trunk it came in on.
    Dialplan {
        number: String,
        trunk: Option<String>,
    },
}

impl Target {
    pub(super) fn number(&self) -> &str {
        match self {
            Target::Extension { number, .. }
            | Target::Trunk { number, .. }
            | Target::Dialplan { number, .. } => number,
        }
    }
}

/// Finds the target of `invite`, or the status to refuse it with.
pub(super) fn resolve(
    config: &CallsConfig,
    registrar: &RegistrarService,
    dialplan: &Dialplan,
    origin: &Origin,
    invite: &Message,
) -> Result<Target, (u16, &'static str)> {
    let uri = invite.request_uri().ok_or((400, "Bad Request-URI"))?;
    let uri = Uri::parse(uri).map_err(|_| (400, "Bad Request-URI"))?;
    let user: Cow<'_, str> = unescape(uri.user.ok_or((404, "Not Found"))?);
    let dialled = user.split(';').next().unwrap_or_default();
    if config.extensions.contains_key(dialled) {
        let contacts = registrar.lookup(dialled);
        if contacts.is_empty() {
            return Err((480, "Temporarily Unavailable"));
        }
        return Ok(Target::Extension {
            number: dialled.to_owned(),
            contacts,
        });
    }
    let trunk = match origin {
        Origin::Trunk(name) => Some(name.clone()),
        Origin::Extension(_) => None,
    };
    if dialplan.route(dialled, trunk.as_deref()).is_some() {
        return Ok(Target::Dialplan {
            number: dialled.to_owned(),
            trunk,
        });
    }
    if matches!(origin, Origin::Extension(_)) {
        for trunk in &config.trunks {
            let Some(out) = &trunk.outbound else { continue };
            let prefix = out.dial_prefix.as_deref().unwrap_or("");
            if let Some(number) = dialled.strip_prefix(prefix).filter(|n| !n.is_empty()) {
                return Ok(Target::Trunk {
                    trunk: Box::new(trunk.clone()),
                    number: number.to_owned(),
                    overrides: Overrides::default(),
                });
            }
        }
    }
    Err((404, "Not Found"))
}

/// The metric/CDR result for a call refused or failed with `status`.
pub(super) fn result_of_status(status: u16) -> &'static str {
    match status {
        486 | 600 => "busy",
        480 | 404 | 410 | 604 => "unavailable",
        408 => "no_answer",
        487 => "cancelled",
        _ => "failed",
    }
}
