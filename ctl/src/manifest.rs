//! The manifest side of the CLI: compile `devctl.kdl` (with a parse
//! deadline) into unit files, in devctl's or systemd's dialect, and turn
//! compiler errors into [`CtlError`]s. The only module that calls the
//! compiler. devctl's dialect is [`devctl_compiler::loadable`], the same
//! call the dashboard's reload makes in devctld.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use devctl_compiler::{CompileError, Compiled};
use devctl_units::ProjectName;
use devctl_units::api::LoadRequest;

use crate::cli::Target;
use crate::compile_cache;
use crate::error::CtlError;

/// How long parsing and compiling may take before devctl gives up.
pub const DEADLINE: Duration = devctl_compiler::load::DEADLINE;

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

impl From<devctl_compiler::Loadable> for Manifest {
    fn from(l: devctl_compiler::Loadable) -> Manifest {
        Manifest {
            path: l.request.manifest,
            root: l.request.root,
            project: l.project,
            files: l.request.units,
            warnings: l.warnings,
        }
    }
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

/// A missing file is "no manifest" here; the compiler would say it cannot read it.
fn must_exist(path: &Path) -> Result<(), CtlError> {
    if path.is_file() {
        Ok(())
    } else {
        Err(CtlError::NoManifest {
            start: path.to_path_buf(),
        })
    }
}

fn compiled(path: &Path) -> Result<Compiled, CtlError> {
    must_exist(path)?;
    Ok(devctl_compiler::load::compile_manifest(path, DEADLINE)?)
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

/// [`compile`] in devctl's dialect, reusing the result of an earlier run
/// for the very same bytes when one was kept in `dir` (the runtime
/// directory; see [`crate::compile_cache`]).
pub fn compile_kept(path: &Path, dir: &Path) -> Result<Manifest, CtlError> {
    must_exist(path)?;
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    // Read once, capped as the compiler caps it: the bytes looked up are
    // the bytes compiled, whatever happens to the file meanwhile.
    let mut bytes = Vec::new();
    let read = std::fs::File::open(&abs).and_then(|f| {
        f.take(devctl_compiler::MAX_FILE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
    });
    if read.is_err() {
        return compile(path, Target::Devctl);
    }
    if let Some(m) = compile_cache::lookup(dir, &abs, &bytes) {
        return Ok(m);
    }
    let l = devctl_compiler::loadable_bytes(&abs, bytes.clone())?;
    let pure = l.pure;
    let m = Manifest::from(l);
    if pure {
        compile_cache::keep(dir, &abs, &bytes, &m);
    }
    Ok(m)
}

/// Compile the manifest at `path` into unit files of `target`'s dialect.
pub fn compile(path: &Path, target: Target) -> Result<Manifest, CtlError> {
    if target == Target::Devctl {
        must_exist(path)?;
        return Ok(Manifest::from(devctl_compiler::loadable(path)?));
    }
    let c = compiled(path)?;
    let mut warnings: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
    let devctl = probe_program(std::env::current_exe())?;
    let out = devctl_compiler::emit_systemd(&c, &devctl);
    warnings.extend(out.warnings.iter().map(|w| w.to_string()));
    let files = out.files;
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
    use devctl_compiler::ManifestError;

    #[test]
    fn compiler_errors_map_to_65() {
        let p = Path::new("/m/devctl.kdl");
        let t = CtlError::from(ManifestError::Timeout {
            path: p.to_path_buf(),
            limit_ms: 2000,
        });
        assert!(
            matches!(
                t,
                CtlError::Manifest(ManifestError::Timeout { limit_ms: 2000, .. })
            ),
            "{t:?}"
        );
        assert_eq!(for_error(&t), Exit::InvalidManifest);
        assert!(t.to_string().contains("2000 ms"), "{t}");
        let denied = std::io::Error::from_raw_os_error(libc::EACCES);
        let io = CtlError::from(ManifestError::Invalid(Box::new(CompileError::io(
            p, &denied,
        ))));
        assert!(matches!(io, CtlError::InvalidManifest(_)));
        assert_eq!(for_error(&io), Exit::InvalidManifest);
    }

    #[test]
    fn the_cli_prints_a_manifest_error_as_the_compiler_words_it_for_devctld() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("devctl.kdl");
        std::fs::write(
            &path,
            "project \"pz\"\nservice \"web\" {\n    rnu \"true\"\n}\n",
        )
        .unwrap();
        let cli = compile(&path, Target::Devctl).unwrap_err();
        let shared = devctl_compiler::loadable(&path).unwrap_err();
        assert_eq!(cli.render_human(false), shared.printed());
        let timeout = ManifestError::Timeout {
            path: path.clone(),
            limit_ms: 2000,
        };
        let printed = timeout.printed();
        assert_eq!(CtlError::from(timeout).render_human(false), printed);
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
