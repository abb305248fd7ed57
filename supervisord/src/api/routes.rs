//! The router: one handler per route of `devctl_units::api`, each a thin
//! translation between HTTP and a [`CoreApi`] or [`DaemonControl`] call. [`ROUTES`] lists every
//! route; a test checks it against the router and `openapi.yaml`.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use devctl_units::api::runs::RunQuery;
use devctl_units::api::{EnableRequest, ErrorKind, JobRequest, LoadRequest, WaitRequest};
use serde::Serialize;
use tokio::sync::watch;

use super::control::DaemonControl;
use super::error::{ApiReply, api_error};
use super::extract::{
    QueryPairs, grep_pattern, log_stream, project_name, read_empty_object, read_json, rejected,
    run_id, unit_name,
};
use super::stream::{self, EventFilter};
use crate::core::handle::{CoreApi, LogQuery};

/// Every route: method and path template, as in `openapi.yaml`.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/version"),
    ("GET", "/v1/projects"),
    ("POST", "/v1/projects/{project}/load"),
    ("DELETE", "/v1/projects/{project}"),
    ("POST", "/v1/projects/{project}/jobs"),
    ("POST", "/v1/projects/{project}/enablement"),
    ("POST", "/v1/projects/{project}/wait"),
    ("GET", "/v1/units"),
    ("GET", "/v1/projects/{project}/units/{unit}"),
    ("GET", "/v1/projects/{project}/units/{unit}/file"),
    ("GET", "/v1/events"),
    ("GET", "/v1/logs"),
    ("GET", "/v1/runs"),
    ("GET", "/v1/runs/{run}"),
    ("POST", "/v1/daemon/stop"),
    ("POST", "/v1/daemon/reexec"),
    ("POST", "/v1/dashboard"),
];

/// What every handler sees.
#[derive(Clone)]
pub struct AppState<C, D> {
    pub core: C,
    pub daemon: D,
    /// Deadline for reading a request body.
    pub body_timeout: Duration,
    /// Becomes `true` when the server shuts down; ends open streams.
    pub shutdown: watch::Receiver<bool>,
}

type St<C, D> = State<AppState<C, D>>;
type OnePath = Result<Path<String>, PathRejection>;
type TwoPath = Result<Path<(String, String)>, PathRejection>;
type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The API router over the core's operations and the daemon's control.
pub fn router<C: CoreApi, D: DaemonControl>(
    core: C,
    daemon: D,
    body_timeout: Duration,
    shutdown: watch::Receiver<bool>,
) -> Router {
    Router::new()
        .route("/v1/version", get(version::<C, D>))
        .route("/v1/projects", get(projects::<C, D>))
        .route("/v1/projects/{project}/load", post(load::<C, D>))
        .route("/v1/projects/{project}", delete(forget::<C, D>))
        .route("/v1/projects/{project}/jobs", post(job::<C, D>))
        .route(
            "/v1/projects/{project}/enablement",
            post(enablement::<C, D>),
        )
        .route("/v1/projects/{project}/wait", post(wait::<C, D>))
        .route("/v1/units", get(units::<C, D>))
        .route("/v1/projects/{project}/units/{unit}", get(unit::<C, D>))
        .route(
            "/v1/projects/{project}/units/{unit}/file",
            get(unit_file::<C, D>),
        )
        .route("/v1/events", get(events::<C, D>))
        .route("/v1/logs", get(logs::<C, D>))
        .route("/v1/runs", get(runs::<C, D>))
        .route("/v1/runs/{run}", get(run::<C, D>))
        .route("/v1/daemon/stop", post(stop::<C, D>))
        .route("/v1/daemon/reexec", post(reexec::<C, D>))
        .route("/v1/dashboard", post(dashboard::<C, D>))
        .fallback(no_route)
        .method_not_allowed_fallback(bad_method)
        .with_state(AppState {
            core,
            daemon,
            body_timeout,
            shutdown,
        })
        .layer(axum::middleware::from_fn(
            super::version::check_client_version,
        ))
}

fn json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut r = body.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "could not serialize an API answer");
            super::error::reply_error(api_error(
                ErrorKind::Internal,
                format!("could not encode the answer: {e}"),
                None,
            ))
        }
    }
}

fn one(p: OnePath) -> Result<devctl_units::name::ProjectName, devctl_units::api::ApiError> {
    let Path(project) = p.map_err(|e| rejected("path", e))?;
    project_name(&project)
}

fn two(
    p: TwoPath,
) -> Result<
    (
        devctl_units::name::ProjectName,
        devctl_units::name::UnitName,
    ),
    devctl_units::api::ApiError,
> {
    let Path((project, unit)) = p.map_err(|e| rejected("path", e))?;
    Ok((project_name(&project)?, unit_name(&unit)?))
}

fn pairs(q: Pairs) -> Result<QueryPairs, devctl_units::api::ApiError> {
    let Query(v) = q.map_err(|e| rejected("query string", e))?;
    Ok(QueryPairs(v))
}

async fn version<C: CoreApi, D: DaemonControl>(State(st): St<C, D>) -> Response {
    json(&st.daemon.daemon_info())
}

async fn projects<C: CoreApi, D: DaemonControl>(State(st): St<C, D>) -> Response {
    json(&st.core.projects().await)
}

async fn load<C: CoreApi, D: DaemonControl>(
    State(st): St<C, D>,
    p: OnePath,
    headers: HeaderMap,
    body: Body,
) -> ApiReply {
    ApiReply(
        async {
            let project = one(p)?;
            let req: LoadRequest = read_json(&headers, body, st.body_timeout).await?;
            Ok(json(&st.core.load_project(project, req).await?))
        }
        .await,
    )
}

async fn forget<C: CoreApi, D: DaemonControl>(State(st): St<C, D>, p: OnePath) -> ApiReply {
    ApiReply(async { Ok(json(&st.core.forget_project(one(p)?).await?)) }.await)
}

async fn job<C: CoreApi, D: DaemonControl>(
    State(st): St<C, D>,
    p: OnePath,
    headers: HeaderMap,
    body: Body,
) -> ApiReply {
    ApiReply(
        async {
            let project = one(p)?;
            let req: JobRequest = read_json(&headers, body, st.body_timeout).await?;
            let failed_only = req.failed_only;
            let mut r = st.core.job(project, req).await?;
            if failed_only {
                r.outcomes.retain(|o| !o.ok);
            }
            Ok(json(&r))
        }
        .await,
    )
}

async fn enablement<C: CoreApi, D: DaemonControl>(
    State(st): St<C, D>,
    p: OnePath,
    headers: HeaderMap,
    body: Body,
) -> ApiReply {
    ApiReply(
        async {
            let project = one(p)?;
            let req: EnableRequest = read_json(&headers, body, st.body_timeout).await?;
            Ok(json(&st.core.enablement(project, req).await?))
        }
        .await,
    )
}

async fn wait<C: CoreApi, D: DaemonControl>(
    State(st): St<C, D>,
    p: OnePath,
    headers: HeaderMap,
    body: Body,
) -> ApiReply {
    ApiReply(
        async {
            let project = one(p)?;
            let req: WaitRequest = read_json(&headers, body, st.body_timeout).await?;
            Ok(json(&st.core.wait(project, req).await?))
        }
        .await,
    )
}

async fn units<C: CoreApi, D: DaemonControl>(State(st): St<C, D>, q: Pairs) -> ApiReply {
    ApiReply(
        async {
            let q = pairs(q)?;
            q.only(&["project"])?;
            let project = q.one("project")?.map(project_name).transpose()?;
            Ok(json(&st.core.units(project).await?))
        }
        .await,
    )
}

async fn unit<C: CoreApi, D: DaemonControl>(State(st): St<C, D>, p: TwoPath) -> ApiReply {
    ApiReply(
        async {
            let (project, unit) = two(p)?;
            Ok(json(&st.core.unit(project, unit).await?))
        }
        .await,
    )
}

async fn unit_file<C: CoreApi, D: DaemonControl>(State(st): St<C, D>, p: TwoPath) -> ApiReply {
    ApiReply(
        async {
            let (project, unit) = two(p)?;
            let text = st.core.unit_file(project, unit).await?;
            let mut r = text.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            Ok(r)
        }
        .await,
    )
}

async fn events<C: CoreApi, D: DaemonControl>(State(st): St<C, D>, q: Pairs) -> ApiReply {
    ApiReply((|| {
        let q = pairs(q)?;
        q.only(&["project", "unit"])?;
        let filter = EventFilter {
            project: q.one("project")?.map(project_name).transpose()?,
            unit: q.one("unit")?.map(unit_name).transpose()?,
        };
        let rx = st.core.subscribe_events();
        Ok(stream::ndjson(stream::events(
            rx,
            filter,
            st.shutdown.clone(),
        )))
    })())
}

async fn logs<C: CoreApi, D: DaemonControl>(State(st): St<C, D>, q: Pairs) -> ApiReply {
    ApiReply(
        async {
            let q = pairs(q)?;
            q.only(&[
                "project", "unit", "n", "since", "follow", "run", "grep", "stream",
            ])?;
            let project = q
                .one("project")?
                .ok_or_else(|| {
                    api_error(
                        ErrorKind::BadRequest,
                        "the query parameter project is required",
                        None,
                    )
                })
                .and_then(project_name)?;
            let query = LogQuery {
                project,
                units: q.all("unit").map(unit_name).collect::<Result<_, _>>()?,
                n: q.parse("n", "a line count")?,
                since_ms: q.parse("since", "a Unix time in milliseconds")?,
                follow: q.flag("follow")?,
                run: q.one("run")?.map(run_id).transpose()?,
                grep: q.one("grep")?.map(grep_pattern).transpose()?,
                stream: q.one("stream")?.map(log_stream).transpose()?,
            };
            let feed = st.core.logs(query).await?;
            Ok(stream::ndjson(stream::logs(feed, st.shutdown.clone())))
        }
        .await,
    )
}

async fn runs<C: CoreApi, D: DaemonControl>(State(st): St<C, D>, q: Pairs) -> ApiReply {
    ApiReply(
        async {
            let q = pairs(q)?;
            q.only(&["project", "unit", "since", "failed", "limit", "before"])?;
            let query = RunQuery {
                project: q.one("project")?.map(project_name).transpose()?,
                units: q.all("unit").map(unit_name).collect::<Result<_, _>>()?,
                since_ms: q.parse("since", "a Unix time in milliseconds")?,
                failed: q.flag("failed")?,
                limit: q.parse("limit", "a count")?,
                before: q.one("before")?.map(run_id).transpose()?,
            };
            Ok(json(&st.core.runs(query).await?))
        }
        .await,
    )
}

async fn run<C: CoreApi, D: DaemonControl>(State(st): St<C, D>, p: OnePath) -> ApiReply {
    ApiReply(
        async {
            let Path(id) = p.map_err(|e| rejected("path", e))?;
            Ok(json(&st.core.run(run_id(&id)?).await?))
        }
        .await,
    )
}

async fn stop<C: CoreApi, D: DaemonControl>(
    State(st): St<C, D>,
    headers: HeaderMap,
    body: Body,
) -> ApiReply {
    ApiReply(
        async {
            // The body carries nothing, but is still bounded, read and
            // checked against the contract before acting.
            read_empty_object(&headers, body, st.body_timeout).await?;
            st.daemon.stop_daemon().await;
            Ok(json(&serde_json::json!({})))
        }
        .await,
    )
}

async fn reexec<C: CoreApi, D: DaemonControl>(
    State(st): St<C, D>,
    headers: HeaderMap,
    body: Body,
) -> ApiReply {
    ApiReply(
        async {
            read_empty_object(&headers, body, st.body_timeout).await?;
            st.daemon.reexec_daemon().await?;
            Ok(json(&serde_json::json!({})))
        }
        .await,
    )
}

async fn dashboard<C: CoreApi, D: DaemonControl>(
    State(st): St<C, D>,
    headers: HeaderMap,
    body: Body,
) -> ApiReply {
    ApiReply(
        async {
            read_empty_object(&headers, body, st.body_timeout).await?;
            Ok(json(&st.daemon.dashboard().await?))
        }
        .await,
    )
}

async fn no_route(method: Method, uri: Uri) -> ApiReply {
    ApiReply(Err(api_error(
        ErrorKind::NotFound,
        format!("no route {method} {}", super::extract::quote(uri.path())),
        Some("routes are listed in supervisord/openapi.yaml"),
    )))
}

/// A method the path does not have: 405 (axum adds the `Allow` header
/// listing the methods it has).
async fn bad_method(method: Method, uri: Uri) -> ApiReply {
    ApiReply(Err(api_error(
        ErrorKind::MethodNotAllowed,
        format!(
            "method {method} is not allowed on {}",
            super::extract::quote(uri.path())
        ),
        Some(
            "the Allow header lists the methods this path has; routes are listed in supervisord/openapi.yaml",
        ),
    )))
}
