//! The manifest side of the CLI: compile `devctl.kdl` (with a parse
//! deadline) into unit files, in devctl's or systemd's dialect, and turn
//! compiler errors into [`CtlError`]s. The only module that calls the
//! compiler.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use devctl_compiler::{CompileError, Compiled};
use devctl_units::ProjectName;
use devctl_units::api::LoadRequest;

use crate::cli::Target;
use crate::error::CtlError;

/// How long parsing and compiling may take before devctl gives up.
pub const DEADLINE: Duration = Duration::from_secs(2);

/// A compiled manifest, ready to print, write or load.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: PathBuf,
    pub root: PathBuf,
    pub project: ProjectName,
    /// Unit file name → text.
    pub files: BTreeMap<String, String>,
    /// Warnings, one line each.
    pub warnings: Vec<String>,
}

impl Manifest {
    /// The body of `POST /v1/projects/{p}/load`.
    pub fn load_request(&self) -> LoadRequest {
        LoadRequest {
            manifest: self.path.clone(),
            root: self.root.clone(),
            units: self.files.clone(),
        }
    }

    /// The file name of unit `name`, if the manifest defines it.
    /// systemd files are named `<project>-<name>.<suffix>`.
    pub fn file_of(&self, name: &str) -> Option<&str> {
        let prefixed = format!("{}-{name}", self.project);
        self.files
            .keys()
            .find(|f| {
                f.rsplit_once('.')
                    .is_some_and(|(stem, _)| stem == name || stem == prefixed)
            })
            .map(String::as_str)
    }
}

fn compile_error(path: &Path, err: CompileError) -> CtlError {
    match err.kind {
        devctl_compiler::ErrorKind::Timeout => CtlError::ManifestTimeout {
            path: path.to_path_buf(),
            limit_ms: DEADLINE.as_millis() as u64,
        },
        devctl_compiler::ErrorKind::Invalid | devctl_compiler::ErrorKind::Io => {
            CtlError::InvalidManifest(Box::new(err))
        }
    }
}

fn compiled(path: &Path) -> Result<Compiled, CtlError> {
    if !path.is_file() {
        return Err(CtlError::NoManifest {
            start: path.to_path_buf(),
        });
    }
    devctl_compiler::compile_file_with_deadline(path, DEADLINE).map_err(|e| compile_error(path, e))
}

/// The devctl binary that exported units run as their readiness gate: the
/// one doing the export, by absolute path, because the systemd user
/// manager's `PATH` seldom holds where devctl was installed. A binary that
/// was deleted or replaced since it started (`… (deleted)`) cannot be
/// named, so the export is refused rather than written with a dead path.
pub fn probe_program(exe: std::io::Result<PathBuf>) -> Result<PathBuf, CtlError> {
    let exe = exe.map_err(|source| CtlError::NoDevctlBinary {
        reason: source.to_string(),
    })?;
    if !exe.is_absolute() || !exe.is_file() {
        return Err(CtlError::NoDevctlBinary {
            reason: format!("{} does not exist", exe.display()),
        });
    }
    Ok(exe)
}

/// `check`'s offline look at kubernetes units' YAML manifests (files
/// exist and parse, objects are named): invalid like a manifest error.
pub fn check_kubernetes(path: &Path) -> Result<(), CtlError> {
    let c = compiled(path)?;
    let problems = devctl_compiler::check_kubernetes(&c);
    if problems.is_empty() {
        return Ok(());
    }
    Err(CtlError::InvalidManifest(Box::new(CompileError::invalid(
        path.display().to_string(),
        problems,
    ))))
}

/// Compile the manifest at `path` into unit files of `target`'s dialect.
pub fn compile(path: &Path, target: Target) -> Result<Manifest, CtlError> {
    let c = compiled(path)?;
    let mut warnings: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
    let files = match target {
        Target::Devctl => devctl_compiler::emit_devctl(&c),
        Target::Systemd => {
            let devctl = probe_program(std::env::current_exe())?;
            let out = devctl_compiler::emit_systemd(&c, &devctl);
            warnings.extend(out.warnings.iter().map(|w| w.to_string()));
            out.files
        }
    };
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    Ok(Manifest {
        path,
        root: c.root.clone(),
        project: c.project.clone(),
        files,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::{Exit, for_error};

    #[test]
    fn compiler_errors_map_to_65() {
        let p = Path::new("/m/devctl.kdl");
        let t = compile_error(p, CompileError::timeout(p, DEADLINE));
        assert!(
            matches!(t, CtlError::ManifestTimeout { limit_ms: 2000, .. }),
            "{t:?}"
        );
        assert_eq!(for_error(&t), Exit::InvalidManifest);
        assert!(t.to_string().contains("2000 ms"), "{t}");
        let denied = std::io::Error::from_raw_os_error(libc::EACCES);
        let io = compile_error(p, CompileError::io(p, &denied));
        assert!(matches!(io, CtlError::InvalidManifest(_)));
        assert_eq!(for_error(&io), Exit::InvalidManifest);
    }

    #[test]
    fn missing_file_is_no_manifest_and_files_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("devctl.kdl");
        assert!(matches!(
            compile(&missing, Target::Devctl),
            Err(CtlError::NoManifest { .. })
        ));
        std::fs::write(
            &missing,
            "project \"pz\"\nservice \"web\" {\n    run \"true\"\n}\n",
        )
        .unwrap();
        let m = compile(&missing, Target::Devctl).unwrap();
        assert_eq!(m.project.as_str(), "pz");
        assert_eq!(m.file_of("web"), Some("web.service"));
        assert_eq!(m.load_request().units.len(), m.files.len());
        let s = compile(&missing, Target::Systemd).unwrap();
        assert_eq!(s.file_of("web"), Some("pz-web.service"));
    }

    #[test]
    fn probe_program_is_this_binary_or_a_clear_refusal() {
        let exe = std::env::current_exe().unwrap();
        assert_eq!(probe_program(Ok(exe.clone())).unwrap(), exe);
        let gone = probe_program(Ok(PathBuf::from("/nonexistent/bin/devctl (deleted)")));
        let e = gone.unwrap_err();
        assert!(matches!(e, CtlError::NoDevctlBinary { .. }), "{e:?}");
        assert!(e.to_string().contains("/nonexistent/bin/devctl"), "{e}");
        assert!(
            e.help().unwrap().contains("devctl export"),
            "{:?}",
            e.help()
        );
        let unreadable = probe_program(Err(std::io::Error::from_raw_os_error(libc::ENOENT)));
        assert!(matches!(unreadable, Err(CtlError::NoDevctlBinary { .. })));
        assert_eq!(for_error(&unreadable.unwrap_err()), Exit::Failed);
    }
}
