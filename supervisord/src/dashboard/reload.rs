//! The dashboard's reload: `POST /v1/projects/{project}/reload` reads the
//! project's devctl.kdl again (the path it was loaded from) and loads it,
//! as `devctl reload` does in the project's directory: the same compile
//! ([`devctl_compiler::loadable`]), the same load (the core's
//! `load_project`, all or nothing), and on failure the text the CLI prints
//! (`printed`) beside the usual error object. A manifest that does not
//! compile changes nothing.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use devctl_compiler::ManifestError;
use devctl_units::ProjectName;
use devctl_units::api::{ApiError, ErrorKind, LoadResponse};
use miette::Diagnostic;
use serde::Serialize;

use super::pages::PageState;
use crate::core::handle::CoreApi;

/// Why a reload changed nothing.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ReloadError {
    #[error("{name:?} is not a valid project name: {reason}")]
    #[diagnostic(
        code(devctld::dashboard::reload::name),
        help("names match [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 characters")
    )]
    BadName {
        name: String,
        reason: devctl_units::NameError,
    },
    #[error("no project {project}")]
    #[diagnostic(
        code(devctld::dashboard::reload::unknown),
        help("`devctl up` in the project's directory loads it")
    )]
    UnknownProject { project: ProjectName },
    /// The manifest did not compile: worded by the compiler, as `devctl`
    /// prints it.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Manifest(ManifestError),
    /// The core refused the units (it changed nothing either).
    #[error("{}", .0.message)]
    Load(ApiError),
    #[error("the compiler stopped unexpectedly: {0}")]
    #[diagnostic(
        code(devctld::dashboard::reload::crashed),
        help("this is a devctl bug; `devctl reload` in the project's directory does the same")
    )]
    Crashed(String),
}

impl ReloadError {
    fn kind(&self) -> ErrorKind {
        match self {
            ReloadError::BadName { .. } => ErrorKind::BadRequest,
            ReloadError::UnknownProject { .. } => ErrorKind::NotFound,
            ReloadError::Manifest(_) => ErrorKind::InvalidUnits,
            ReloadError::Load(e) => e.kind,
            ReloadError::Crashed(_) => ErrorKind::Internal,
        }
    }

    /// What `devctl` prints on stderr for this failure.
    pub fn printed(&self) -> String {
        match self {
            ReloadError::Manifest(e) => e.printed(),
            other => {
                let help = match other {
                    ReloadError::Load(e) => e.help.clone(),
                    _ => other.help().map(|h| h.to_string()),
                };
                match help {
                    Some(h) => format!("error: {other}\nhelp: {h}"),
                    None => format!("error: {other}"),
                }
            }
        }
    }

    fn api_error(&self) -> ApiError {
        ApiError {
            kind: self.kind(),
            message: self.to_string(),
            help: match self {
                ReloadError::Load(e) => e.help.clone(),
                other => other.help().map(|h| h.to_string()),
            },
        }
    }
}

/// A reload that changed nothing: the error object, and the text `devctl
/// reload` prints for it.
#[derive(Serialize)]
struct Refused {
    error: ApiError,
    printed: String,
}

impl IntoResponse for ReloadError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.kind().http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = Refused {
            error: self.api_error(),
            printed: self.printed(),
        };
        json(status, &body)
    }
}

/// What a reload changed, under the project the manifest declares.
#[derive(Debug, Serialize)]
struct Reloaded {
    project: ProjectName,
    load: LoadResponse,
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// `POST /v1/projects/{project}/reload`.
pub async fn reload<C: CoreApi>(
    State(st): State<PageState<C>>,
    Path(project): Path<String>,
) -> Response {
    match reload_project(&st.core, &project).await {
        Ok(r) => json(StatusCode::OK, &r),
        Err(e) => {
            tracing::info!(project, error = %e, "dashboard reload refused");
            e.into_response()
        }
    }
}

async fn reload_project<C: CoreApi>(core: &C, name: &str) -> Result<Reloaded, ReloadError> {
    let project = ProjectName::new(name).map_err(|reason| ReloadError::BadName {
        name: name.to_owned(),
        reason,
    })?;
    let manifest = core
        .projects()
        .await
        .into_iter()
        .find(|p| p.name == project)
        .map(|p| p.manifest)
        .ok_or(ReloadError::UnknownProject { project })?;
    // Compiling reads files and may take up to the compiler's deadline.
    let loadable = tokio::task::spawn_blocking(move || devctl_compiler::loadable(&manifest))
        .await
        .map_err(|e| ReloadError::Crashed(e.to_string()))?
        .map_err(ReloadError::Manifest)?;
    // The project the manifest declares now, as `devctl reload` loads it.
    let project = loadable.project;
    let load = core
        .load_project(project.clone(), loadable.request)
        .await
        .map_err(ReloadError::Load)?;
    Ok(Reloaded { project, load })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::testing::Fake;
    use devctl_units::api::ProjectInfo;

    fn fake_with(project: &str, manifest: &std::path::Path) -> Fake {
        let fake = Fake::new();
        fake.projects.lock().unwrap().push(ProjectInfo {
            name: ProjectName::new(project).unwrap(),
            manifest: manifest.to_path_buf(),
            root: manifest.parent().unwrap().to_path_buf(),
            boot: false,
            units: 1,
            active: 0,
            failed: 0,
        });
        fake
    }

    fn loads(fake: &Fake) -> Vec<String> {
        fake.calls()
            .into_iter()
            .filter(|c| c.starts_with("load"))
            .collect()
    }

    #[tokio::test]
    async fn a_valid_manifest_is_loaded_under_the_project_it_declares() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("devctl.kdl");
        std::fs::write(
            &path,
            "project \"pz\"\nservice \"web\" {\n    run \"true\"\n}\n",
        )
        .unwrap();
        let fake = fake_with("pz", &path);
        let r = reload_project(&fake, "pz").await.unwrap();
        assert_eq!(r.project.as_str(), "pz");
        assert_eq!(loads(&fake), ["load pz 2"], "web and the project target");
    }

    #[tokio::test]
    async fn an_invalid_manifest_loads_nothing_and_is_printed_as_the_cli_prints_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("devctl.kdl");
        std::fs::write(
            &path,
            "project \"pz\"\nservice \"web\" {\n    rnu \"true\"\n}\n",
        )
        .unwrap();
        let fake = fake_with("pz", &path);
        let e = reload_project(&fake, "pz").await.unwrap_err();
        assert!(loads(&fake).is_empty(), "nothing loaded");
        assert_eq!(e.kind(), ErrorKind::InvalidUnits);
        let shared = devctl_compiler::loadable(&path).unwrap_err();
        assert_eq!(e.printed(), shared.printed());
        assert!(e.printed().contains("rnu"), "{}", e.printed());
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[tokio::test]
    async fn unknown_projects_bad_names_and_refused_loads_are_errors_with_help() {
        let fake = Fake::new();
        let e = reload_project(&fake, "nope").await.unwrap_err();
        assert!(matches!(e, ReloadError::UnknownProject { .. }), "{e:?}");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(
            e.printed().starts_with("error: no project nope\nhelp: "),
            "{}",
            e.printed()
        );

        let e = reload_project(&fake, "../x").await.unwrap_err();
        assert!(matches!(e, ReloadError::BadName { .. }), "{e:?}");
        assert_eq!(e.kind(), ErrorKind::BadRequest);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("devctl.kdl");
        std::fs::write(
            &path,
            "project \"refused\"\nservice \"web\" {\n    run \"true\"\n}\n",
        )
        .unwrap();
        let fake = fake_with("refused", &path);
        let e = reload_project(&fake, "refused").await.unwrap_err();
        assert!(matches!(e, ReloadError::Load(_)), "{e:?}");
        assert_eq!(e.kind(), ErrorKind::InvalidUnits);
        assert_eq!(
            e.printed(),
            "error: refused.service: the core refuses this project\nhelp: fix the unit file"
        );

        // A compiler that panicked is said, with what to do instead.
        let e = ReloadError::Crashed("task panicked".into());
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert!(e.printed().contains("`devctl reload`"), "{}", e.printed());
        assert_eq!(
            e.into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );

        // The manifest went away since it was loaded.
        std::fs::remove_file(&path).unwrap();
        let e = reload_project(&fake, "refused").await.unwrap_err();
        assert!(matches!(e, ReloadError::Manifest(_)), "{e:?}");
        assert!(
            e.printed().contains("No such file or directory"),
            "{}",
            e.printed()
        );
    }
}
