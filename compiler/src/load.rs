//! A manifest as the daemon is given it: compiled under a deadline into
//! devctl's unit files, the body of `POST /v1/projects/{p}/load`. `devctl`
//! calls [`loadable`] before every verb that changes what runs (`reload`
//! among them) and devctld calls it for the dashboard's reload, so both
//! compile the same way, refuse the same manifests and word the refusal
//! the same ([`ManifestError`], [`render_report`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use devctl_units::ProjectName;
use devctl_units::api::LoadRequest;
use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

use crate::{
    CompileError, Compiled, ErrorKind, compile_bytes_with_deadline, compile_file_with_deadline,
    emit_devctl,
};

/// How long parsing and compiling may take before the loader gives up.
pub const DEADLINE: Duration = Duration::from_secs(2);

/// Why a manifest could not be loaded.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ManifestError {
    /// Compiling did not finish before the deadline.
    #[error("{}: parsing took longer than {limit_ms} ms", path.display())]
    #[diagnostic(
        code(devctl::manifest::timeout),
        help("the manifest is pathologically nested or huge; simplify it")
    )]
    Timeout { path: PathBuf, limit_ms: u64 },
    /// The manifest is invalid or unreadable: every problem, with its place
    /// in the file and what to do.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<CompileError>),
}

impl ManifestError {
    /// The error as `devctl` prints it on stderr (no colour): the full
    /// report of an invalid manifest, else `error: …` and `help: …`.
    pub fn printed(&self) -> String {
        match self {
            ManifestError::Invalid(e) => render_report(e.as_ref(), false),
            other => match other.help() {
                Some(help) => format!("error: {other}\nhelp: {help}"),
                None => format!("error: {other}"),
            },
        }
    }
}

/// Compile the manifest at `path`, giving up after `deadline`.
pub fn compile_manifest(path: &Path, deadline: Duration) -> Result<Compiled, ManifestError> {
    compile_file_with_deadline(path, deadline).map_err(|e| manifest_error(path, deadline, e))
}

fn manifest_error(path: &Path, deadline: Duration, e: CompileError) -> ManifestError {
    match e.kind {
        ErrorKind::Timeout => ManifestError::Timeout {
            path: path.to_path_buf(),
            limit_ms: deadline.as_millis() as u64,
        },
        ErrorKind::Invalid | ErrorKind::Io => ManifestError::Invalid(Box::new(e)),
    }
}

/// A compiled manifest ready to load.
#[derive(Debug, Clone)]
pub struct Loadable {
    /// The project the manifest declares.
    pub project: ProjectName,
    /// What the daemon is sent (the manifest by its absolute path).
    pub request: LoadRequest,
    /// Warnings, one line each.
    pub warnings: Vec<String>,
    /// The request follows from the manifest's path and bytes alone (and
    /// this compiler): no warning was given and nothing else was looked at
    /// (an `on-commit` build makes the compiler look for the repository).
    /// Such a result may be kept and reused for the same bytes.
    pub pure: bool,
}

/// Compile the manifest at `path` (within [`DEADLINE`]) into what
/// `POST /v1/projects/{project}/load` takes.
pub fn loadable(path: &Path) -> Result<Loadable, ManifestError> {
    let c = compile_manifest(path, DEADLINE)?;
    Ok(loadable_of(path, c))
}

/// [`loadable`] of `bytes`, the manifest's content as read by the caller.
pub fn loadable_bytes(path: &Path, bytes: Vec<u8>) -> Result<Loadable, ManifestError> {
    let c = compile_bytes_with_deadline(bytes, path, DEADLINE)
        .map_err(|e| manifest_error(path, DEADLINE, e))?;
    Ok(loadable_of(path, c))
}

fn loadable_of(path: &Path, c: Compiled) -> Loadable {
    Loadable {
        project: c.project.clone(),
        request: LoadRequest {
            manifest: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
            root: c.root.clone(),
            units: emit_devctl(&c),
        },
        warnings: c.warnings.iter().map(|w| w.to_string()).collect(),
        pure: c.warnings.is_empty() && !c.units.iter().any(|u| u.on_commit),
    }
}

/// A miette report as text, coloured or not, 100 columns wide: how every
/// invalid manifest is shown.
pub fn render_report(diag: &dyn Diagnostic, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    match GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .render_report(&mut out, diag)
    {
        Ok(()) => out.trim_end().to_string(),
        Err(_) => format!("error: {diag}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_manifest_is_the_load_request_devctl_sends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("devctl.kdl");
        std::fs::write(
            &path,
            "project \"pz\"\nservice \"web\" {\n    run \"true\"\n}\n",
        )
        .unwrap();
        let l = loadable(&path).unwrap();
        assert_eq!(l.project.as_str(), "pz");
        assert_eq!(l.request.manifest, path);
        assert_eq!(l.request.root, dir.path());
        assert!(
            l.request.units.contains_key("web.service"),
            "{:?}",
            l.request.units
        );
    }

    #[test]
    fn an_invalid_manifest_prints_every_problem_with_its_place_and_help() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("devctl.kdl");
        std::fs::write(
            &path,
            "project \"pz\"\nservce \"web\" {\n    run \"true\"\n}\n",
        )
        .unwrap();
        let e = loadable(&path).unwrap_err();
        assert!(matches!(e, ManifestError::Invalid(_)), "{e:?}");
        let text = e.printed();
        assert!(text.contains("servce"), "{text}");
        assert!(text.contains("devctl.kdl:2:1"), "where: {text}");
        assert!(text.contains("help:"), "{text}");
        assert!(!text.contains('\u{1b}'), "no colour: {text:?}");
    }

    #[test]
    fn a_missing_manifest_is_invalid_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let e = loadable(&dir.path().join("devctl.kdl")).unwrap_err();
        let text = e.printed();
        assert!(text.contains("No such file or directory"), "{text}");
    }

    #[test]
    fn a_timeout_is_worded_as_the_cli_words_it() {
        let e = ManifestError::Timeout {
            path: PathBuf::from("/m/devctl.kdl"),
            limit_ms: 2000,
        };
        assert_eq!(
            e.printed(),
            "error: /m/devctl.kdl: parsing took longer than 2000 ms\n\
             help: the manifest is pathologically nested or huge; simplify it"
        );
    }
}
