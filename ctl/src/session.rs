//! A daemon verb's session: which project it addresses (`-p`, else the
//! manifest's), the daemon client (started if needed), and loading the
//! manifest first — always for mutating verbs, only when the daemon does not
//! know the project for read-only ones. An invalid manifest stops a mutating
//! verb before anything is sent.
//!
//! Read-only verbs take a fast path: when the daemon already serves a
//! project loaded from this directory's manifest, or the project named by
//! `-p`, that project is addressed without compiling any manifest (a status
//! query stays cheap however large the manifest is). Like `systemctl`, they report what is loaded: an edit
//! not yet applied with `reload` (or a mutating verb) is not seen.

use devctl_units::ProjectName;
use devctl_units::api::{LoadResponse, ProjectInfo};
use devctl_units::paths::Paths;
use std::path::Path;

use crate::client::Client;
use crate::daemon;
use crate::error::CtlError;
use crate::manifest::{self, Manifest};
use crate::opts::Context;

/// Whether a verb changes what runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// up/down/start/stop/…: load the manifest first.
    Mutating,
    /// status/list/is-*/…: load only if the daemon does not know the project.
    ReadOnly,
}

/// A connected daemon verb.
pub struct Session {
    pub client: Client,
    pub project: ProjectName,
    pub loaded: Option<LoadResponse>,
}

/// The project and, when it is the local one, its compiled manifest (an
/// earlier run's, kept in `runtime`, when the bytes are the same).
fn local_target(
    ctx: &Context,
    runtime: &Path,
) -> Result<(ProjectName, Option<Manifest>), CtlError> {
    if let Some(p) = &ctx.project {
        let local = ctx
            .manifest_path()
            .ok()
            .and_then(|path| manifest::compile_kept(&path, runtime).ok());
        return Ok((p.clone(), local.filter(|m| &m.project == p)));
    }
    let m = manifest::compile_kept(&ctx.manifest_path()?, runtime)?;
    Ok((m.project.clone(), Some(m)))
}

/// The read-only fast path: the project the daemon loaded from this
/// manifest, found without compiling it; `None` when there is none.
async fn loaded_from_here(ctx: &Context, paths: &Paths) -> Result<Option<Session>, CtlError> {
    let Ok(path) = ctx.manifest_path() else {
        return Ok(None);
    };
    let path = std::path::absolute(&path).unwrap_or(path);
    let client = daemon::connect(paths, ctx.quiet).await?;
    let projects: Vec<ProjectInfo> = client.get("/v1/projects").await?;
    Ok(projects
        .into_iter()
        .find(|p| p.manifest == path)
        .map(|p| Session {
            client,
            project: p.name,
            loaded: None,
        }))
}

/// The read-only fast path for `-p PROJECT`: the daemon already knows the
/// project, so no manifest is compiled (a manifest in this directory could
/// only matter if it declared that project and the daemon did not know
/// it); `None` when the daemon does not know it. Without a manifest here
/// nothing could be loaded, so the daemon is not even asked.
async fn known_by_name(
    ctx: &Context,
    paths: &Paths,
    project: &ProjectName,
) -> Result<Option<Session>, CtlError> {
    let client = daemon::connect(paths, ctx.quiet).await?;
    let known = match ctx.manifest_path() {
        Err(_) => true,
        Ok(_) => {
            let projects: Vec<ProjectInfo> = client.get("/v1/projects").await?;
            projects.iter().any(|p| &p.name == project)
        }
    };
    Ok(known.then(|| Session {
        client,
        project: project.clone(),
        loaded: None,
    }))
}

/// Open a session for a verb.
pub async fn open(ctx: &Context, access: Access) -> Result<Session, CtlError> {
    one_heap();
    let paths = Paths::from_env()?;
    if access == Access::ReadOnly {
        let fast = match &ctx.project {
            None => loaded_from_here(ctx, &paths).await?,
            Some(p) => known_by_name(ctx, &paths, p).await?,
        };
        if let Some(s) = fast {
            return Ok(s);
        }
    }
    let target = local_target(ctx, &paths.runtime);
    // A read-only verb in a directory whose manifest is now invalid still
    // works if the daemon knows a project loaded from that manifest.
    let (project, manifest) = match target {
        Ok(t) => t,
        Err(CtlError::InvalidManifest(d)) if access == Access::ReadOnly => {
            let client = daemon::connect(&paths, ctx.quiet).await?;
            let path = ctx.manifest_path()?;
            let path = std::path::absolute(&path).unwrap_or(path);
            let projects: Vec<ProjectInfo> = client.get("/v1/projects").await?;
            match projects.into_iter().find(|p| p.manifest == path) {
                Some(p) => {
                    return Ok(Session {
                        client,
                        project: p.name,
                        loaded: None,
                    });
                }
                None => return Err(CtlError::InvalidManifest(d)),
            }
        }
        Err(e) => return Err(e),
    };
    let client = daemon::connect(&paths, ctx.quiet).await?;
    let must_load = match (access, &manifest) {
        (_, None) => false,
        (Access::Mutating, Some(_)) => true,
        (Access::ReadOnly, Some(_)) => {
            let projects: Vec<ProjectInfo> = client.get("/v1/projects").await?;
            !projects.iter().any(|p| p.name == project)
        }
    };
    let loaded = match (&manifest, must_load) {
        (Some(m), true) => Some(load(&client, m).await?),
        _ => None,
    };
    drop(manifest);
    release_freed_memory();
    Ok(Session {
        client,
        project,
        loaded,
    })
}

/// Keep every thread's allocations in the main heap. The manifest is
/// compiled on helper threads, which glibc would give heaps of their own,
/// and `malloc_trim` leaves the free top of those mapped. Called before
/// the first helper thread starts; the CLI's threads never contend.
fn one_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets glibc's allocator parameters.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Give the heap's free pages back to the system. Compiling a large
/// manifest leaves megabytes freed but still mapped; a verb that then
/// waits (`up` until every unit is ready) would hold them, and a process
/// takes the longer to exit the more it has mapped: about 1.4 ms for the
/// 19 MB of a thousand-unit manifest, right when `up` reports readiness.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and trims glibc's own heap.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Send the compiled manifest to the daemon.
pub async fn load(client: &Client, m: &Manifest) -> Result<LoadResponse, CtlError> {
    client
        .post(
            &format!("/v1/projects/{}/load", m.project),
            &m.load_request(),
        )
        .await
}

impl Session {
    /// The project a unit argument belongs to (`PROJECT/NAME` or this session's).
    pub fn project_or<'a>(&'a self, p: &'a Option<ProjectName>) -> &'a ProjectName {
        p.as_ref().unwrap_or(&self.project)
    }
}
