//! devctl's manifest compiler: `devctl.kdl` → unit set.
//!
//! Compilation runs in phases, each collecting every problem it finds:
//!
//! 1. **Limits and syntax** ([`prescan`], `parse`): size cap, UTF-8,
//!    forbidden characters, nesting and slashdash depth, balanced braces;
//!    then the KDL v2 parser on a helper thread with a fixed stack.
//! 2. **Raw manifest** (`manifest`, `probe`, `container`, `logs`): every node
//!    read strictly into units with spans.
//! 3. **Validated unit set** (`validate`): names, dependencies, cycles, the
//!    project target.
//!
//! All problems come back as one [`CompileError`] in source order. Output is
//! deterministic. [`emit_devctl`] and [`emit_systemd`] turn a [`Compiled`]
//! set into unit-file text; [`loadable`] is what `devctl` and devctld send
//! the daemon's core (`load`).

mod container;
mod emit;
mod error;
mod kube_check;
pub mod load;
mod logs;
mod manifest;
mod parse;
pub mod prescan;
mod probe;
mod reader;
mod settings;
mod systemd;
mod triggers;
mod validate;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use devctl_units::{ProjectName, Unit};
use miette::SourceSpan;

pub use emit::emit_devctl;
pub use error::{CompileError, ErrorKind, Problem, Source, Warning};
pub use kube_check::check_kubernetes;
pub use load::{Loadable, ManifestError, loadable, loadable_bytes, render_report};
pub use prescan::{MAX_DEPTH, MAX_FILE_BYTES, MAX_SLASHDASH_DEPTH, MAX_STRING_BYTES};
pub use systemd::{SystemdOutput, emit_systemd, probe_argv};

/// A compiled manifest: the project, its root and every unit (the project
/// target last), plus warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    pub project: ProjectName,
    /// Absolute directory of the manifest; relative paths resolve against it.
    pub root: PathBuf,
    /// Units in manifest order, then the project target.
    pub units: Vec<Unit>,
    pub warnings: Vec<Warning>,
}

impl Compiled {
    /// The unit named `name`, if any.
    pub fn unit(&self, name: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.name.as_str() == name)
    }
}

/// Compile the manifest at `path` (size checked before reading).
pub fn compile_file(path: &Path) -> Result<Compiled, CompileError> {
    let file = std::fs::File::open(path).map_err(|e| CompileError::io(path, &e))?;
    let meta = file.metadata().map_err(|e| CompileError::io(path, &e))?;
    if !meta.is_file() {
        let err = std::io::Error::other("not a regular file");
        return Err(CompileError::io(path, &err));
    }
    if meta.len() > MAX_FILE_BYTES as u64 {
        return Err(too_large(path, meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow between the check and the read: read one byte more
    // than the cap at most.
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CompileError::io(path, &e))?;
    compile_bytes(&bytes, path)
}

/// [`compile_file`] on a helper thread; gives up with an
/// [`ErrorKind::Timeout`] error after `deadline` (the thread is left to
/// finish on its own; a CLI exits right after).
pub fn compile_file_with_deadline(
    path: &Path,
    deadline: Duration,
) -> Result<Compiled, CompileError> {
    let p = path.to_owned();
    on_helper(path, deadline, move || compile_file(&p))
}

/// [`compile_bytes`] on a helper thread, as [`compile_file_with_deadline`]:
/// for a caller that must know exactly which bytes were compiled.
pub fn compile_bytes_with_deadline(
    bytes: Vec<u8>,
    path: &Path,
    deadline: Duration,
) -> Result<Compiled, CompileError> {
    let p = path.to_owned();
    on_helper(path, deadline, move || compile_bytes(&bytes, &p))
}

fn on_helper(
    path: &Path,
    deadline: Duration,
    compile: impl FnOnce() -> Result<Compiled, CompileError> + Send + 'static,
) -> Result<Compiled, CompileError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (work_tx, work_rx) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
    let spawned = std::thread::Builder::new()
        .name("devctl-compile".into())
        .spawn(move || {
            if let Ok(work) = work_rx.recv() {
                work();
            }
        });
    if spawned.is_err() {
        return compile();
    }
    let _ = work_tx.send(Box::new(move || {
        let _ = tx.send(compile());
    }));
    match rx.recv_timeout(deadline) {
        Ok(result) => result,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            Err(CompileError::timeout(path, deadline))
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(CompileError::invalid(
            path.display().to_string(),
            vec![
                Problem::bare("devctl::manifest::internal", "the compiler thread crashed")
                    .with_help("this is a devctl bug; please report it"),
            ],
        )),
    }
}

/// Compile manifest bytes; invalid UTF-8 is reported with its byte offset.
pub fn compile_bytes(bytes: &[u8], manifest_path: &Path) -> Result<Compiled, CompileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large(manifest_path, bytes.len() as u64));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => compile_str(text, manifest_path),
        Err(err) => Err(invalid_utf8(bytes, err, manifest_path)),
    }
}

/// Compile manifest text. `manifest_path` names the file in diagnostics and
/// gives the project root (its directory) and default project name.
pub fn compile_str(source: &str, manifest_path: &Path) -> Result<Compiled, CompileError> {
    let file = manifest_path.display().to_string();
    if source.len() > MAX_FILE_BYTES {
        return Err(too_large(manifest_path, source.len() as u64));
    }
    let root = project_root(manifest_path);
    if let Some(c) = root
        .to_string_lossy()
        .chars()
        .find(|&c| c.is_control() || prescan::forbidden_char(c).is_some())
    {
        let p = Problem::bare(
            "devctl::manifest::bad-path",
            format!(
                "the manifest's directory {:?} contains the character U+{:04X}",
                root.display().to_string(),
                c as u32
            ),
        )
        .with_help("move the project to a directory whose path has only printable characters");
        return Err(CompileError::invalid(file, vec![p]));
    }
    let text = Arc::new(source.to_owned());
    let src = Source::new(&file, Arc::clone(&text));
    let mut cx = reader::Cx::new(src.clone(), root.clone());
    if !prescan::prescan(source, &src, &mut cx.problems) {
        return Err(CompileError::invalid(file, cx.problems));
    }
    let Some(doc) = parse::parse(&text, &src, &mut cx.problems) else {
        return Err(CompileError::invalid(file, cx.problems));
    };
    let lines: Vec<usize> = std::iter::once(0)
        .chain(source.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let placeholder =
        ProjectName::new("project").map_err(|_| CompileError::invalid(file.clone(), Vec::new()))?;
    let raw = manifest::read(&mut cx, &doc, &file, &lines, &placeholder);
    if raw.units.iter().all(|u| !u.unit.kind.is_runnable()) && cx.problems.is_empty() {
        let p = Problem::at(
            "devctl::manifest::empty",
            "the manifest declares nothing to run",
            &src,
            SourceSpan::new(0.into(), 0),
            "nothing here",
        )
        .with_help("add a unit, e.g. service \"web\" { run \"python3\" \"-m\" \"http.server\" }");
        return Err(CompileError::invalid(file, vec![p]));
    }
    let project = validate::project_name(&mut cx, &raw, &root);
    let units = validate::validate(&mut cx, raw, project.clone());
    match (units, project) {
        (Some(units), Some(project)) if cx.problems.is_empty() => Ok(Compiled {
            project,
            root,
            units,
            warnings: cx.warnings,
        }),
        _ => Err(CompileError::invalid(file, cx.problems)),
    }
}

/// The absolute directory holding the manifest (lexically normalised; the
/// file system is not consulted, except for the current directory when the
/// path is relative).
fn project_root(manifest_path: &Path) -> PathBuf {
    let dir = manifest_path.parent().unwrap_or(Path::new(""));
    let abs = if dir.is_absolute() {
        dir.to_owned()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(dir)
    };
    reader::resolve(&abs, ".")
}

fn too_large(path: &Path, len: u64) -> CompileError {
    let p = Problem::bare(
        "devctl::manifest::too-large",
        format!("the manifest is {len} bytes; at most {MAX_FILE_BYTES} are accepted"),
    )
    .with_help("a devctl.kdl is normally a few kilobytes; is this the right file?");
    CompileError::invalid(path.display().to_string(), vec![p])
}

fn invalid_utf8(bytes: &[u8], err: std::str::Utf8Error, path: &Path) -> CompileError {
    let at = err.valid_up_to();
    let text = String::from_utf8_lossy(bytes).into_owned();
    let src = Source::new(path.display().to_string(), Arc::new(text));
    let utf16 = bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]);
    let help = if utf16 {
        "the file looks like UTF-16; save it as UTF-8"
    } else {
        "save the file as UTF-8"
    };
    let p = Problem::at(
        "devctl::manifest::invalid-utf8",
        format!(
            "the manifest is not valid UTF-8: invalid byte 0x{:02x} at byte offset {at}",
            bytes[at]
        ),
        &src,
        SourceSpan::new(at.into(), '\u{fffd}'.len_utf8()),
        "invalid UTF-8",
    )
    .with_help(help);
    CompileError::invalid(path.display().to_string(), vec![p])
}
