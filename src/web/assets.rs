//! The embedded page assets: each file of `src/web/assets/` compiled into the binary, served
//! with its content type and the pages' security headers.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::ApiError;

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("assets/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("agent.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("api.js", JS),
    asset!("i18n.js", JS),
    asset!("signin.js", JS),
    asset!("agent.js", JS),
    asset!("desktop/offer.js", JS),
    asset!("desktop/contacts.js", JS),
    asset!("desktop/wrapup.js", JS),
    asset!("desktop/state.js", JS),
    asset!("i18n/en.json", JSON),
    asset!("i18n/pl.json", JSON),
    asset!("vendor/htm-preact.module.js", JS),
];

/// Scripts, styles and connections only from this origin; no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'";

/// `GET /`: the sign-in page.
pub async fn sign_in_page() -> Response {
    serve("index.html")
}

/// `GET /agent`: the agent desktop (it sends a visitor without a session to `/`).
pub async fn agent_page() -> Response {
    serve("agent.html")
}

/// `GET /assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    serve(&file)
}

fn serve(name: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return ApiError::NotFound(format!("no asset {name:?}")).into_response();
    };
    let mut response = (StatusCode::OK, asset.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_and_script_is_embedded_and_typed() {
        for name in [
            "index.html",
            "agent.html",
            "agent.js",
            "vendor/htm-preact.module.js",
        ] {
            let response = serve(name);
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            assert!(
                response
                    .headers()
                    .contains_key(header::CONTENT_SECURITY_POLICY)
            );
        }
        assert_eq!(serve("../Cargo.toml").status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn both_dictionaries_have_the_same_keys() {
        let keys = |name: &str| {
            let asset = ASSETS.iter().find(|a| a.name == name).expect("embedded");
            let json: serde_json::Value =
                serde_json::from_slice(asset.body).expect("a JSON dictionary");
            let mut keys: Vec<String> = json
                .as_object()
                .expect("an object")
                .keys()
                .cloned()
                .collect();
            keys.sort();
            keys
        };
        assert_eq!(keys("i18n/en.json"), keys("i18n/pl.json"));
    }
}
