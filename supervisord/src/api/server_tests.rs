//! End-to-end tests of the API server over a real Unix socket with a fake
//! backend: every route, hostile input, limits and misbehaving clients.

use std::time::{Duration, Instant};

use devctl_units::api::{ErrorKind, Event, EventKind, LogRecord};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::routes::ROUTES;
use super::server::ServerLimits;
use super::testing::{TestServer, read_reply, record};

const OPENAPI: &str = include_str!("../../openapi.yaml");

fn fast_limits() -> ServerLimits {
    ServerLimits {
        header_read_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        write_stall_timeout: Duration::from_secs(1),
        shutdown_grace: Duration::from_millis(500),
        ..ServerLimits::default()
    }
}

fn concrete(path: &str) -> String {
    path.replace("{project}", "p")
        .replace("{unit}", "web")
        .replace("{run}", "0123456789")
}

fn body_for(path: &str) -> Option<&'static str> {
    if path.ends_with("/load") {
        Some(r#"{"manifest":"/m/devctl.kdl","root":"/m","units":{"web.service":"[Unit]\n"}}"#)
    } else if path.ends_with("/jobs") {
        Some(r#"{"verb":"start","units":["web"],"block":true,"timeout_ms":null}"#)
    } else if path.ends_with("/enablement") {
        Some(
            r#"{"units":["web"],"enable":true,"now":false,"boot":false,"block":false,"timeout_ms":null}"#,
        )
    } else if path.ends_with("/wait") {
        Some(r#"{"units":["web"],"for":"ready","timeout_ms":1000}"#)
    } else {
        None
    }
}

#[test]
fn every_route_is_documented_in_openapi() {
    for (method, path) in ROUTES {
        let at = OPENAPI
            .find(&format!("\n  {path}:\n"))
            .unwrap_or_else(|| panic!("{path} missing from openapi.yaml"));
        let section = &OPENAPI[at + 1..];
        let end = section[2..].find("\n  /").map_or(section.len(), |e| e + 2);
        assert!(
            section[..end].contains(&format!("\n    {}:", method.to_ascii_lowercase())),
            "{method} {path} missing from openapi.yaml"
        );
    }
}

#[test]
fn openapi_documents_nothing_but_the_routes() {
    let mut documented = Vec::new();
    let mut path = None;
    for line in OPENAPI.lines() {
        if let Some(p) = line.strip_prefix("  /").and_then(|p| p.strip_suffix(':')) {
            path = Some(format!("/{p}"));
        } else if !line.starts_with("  ") {
            path = None;
        } else if let (Some(p), Some(m)) = (
            &path,
            line.strip_prefix("    ").and_then(|m| m.strip_suffix(':')),
        ) && ["get", "post", "put", "delete", "patch"].contains(&m)
        {
            documented.push((m.to_ascii_uppercase(), p.clone()));
        }
    }
    let mut routes: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    documented.sort();
    routes.sort();
    assert_eq!(documented, routes);
}

/// The value of header `name` in an answer's head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A method a route does not have is `405 method-not-allowed` with an
/// `Allow` header naming the methods it has, on every route (HTTP's rule,
/// which the published contract is checked against).
#[tokio::test]
async fn undeclared_methods_are_405_with_an_allow_header() {
    let srv = TestServer::start(fast_limits()).await;
    for (method, path) in ROUTES {
        for other in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if other == *method {
                continue;
            }
            let r = srv.request(other, &concrete(path), None).await;
            assert_eq!(
                (r.status, r.error_kind()),
                (405, ErrorKind::MethodNotAllowed),
                "{other} {path}: {r:?}"
            );
            let allow = header(&r.head, "allow").unwrap_or_else(|| panic!("no Allow: {r:?}"));
            assert!(
                allow.split(',').any(|m| m.trim() == *method),
                "{other} {path}: Allow {allow:?} lacks {method}"
            );
        }
    }
    assert!(srv.fake.calls().is_empty(), "{:?}", srv.fake.calls());
    srv.shutdown().await;
}

/// Stopping and re-executing take no input: their body is empty or a JSON
/// object (as the contract says); anything else is refused before acting.
#[tokio::test]
async fn daemon_stop_and_reexec_refuse_a_body_that_is_not_an_object() {
    let srv = TestServer::start(fast_limits()).await;
    for path in ["/v1/daemon/stop", "/v1/daemon/reexec"] {
        for body in ["[null, null]", "3", "\"stop\"", "null", "{", "{} {}"] {
            let r = srv.request("POST", path, Some(body)).await;
            assert_eq!(
                (r.status, r.error_kind()),
                (400, ErrorKind::BadRequest),
                "{path} {body}: {r:?}"
            );
        }
    }
    assert!(srv.fake.calls().is_empty(), "{:?}", srv.fake.calls());
    for body in ["{}", "{\"ignored\": [1, 2]}", " "] {
        for path in ["/v1/daemon/stop", "/v1/daemon/reexec"] {
            let r = srv.request("POST", path, Some(body)).await;
            assert_eq!(r.status, 200, "{path} {body:?}: {r:?}");
        }
    }
    assert_eq!(srv.fake.calls().len(), 6, "{:?}", srv.fake.calls());
    srv.shutdown().await;
}

#[tokio::test]
async fn every_route_reaches_the_backend() {
    let srv = TestServer::start(fast_limits()).await;
    for (method, path) in ROUTES {
        if *path == "/v1/events" || (*path == "/v1/logs") {
            continue; // streams: tested below
        }
        let r = srv.request(method, &concrete(path), body_for(path)).await;
        let expected = if path.ends_with("{unit}") || path.ends_with("{run}") {
            404
        } else {
            200
        };
        assert_eq!(r.status, expected, "{method} {path}: {r:?}");
    }
    let calls = srv.fake.calls();
    for want in [
        "projects",
        "load p 1",
        "forget p",
        "job p Start [\"web\"]",
        "enable p true",
        "wait p Ready",
    ] {
        assert!(calls.iter().any(|c| c == want), "{want} not in {calls:?}");
    }
    assert!(
        calls.iter().any(|c| c == "units None")
            && calls.iter().any(|c| c == "file p web")
            && calls.contains(&"stop".into())
            && calls.contains(&"reexec".into())
            && calls.contains(&"run 0123456789".into())
            && calls.iter().any(|c| c.starts_with("runs "))
            && calls.contains(&"dashboard".into())
    );
    let v = srv.request("GET", "/v1/version", None).await;
    assert!(v.head.contains("application/json") && v.body.contains("\"hosting\":\"standalone\""));
    let f = srv
        .request("GET", "/v1/projects/p/units/web/file", None)
        .await;
    assert!(f.head.contains("text/plain") && f.body.starts_with("[Unit]"));
    assert_eq!(
        srv.request("GET", "/v1/units?project=p", None).await.status,
        200
    );
    assert_eq!(
        srv.request("DELETE", "/v1/projects/missing", None)
            .await
            .error_kind(),
        ErrorKind::NotFound
    );
    srv.shutdown().await;
}

/// T27: hostile names sent straight to the socket are refused with 400.
#[tokio::test]
async fn hostile_names_over_the_socket_are_bad_requests() {
    let srv = TestServer::start(fast_limits()).await;
    let long = "a".repeat(300);
    let hostile = [
        "..",
        ".",
        "-rf",
        "x%3Brm%20-rf%20~",
        "%24(id)",
        "%60id%60",
        "a%20b",
        "a%0Ab",
        "foo.service",
        "%25n",
        &long,
        "a%2Fb",
        "%FF",
    ];
    for name in hostile {
        for path in [
            format!("/v1/projects/{name}"),
            format!("/v1/projects/{name}/units/web"),
            format!("/v1/projects/p/units/{name}"),
            format!("/v1/projects/p/units/{name}/file"),
        ] {
            let method = if path.contains("/units/") {
                "GET"
            } else {
                "DELETE"
            };
            let r = srv.request(method, &path, None).await;
            // `..` and `.` are normalised away by nothing: they reach the router as segments.
            assert!(matches!(r.status, 400 | 404), "{path}: {r:?}");
            assert!(
                matches!(r.error_kind(), ErrorKind::BadRequest | ErrorKind::NotFound),
                "{path}"
            );
            if r.status == 404 {
                assert!(
                    r.body.contains("no route"),
                    "a 404 must come from routing, not the backend: {path}"
                );
            }
        }
        let r = srv
            .request(
                "POST",
                &format!("/v1/projects/{name}/jobs"),
                body_for("/jobs"),
            )
            .await;
        assert_eq!(r.status, 400, "jobs on {name}: {r:?}");
        let r = srv
            .request("GET", &format!("/v1/logs?project=p&unit={name}"), None)
            .await;
        assert_eq!(r.status, 400, "logs unit {name}: {r:?}");
        let r = srv
            .request("GET", &format!("/v1/events?project={name}"), None)
            .await;
        assert_eq!(r.status, 400, "events project {name}: {r:?}");
    }
    assert!(
        srv.fake
            .calls()
            .iter()
            .all(|c| !c.contains("..") && !c.contains("rf")),
        "{:?}",
        srv.fake.calls()
    );
    srv.shutdown().await;
}

/// T32: malformed and oversized requests get clean errors; the daemon keeps serving.
#[tokio::test]
async fn malformed_and_oversized_requests() {
    let srv = TestServer::start(fast_limits()).await;
    let start = Instant::now();
    let huge =
        "POST /v1/projects/p/jobs HTTP/1.1\r\nhost: x\r\ncontent-length: 4294967296\r\n\r\n{";
    let r = srv.raw(huge.as_bytes(), Duration::from_secs(5)).await;
    assert_eq!((r.status, r.error_kind()), (413, ErrorKind::TooLarge));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "413 comes at once, without waiting for the body"
    );

    let deep = "[".repeat(5000);
    for bad in [
        "{\"verb\":",
        "not json",
        "{\"verb\":\"explode\",\"units\":[],\"block\":true}",
        deep.as_str(),
    ] {
        let r = srv.request("POST", "/v1/projects/p/jobs", Some(bad)).await;
        assert_eq!(
            (r.status, r.error_kind()),
            (400, ErrorKind::BadRequest),
            "{bad:.30}"
        );
    }
    let mut s = UnixStream::connect(&srv.socket).await.unwrap();
    s.write_all(
        b"POST /v1/projects/p/jobs HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"verb\"",
    )
    .await
    .unwrap();
    s.shutdown().await.unwrap();
    let r = read_reply(&mut s, Duration::from_secs(5)).await;
    assert_eq!(
        (r.status, r.error_kind()),
        (400, ErrorKind::BadRequest),
        "truncated body: {r:?}"
    );

    let mut s = UnixStream::connect(&srv.socket).await.unwrap();
    s.write_all(
        b"POST /v1/projects/p/jobs HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"verb\"",
    )
    .await
    .unwrap();
    let r = read_reply(&mut s, Duration::from_secs(5)).await;
    assert_eq!(
        (r.status, r.error_kind()),
        (408, ErrorKind::Timeout),
        "stalled body: {r:?}"
    );

    let r = srv
        .raw(b"\x00\xff garbage \r\n\r\n", Duration::from_secs(5))
        .await;
    assert!(
        r.status == 400 || r.status == 0,
        "garbage is answered 400 or the connection closed: {r:?}"
    );
    let r = srv
        .raw(
            format!("GET /{} HTTP/1.1\r\n\r\n", "x".repeat(100_000)).as_bytes(),
            Duration::from_secs(5),
        )
        .await;
    assert!(
        r.status == 431 || r.status == 414 || r.status == 400 || r.status == 0,
        "oversized head: {r:?}"
    );

    let r = srv.request("GET", "/v2/nothing", None).await;
    assert_eq!((r.status, r.error_kind()), (404, ErrorKind::NotFound));
    let r = srv.request("PUT", "/v1/version", None).await;
    assert_eq!(
        (r.status, r.error_kind()),
        (405, ErrorKind::MethodNotAllowed)
    );
    for q in [
        "/v1/logs",
        "/v1/logs?project=p&n=lots",
        "/v1/logs?project=p&follow=maybe",
        "/v1/logs?project=p&n=1&n=2",
        "/v1/units?colour=red",
    ] {
        let r = srv.request("GET", q, None).await;
        assert_eq!(
            (r.status, r.error_kind()),
            (400, ErrorKind::BadRequest),
            "{q}"
        );
    }
    assert_eq!(
        srv.request("GET", "/v1/version", None).await.status,
        200,
        "still serving"
    );
    srv.shutdown().await;
}

/// T30: a peer with another uid is refused before anything is read.
#[tokio::test]
async fn foreign_peer_is_refused_unread() {
    let limits = ServerLimits {
        allowed_uid: ServerLimits::default().allowed_uid.wrapping_add(1),
        ..fast_limits()
    };
    let srv = TestServer::start(limits).await;
    let mut s = UnixStream::connect(&srv.socket).await.unwrap();
    let r = read_reply(&mut s, Duration::from_secs(5)).await;
    assert_eq!((r.status, r.error_kind()), (403, ErrorKind::Forbidden));
    assert!(srv.fake.calls().is_empty());
    srv.shutdown().await;
}

/// T31 (light): idle and slowloris clients are cut off; the connection
/// limit answers "busy"; a status request still gets through.
#[tokio::test]
async fn idle_slowloris_and_busy() {
    let srv = TestServer::start(ServerLimits {
        max_connections: 8,
        ..fast_limits()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(UnixStream::connect(&srv.socket).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = UnixStream::connect(&srv.socket).await.unwrap();
    let r = read_reply(&mut extra, Duration::from_secs(5)).await;
    assert_eq!((r.status, r.error_kind()), (503, ErrorKind::Busy));
    assert!(r.body.contains("busy"));
    let mut slow = UnixStream::connect(&srv.socket).await.unwrap();
    // The idle ones are closed by the header timeout; then a request passes.
    let start = Instant::now();
    for s in &mut idle {
        let mut b = [0u8; 1];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b))
            .await
            .expect("idle connection closed");
        assert_eq!(n.unwrap_or(0), 0);
    }
    assert!(start.elapsed() < Duration::from_secs(3));
    let drip = tokio::spawn(async move {
        for b in b"GET /v1/version HTTP/1.1\r\nhost: x\r\n\r\n" {
            if slow.write_all(&[*b]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    });
    let started = Instant::now();
    let r = srv.request("GET", "/v1/version", None).await;
    assert_eq!(r.status, 200);
    assert!(started.elapsed() < Duration::from_millis(500));
    assert!(drip.await.unwrap(), "the slowloris client was disconnected");
    srv.shutdown().await;
}

#[tokio::test]
async fn event_stream_delivers_filtered_ndjson() {
    let srv = TestServer::start(fast_limits()).await;
    let mut s = UnixStream::connect(&srv.socket).await.unwrap();
    s.write_all(b"GET /v1/events?project=p HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut lines = BufReader::new(s).lines();
    let head = lines.next_line().await.unwrap().unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // Wait until the subscription exists, then publish.
    let t0 = Instant::now();
    while srv.fake.events.receiver_count() == 0 {
        assert!(t0.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for (seq, project) in [(1, "other"), (2, "p")] {
        let e = Event {
            seq,
            time_ms: 0,
            project: Some(project.parse().unwrap()),
            unit: None,
            run: None,
            kind: EventKind::ProjectForgotten,
        };
        srv.fake.events.send(e).unwrap();
    }
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let l = lines.next_line().await.unwrap().unwrap();
            if let Some(json) = l.find('{').map(|i| &l[i..]) {
                return serde_json::from_str::<Event>(json).unwrap();
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(got.seq, 2);
    srv.shutdown().await;
}

#[tokio::test]
async fn log_stream_history_then_follow() {
    let srv = TestServer::start(fast_limits()).await;
    let r = srv
        .request("GET", "/v1/logs?project=p&unit=web&n=1&since=5", None)
        .await;
    assert!(r.head.contains("application/x-ndjson"));
    let rec: LogRecord = serde_json::from_str(r.body.lines().next().unwrap()).unwrap();
    assert_eq!(rec.text, "old");
    assert!(
        srv.fake
            .calls()
            .contains(&"logs p [UnitName(\"web\")] Some(1) Some(5) false".to_string()),
        "{:?}",
        srv.fake.calls()
    );

    let mut s = UnixStream::connect(&srv.socket).await.unwrap();
    s.write_all(b"GET /v1/logs?project=p&follow=true HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut lines = BufReader::new(s).lines();
    let t0 = Instant::now();
    while srv.fake.log_lines.receiver_count() == 0 {
        assert!(t0.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    srv.fake.log_lines.send(record("fresh")).unwrap();
    let texts = tokio::time::timeout(Duration::from_secs(10), async {
        let mut texts = Vec::new();
        while texts.len() < 2 {
            let l = lines.next_line().await.unwrap().unwrap();
            if let Some(r) = l
                .find('{')
                .and_then(|i| serde_json::from_str::<LogRecord>(&l[i..]).ok())
            {
                texts.push(r.text);
            }
        }
        texts
    })
    .await
    .unwrap();
    assert_eq!(texts, ["old", "fresh"]);
    srv.shutdown().await;
}

/// A stream reader that stops reading is dropped, freeing its slot.
#[tokio::test]
async fn a_stream_client_that_stops_reading_is_dropped() {
    let srv = TestServer::start(ServerLimits {
        max_connections: 1,
        ..fast_limits()
    })
    .await;
    let mut s = UnixStream::connect(&srv.socket).await.unwrap();
    s.write_all(b"GET /v1/logs?project=p&n=200000 HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    // Never read. The write stalls, the guard fires, the slot frees up.
    let t0 = Instant::now();
    loop {
        let r = srv.request("GET", "/v1/version", None).await;
        if r.status == 200 {
            break;
        }
        assert_eq!(
            r.error_kind(),
            ErrorKind::Busy,
            "busy while the stalled stream holds the slot"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the stalled reader was never dropped"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(s);
    srv.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_open_streams() {
    let srv = TestServer::start(fast_limits()).await;
    let mut s = UnixStream::connect(&srv.socket).await.unwrap();
    s.write_all(b"GET /v1/events HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let t0 = Instant::now();
    while srv.fake.events.receiver_count() == 0 {
        assert!(t0.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::timeout(Duration::from_secs(5), srv.shutdown())
        .await
        .expect("serve returns promptly");
    let r = read_reply(&mut s, Duration::from_secs(5)).await;
    assert_eq!(r.status, 200, "the stream ended cleanly: {r:?}");
}

/// `failed_only` answers with the failed units' outcomes only; a request
/// without it (older clients) gets every outcome.
#[tokio::test]
async fn a_job_can_ask_for_failed_outcomes_only() {
    let srv = TestServer::start(fast_limits()).await;
    let units = |body: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["outcomes"]
            .as_array()
            .unwrap_or_else(|| panic!("no outcomes: {body}"))
            .iter()
            .map(|o| o["unit"].as_str().unwrap().to_owned())
            .collect()
    };
    for (body, want) in [
        (
            r#"{"verb":"start","units":["web","bad-db"],"block":true,"timeout_ms":null}"#,
            vec!["web", "bad-db"],
        ),
        (
            r#"{"verb":"start","units":["web","bad-db"],"block":true,"timeout_ms":null,"failed_only":false}"#,
            vec!["web", "bad-db"],
        ),
        (
            r#"{"verb":"start","units":["web","bad-db"],"block":true,"timeout_ms":null,"failed_only":true}"#,
            vec!["bad-db"],
        ),
        (
            r#"{"verb":"start","units":["web"],"block":true,"timeout_ms":null,"failed_only":true}"#,
            vec![],
        ),
    ] {
        let r = srv.request("POST", "/v1/projects/p/jobs", Some(body)).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(units(&r.body), want, "{body}");
    }
    let r = srv
        .request(
            "POST",
            "/v1/projects/p/jobs",
            Some(r#"{"verb":"start","units":["web"],"block":true,"timeout_ms":null,"failed_only":"yes"}"#),
        )
        .await;
    assert_eq!(r.status, 400, "a non-boolean is refused: {r:?}");
}

/// A client naming another API version is refused before any handler
/// runs, and learns the daemon's version and pid from the answer's
/// headers; the daemon's own version, or no header, is served.
#[tokio::test]
async fn a_request_naming_another_api_version_is_refused_with_the_daemons() {
    use devctl_units::api::{API_VERSION, API_VERSION_HEADER, DAEMON_PID_HEADER};
    let srv = TestServer::start(fast_limits()).await;
    let ask = |version: &str| {
        format!(
            "GET /v1/units HTTP/1.1\r\nhost: localhost\r\n{API_VERSION_HEADER}: {version}\r\nconnection: close\r\n\r\n"
        )
    };
    let r = srv
        .raw(ask("999").as_bytes(), Duration::from_secs(10))
        .await;
    assert_eq!(
        (r.status, r.error_kind()),
        (400, ErrorKind::BadRequest),
        "{r:?}"
    );
    assert_eq!(
        header(&r.head, API_VERSION_HEADER),
        Some(&*API_VERSION.to_string())
    );
    assert_eq!(
        header(&r.head, DAEMON_PID_HEADER),
        Some(&*std::process::id().to_string())
    );
    let r = srv
        .raw(ask("not-a-number").as_bytes(), Duration::from_secs(10))
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(srv.fake.calls().is_empty(), "{:?}", srv.fake.calls());

    let r = srv
        .raw(
            ask(&API_VERSION.to_string()).as_bytes(),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = srv.request("GET", "/v1/units", None).await;
    assert_eq!(r.status, 200, "{r:?}");
    srv.shutdown().await;
}
