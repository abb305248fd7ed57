//! The dashboard's gate. A TCP port on localhost is reachable by every
//! local user and, through DNS rebinding, by any web page, so every request
//! must: name a loopback `Host`; carry the session token (the
//! `devctl_dashboard` cookie or the `X-Devctl-Token` header); and, when it
//! changes state, carry the token in the header and an `Origin` equal to
//! the dashboard's own. The cookie is set by `/login?token=…`, whose token
//! is spent on first use. No CORS header is ever sent.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Name of the session cookie.
pub const COOKIE: &str = "devctl_dashboard";
/// Header carrying the session token on API calls.
pub const TOKEN_HEADER: &str = "x-devctl-token";
/// How long a login URL stays usable.
pub const LOGIN_LIFETIME: Duration = Duration::from_secs(300);
/// Unspent login tokens kept at most (the oldest is dropped).
const MAX_LOGINS: usize = 16;

/// 32 random bytes from the kernel, as 64 hex digits.
pub fn random_token() -> std::io::Result<String> {
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Equality whose time does not depend on where the inputs differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// What the gate knows: the session secret, the port, the login tokens.
#[derive(Clone)]
pub struct Gate {
    pub secret: Arc<str>,
    pub port: u16,
    logins: Arc<Mutex<VecDeque<(String, Instant)>>>,
}

impl Gate {
    pub fn new(secret: String, port: u16) -> Gate {
        Gate {
            secret: secret.into(),
            port,
            logins: Arc::default(),
        }
    }

    /// A fresh one-time login token.
    pub fn mint_login(&self) -> std::io::Result<String> {
        let t = random_token()?;
        let mut logins = self.logins.lock().unwrap_or_else(|e| e.into_inner());
        logins.retain(|(_, at)| at.elapsed() < LOGIN_LIFETIME);
        if logins.len() >= MAX_LOGINS {
            logins.pop_front();
        }
        logins.push_back((t.clone(), Instant::now()));
        Ok(t)
    }

    /// Spend a login token: true once per minted token, within its lifetime.
    pub fn spend_login(&self, token: &str) -> bool {
        let mut logins = self.logins.lock().unwrap_or_else(|e| e.into_inner());
        let found = logins
            .iter()
            .position(|(t, at)| same_secret(t, token) && at.elapsed() < LOGIN_LIFETIME);
        found.and_then(|i| logins.remove(i)).is_some()
    }

    /// Whether `host` (a `Host` header) names this dashboard on a loopback name.
    pub fn host_ok(&self, host: &str) -> bool {
        let (name, port) = split_host(host);
        let loopback = matches!(
            name.to_ascii_lowercase().as_str(),
            "127.0.0.1" | "localhost" | "[::1]"
        );
        loopback && port.is_none_or(|p| p == self.port.to_string())
    }

    /// Whether `origin` is this dashboard's own, reached as `host`.
    pub fn origin_ok(&self, origin: &str, host: &str) -> bool {
        let (name, _) = split_host(host);
        origin.eq_ignore_ascii_case(&format!("http://{name}:{}", self.port))
    }

    fn token_of(&self, headers: &HeaderMap) -> (bool, bool) {
        let header_ok = headers
            .get(TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| same_secret(v, &self.secret));
        let cookie_ok = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .any(|(k, v)| k == COOKIE && same_secret(v, &self.secret));
        (cookie_ok, header_ok)
    }

    /// The `Set-Cookie` value of a logged-in browser.
    pub fn cookie(&self) -> String {
        format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
            self.secret
        )
    }
}

/// `name[:port]`, IPv6 literals in brackets.
fn split_host(host: &str) -> (&str, Option<&str>) {
    if host.starts_with('[') {
        match host.find(']') {
            Some(end) => {
                let (name, rest) = host.split_at(end + 1);
                (name, rest.strip_prefix(':'))
            }
            None => (host, None),
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    }
}

/// A refusal: plain text, never cached, never framed.
pub fn refuse(status: StatusCode, why: &str) -> Response {
    let mut r = (status, format!("devctl dashboard: {why}\n")).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    harden(r.headers_mut());
    r
}

/// Headers on every answer: no caching, no framing, no sniffing, no
/// referrer, and a content policy that allows only the page's own files.
pub fn harden(h: &mut HeaderMap) {
    for (k, v) in [
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        (
            "content-security-policy",
            "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
}

/// Paths the dashboard serves, by method; the rest of the API (load,
/// forget, wait, daemon stop and re-exec) stays on the Unix socket. Reload
/// loads only what the project's own devctl.kdl says, so it is served.
fn allowed(method: &Method, path: &str) -> bool {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match *method {
        Method::GET | Method::HEAD => matches!(
            parts.as_slice(),
            [""] | ["assets", _]
                | ["events"]
                | ["v1", "version" | "projects" | "units" | "logs"]
                | ["v1", "projects", _, "units", _]
                | ["v1", "projects", _, "units", _, "file"]
        ),
        Method::POST => matches!(
            parts.as_slice(),
            ["v1", "projects", _, "jobs" | "enablement" | "reload"] | ["events", _, "watch"]
        ),
        _ => false,
    }
}

/// The gate, as axum middleware.
pub async fn gate(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !gate.host_ok(&host) {
        tracing::warn!(
            host,
            "dashboard request refused: Host is not a loopback name"
        );
        return refuse(
            StatusCode::FORBIDDEN,
            "the Host header must name this machine (127.0.0.1, localhost or [::1])",
        );
    }
    if req.uri().path() == "/login" {
        return login(&gate, &req);
    }
    let (cookie_ok, header_ok) = gate.token_of(req.headers());
    if !(cookie_ok || header_ok) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "no valid token; open the link `devctl dashboard` prints",
        );
    }
    let method = req.method().clone();
    let changes_state = !matches!(method, Method::GET | Method::HEAD);
    if changes_state {
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !gate.origin_ok(origin, &host) {
            tracing::warn!(
                origin,
                "dashboard request refused: Origin is not the dashboard's own"
            );
            return refuse(
                StatusCode::FORBIDDEN,
                "a request that changes state must come from the dashboard's own page (Origin)",
            );
        }
        if !header_ok {
            return refuse(
                StatusCode::FORBIDDEN,
                "a request that changes state must carry the token in the X-Devctl-Token header",
            );
        }
    }
    if !allowed(&method, req.uri().path()) {
        return refuse(
            StatusCode::NOT_FOUND,
            &format!("no such page: {method} {}", req.uri().path()),
        );
    }
    let mut resp = next.run(req).await;
    harden(resp.headers_mut());
    resp
}

/// `GET /login?token=T`: spend T, set the cookie, go to the page.
fn login(gate: &Gate, req: &Request) -> Response {
    let token = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| v)
        .unwrap_or("");
    if req.method() != Method::GET || !gate.spend_login(token) {
        return refuse(
            StatusCode::FORBIDDEN,
            "this login link is spent, expired or wrong; run `devctl dashboard` for a fresh one",
        );
    }
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SEE_OTHER;
    let h = r.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static("/"));
    if let Ok(v) = HeaderValue::from_str(&gate.cookie()) {
        h.insert(header::SET_COOKIE, v);
    }
    harden(h);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> Gate {
        Gate::new("s3cret".into(), 8080)
    }

    #[test]
    fn hosts_must_be_loopback_names_of_this_port() {
        let g = gate();
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "LOCALHOST",
            "127.0.0.1",
        ] {
            assert!(g.host_ok(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "127.0.0.1:8081",
            "127.0.0.1.evil.example:8080",
            "",
            "[::1]:9",
            "0.0.0.0:8080",
        ] {
            assert!(!g.host_ok(bad), "{bad}");
        }
    }

    #[test]
    fn origin_must_be_the_page_itself() {
        let g = gate();
        assert!(g.origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(g.origin_ok("http://localhost:8080", "localhost:8080"));
        assert!(!g.origin_ok("http://localhost:8080", "127.0.0.1:8080"));
        assert!(!g.origin_ok("http://evil.example", "127.0.0.1:8080"));
        assert!(!g.origin_ok("null", "127.0.0.1:8080"));
        assert!(!g.origin_ok("", "127.0.0.1:8080"));
    }

    #[test]
    fn login_tokens_are_spent_once() {
        let g = gate();
        let t = g.mint_login().unwrap();
        assert_eq!(t.len(), 64);
        assert!(!g.spend_login("nope"));
        assert!(g.spend_login(&t));
        assert!(!g.spend_login(&t), "a login token works once");
        for _ in 0..MAX_LOGINS + 3 {
            g.mint_login().unwrap();
        }
        assert_eq!(g.logins.lock().unwrap().len(), MAX_LOGINS);
    }

    #[test]
    fn the_token_comes_from_the_cookie_or_the_header() {
        let g = gate();
        let mut h = HeaderMap::new();
        assert_eq!(g.token_of(&h), (false, false));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; devctl_dashboard=s3cret"),
        );
        assert_eq!(g.token_of(&h), (true, false));
        h.insert(TOKEN_HEADER, HeaderValue::from_static("s3cret"));
        assert_eq!(g.token_of(&h), (true, true));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("devctl_dashboard=s3cre"),
        );
        assert_eq!(g.token_of(&h), (false, true));
    }

    #[test]
    fn only_the_dashboards_routes_pass() {
        let get = Method::GET;
        let post = Method::POST;
        assert!(allowed(&get, "/"));
        assert!(allowed(&get, "/assets/app.js"));
        assert!(allowed(&get, "/events"));
        assert!(allowed(&get, "/v1/units"));
        assert!(allowed(&get, "/v1/projects/p/units/u/file"));
        assert!(allowed(&post, "/v1/projects/p/jobs"));
        assert!(allowed(&post, "/v1/projects/p/enablement"));
        assert!(allowed(&post, "/v1/projects/p/reload"));
        assert!(allowed(&post, "/events/3/watch"));
        assert!(!allowed(&get, "/v1/projects/p/reload"));
        assert!(!allowed(&get, "/events/3/watch"));
        assert!(!allowed(&post, "/v1/daemon/stop"));
        assert!(!allowed(&post, "/v1/daemon/reexec"));
        assert!(!allowed(&post, "/v1/dashboard"));
        assert!(!allowed(&post, "/v1/projects/p/load"));
        assert!(!allowed(&Method::DELETE, "/v1/projects/p"));
        assert!(!allowed(&Method::OPTIONS, "/v1/units"));
    }
}
