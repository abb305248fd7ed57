//! [`StateStore`]: reads and writes the state files under `<state>/`.
//! Reads are bounded and never follow symlinks; a file that cannot be
//! parsed is renamed to `<name>.corrupt-<unix>` with a warning and treated
//! as absent, so a bad file never stops the daemon.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::warn;

use devctl_units::ProjectName;
use devctl_units::paths::Paths;

use crate::state::atomic::{FileWriter, RealFs, recover_dir};
use crate::state::files::{ProjectFile, STATE_VERSION, SessionFile};
use crate::state::fingerprints::Fingerprints;

/// Largest state file read; bigger ones are treated as corrupt.
pub const MAX_STATE_BYTES: u64 = 8 << 20;

/// A state file could not be written or its directory not read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StateError {
    #[error("cannot write {path}: {source}")]
    #[diagnostic(
        code(devctl::state::write),
        help("free some disk space or fix the permissions, then retry")
    )]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot read {path}: {source}")]
    #[diagnostic(code(devctl::state::read))]
    Read { path: PathBuf, source: io::Error },
}

impl StateError {
    /// The underlying I/O error.
    pub fn io(&self) -> &io::Error {
        match self {
            StateError::Write { source, .. } | StateError::Read { source, .. } => source,
        }
    }
}

/// Outcome of reading one state file.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadOutcome<T> {
    Missing,
    Ok(T),
    /// Was unusable and has been set aside at this path.
    Quarantined(PathBuf),
}

/// A persisted project: its settings and its unit files (name → text).
pub type StoredProject = (ProjectFile, BTreeMap<String, String>);

/// Reads and writes devctl's state files.
#[derive(Debug, Clone)]
pub struct StateStore {
    paths: Paths,
    writer: Arc<dyn FileWriter>,
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn read_bounded(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_file()
        || meta.len() > MAX_STATE_BYTES
        || meta.uid() != devctl_units::paths::current_uid()
    {
        return Err(io::Error::from(io::ErrorKind::InvalidData));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    fs::File::open(path)?
        .take(MAX_STATE_BYTES + 1)
        .read_to_end(&mut buf)?;
    Ok(Some(buf))
}

/// Rename a bad state file aside; returns where it went.
pub fn quarantine(path: &Path, why: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".corrupt-{}", now_unix()));
    let aside = path.with_file_name(name);
    match fs::rename(path, &aside) {
        Ok(()) => {
            warn!(file = %path.display(), aside = %aside.display(), "state file is unusable ({why}); set aside")
        }
        Err(e) => {
            warn!(file = %path.display(), "state file is unusable ({why}) and cannot be set aside: {e}")
        }
    }
    aside
}

fn read_json<T: DeserializeOwned>(path: &Path, version_of: impl Fn(&T) -> u32) -> ReadOutcome<T> {
    let bytes = match read_bounded(path) {
        Ok(None) => return ReadOutcome::Missing,
        Ok(Some(b)) => b,
        Err(e) => return ReadOutcome::Quarantined(quarantine(path, &e.to_string())),
    };
    match serde_json::from_slice::<T>(&bytes) {
        Ok(v) if version_of(&v) == STATE_VERSION => ReadOutcome::Ok(v),
        Ok(v) => ReadOutcome::Quarantined(quarantine(
            path,
            &format!("schema version {}", version_of(&v)),
        )),
        Err(e) => ReadOutcome::Quarantined(quarantine(path, &e.to_string())),
    }
}

impl StateStore {
    /// A store on the real filesystem.
    pub fn new(paths: Paths) -> StateStore {
        StateStore::with_writer(paths, Arc::new(RealFs))
    }

    /// A store with an injected writer (tests).
    pub fn with_writer(paths: Paths, writer: Arc<dyn FileWriter>) -> StateStore {
        StateStore { paths, writer }
    }

    /// The paths this store writes under.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Write `value` as JSON; with `durable`, also on disk when this
    /// returns (see [`FileWriter::write_file_unsynced`] otherwise).
    fn write_json<T: Serialize>(
        &self,
        path: PathBuf,
        value: &T,
        durable: bool,
    ) -> Result<(), StateError> {
        let mut bytes = serde_json::to_vec_pretty(value).expect("state types always serialize");
        bytes.push(b'\n');
        let written = if durable {
            self.writer.write_file(&path, &bytes)
        } else {
            self.writer.write_file_unsynced(&path, &bytes)
        };
        written.map_err(|source| StateError::Write { path, source })
    }

    /// Every persisted project with its unit files (name → text). A project
    /// whose `project.json` is unusable is skipped (and set aside).
    pub fn load_projects(&self) -> Result<Vec<StoredProject>, StateError> {
        let dir = self.paths.projects_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(StateError::Read { path: dir, source }),
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let Some(name) = entry
                .file_name()
                .to_str()
                .and_then(|s| ProjectName::new(s).ok())
            else {
                continue;
            };
            let file = self.paths.project_file(&name);
            let pf = match read_json::<ProjectFile>(&file, |p| p.version) {
                ReadOutcome::Ok(pf) if pf.name == name => pf,
                ReadOutcome::Ok(_) => {
                    quarantine(&file, "project name does not match its directory");
                    continue;
                }
                ReadOutcome::Missing | ReadOutcome::Quarantined(_) => continue,
            };
            recover_dir(&self.paths.units_dir(&name));
            let units = self.read_units(&name);
            out.push((pf, units));
        }
        out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(out)
    }

    /// Persist a project's settings.
    pub fn save_project(&self, pf: &ProjectFile) -> Result<(), StateError> {
        self.write_json(self.paths.project_file(&pf.name), pf, true)
    }

    /// Persist a project's unit files (the whole set replaces the old one).
    pub fn save_units(
        &self,
        project: &ProjectName,
        units: &BTreeMap<String, String>,
    ) -> Result<(), StateError> {
        let dir = self.paths.units_dir(project);
        let files: Vec<(String, Vec<u8>)> = units
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
            .collect();
        self.writer
            .replace_dir(&dir, &files)
            .map_err(|source| StateError::Write { path: dir, source })
    }

    /// A project's persisted unit files (name → text); unreadable ones
    /// are skipped with a warning.
    pub fn read_units(&self, project: &ProjectName) -> BTreeMap<String, String> {
        let mut units = BTreeMap::new();
        let Ok(files) = fs::read_dir(self.paths.units_dir(project)) else {
            return units;
        };
        for f in files.flatten() {
            let Some(fname) = f.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            match read_bounded(&f.path()) {
                Ok(Some(bytes)) => match String::from_utf8(bytes) {
                    Ok(text) => {
                        units.insert(fname, text);
                    }
                    Err(_) => warn!(file = %f.path().display(), "unit file is not UTF-8; skipped"),
                },
                Ok(None) => {}
                Err(e) => warn!(file = %f.path().display(), "unit file unreadable ({e}); skipped"),
            }
        }
        units
    }

    /// One persisted unit file's text (what `devctl cat` shows).
    pub fn unit_file(&self, project: &ProjectName, file: &str) -> Result<String, StateError> {
        let path = self.paths.units_dir(project).join(file);
        match read_bounded(&path) {
            Ok(Some(bytes)) => String::from_utf8(bytes).map_err(|_| StateError::Read {
                path,
                source: io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"),
            }),
            Ok(None) => Err(StateError::Read {
                path,
                source: io::Error::from(io::ErrorKind::NotFound),
            }),
            Err(source) => Err(StateError::Read { path, source }),
        }
    }

    /// Remove everything persisted about a project.
    pub fn remove_project(&self, project: &ProjectName) -> Result<(), StateError> {
        let dir = self.paths.project_dir(project);
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StateError::Write { path: dir, source }),
        }
    }

    /// The session file left by the previous daemon, if any.
    pub fn load_session(&self) -> ReadOutcome<SessionFile> {
        read_json::<SessionFile>(&self.paths.session_file(), |s| s.version)
    }

    /// Persist the session; with `durable`, also on disk when this returns
    /// (else only replaced atomically, see [`FileWriter::write_file_unsynced`]).
    pub fn save_session(&self, s: &SessionFile, durable: bool) -> Result<(), StateError> {
        self.write_json(self.paths.session_file(), s, durable)
    }

    /// The inputs `project`'s builds last succeeded on (empty when
    /// missing or unusable: every build then runs once).
    pub fn load_fingerprints(&self, project: &ProjectName) -> Fingerprints {
        match read_json::<Fingerprints>(&self.fingerprints_file(project), |f| f.version) {
            ReadOutcome::Ok(f) => f,
            ReadOutcome::Missing | ReadOutcome::Quarantined(_) => Fingerprints::default(),
        }
    }

    /// Persist them (atomically; a machine crash may lose the last change,
    /// which costs one re-run).
    pub fn save_fingerprints(
        &self,
        project: &ProjectName,
        f: &Fingerprints,
    ) -> Result<(), StateError> {
        self.write_json(self.fingerprints_file(project), f, false)
    }

    fn fingerprints_file(&self, project: &ProjectName) -> PathBuf {
        self.paths
            .project_file(project)
            .with_file_name("fingerprints.json")
    }

    /// End the session (clean stop).
    pub fn remove_session(&self) -> Result<(), StateError> {
        let path = self.paths.session_file();
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StateError::Write { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::files::SessionUnit;
    use devctl_units::UnitName;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn store(dir: &Path) -> StateStore {
        StateStore::new(Paths {
            config: dir.join("c"),
            state: dir.join("s"),
            runtime: dir.join("r"),
        })
    }

    fn pn(s: &str) -> ProjectName {
        ProjectName::new(s).unwrap()
    }

    #[test]
    fn project_round_trip_with_units() {
        let tmp = tempfile::tempdir().unwrap();
        let st = store(tmp.path());
        let mut pf = ProjectFile::new(pn("pizzeria"), "/m/devctl.kdl".into(), "/m".into());
        pf.boot = true;
        pf.overrides.insert(UnitName::new("paulie").unwrap(), false);
        st.save_project(&pf).unwrap();
        let units = BTreeMap::from([("paulie.service".to_string(), "[Unit]\n".to_string())]);
        st.save_units(&pf.name, &units).unwrap();
        let loaded = st.load_projects().unwrap();
        assert_eq!(loaded, vec![(pf.clone(), units.clone())]);
        assert_eq!(st.read_units(&pf.name), units);
        assert_eq!(
            st.unit_file(&pf.name, "paulie.service").unwrap(),
            "[Unit]\n"
        );
        let missing = st.unit_file(&pf.name, "joe.service").unwrap_err();
        assert_eq!(missing.io().kind(), io::ErrorKind::NotFound);
        assert!(missing.to_string().contains("joe.service"), "{missing}");
        assert!(st.read_units(&pn("nothing")).is_empty());
    }

    #[test]
    fn corrupt_files_are_set_aside() {
        let tmp = tempfile::tempdir().unwrap();
        let st = store(tmp.path());
        for (i, bad) in [&b""[..], b"\0\0\0", b"{\"version\":1,", b"{\"version\":99}"]
            .iter()
            .enumerate()
        {
            fs::create_dir_all(&st.paths.state).unwrap();
            fs::write(st.paths.session_file(), bad).unwrap();
            match st.load_session() {
                ReadOutcome::Quarantined(p) => {
                    assert!(
                        p.to_string_lossy().contains("session.json.corrupt-"),
                        "{i}: {p:?}"
                    );
                    assert!(p.exists());
                    fs::remove_file(p).unwrap();
                }
                other => panic!("{i}: {other:?}"),
            }
            assert!(!st.paths.session_file().exists());
        }
        // A corrupt project.json skips that project only.
        let good = ProjectFile::new(pn("good"), "/g".into(), "/g".into());
        st.save_project(&good).unwrap();
        fs::create_dir_all(st.paths.project_dir(&pn("bad"))).unwrap();
        fs::write(st.paths.project_file(&pn("bad")), b"{not json").unwrap();
        let loaded = st.load_projects().unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].0, good);
    }

    #[test]
    fn symlink_and_fifo_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let st = store(tmp.path());
        fs::create_dir_all(&st.paths.state).unwrap();
        let target = tmp.path().join("elsewhere.json");
        let s = SessionFile::new("x".into(), 1);
        fs::write(&target, serde_json::to_vec(&s).unwrap()).unwrap();
        std::os::unix::fs::symlink(&target, st.paths.session_file()).unwrap();
        assert!(matches!(st.load_session(), ReadOutcome::Quarantined(_)));
        assert!(target.exists(), "the symlink target is never touched");
        nix::unistd::mkfifo(
            &st.paths.session_file(),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        assert!(matches!(st.load_session(), ReadOutcome::Quarantined(_)));
    }

    #[test]
    fn session_round_trip_and_removal() {
        let tmp = tempfile::tempdir().unwrap();
        let st = store(tmp.path());
        assert_eq!(st.load_session(), ReadOutcome::Missing);
        let mut s = SessionFile::new("abc".into(), 5);
        s.units.entry(pn("p")).or_default().insert(
            UnitName::new("web").unwrap(),
            SessionUnit {
                invocation: Some("inv1".into()),
            },
        );
        s.stray.push("inv2".into());
        st.save_session(&s, true).unwrap();
        assert_eq!(st.load_session(), ReadOutcome::Ok(s.clone()));
        assert_eq!(s.invocations().collect::<Vec<_>>(), ["inv1", "inv2"]);
        st.remove_session().unwrap();
        st.remove_session().unwrap();
        assert_eq!(st.load_session(), ReadOutcome::Missing);
    }

    #[derive(Debug, Default)]
    struct FullDisk(AtomicBool);
    impl FileWriter for FullDisk {
        fn write_file(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
            if self.0.load(Ordering::SeqCst) {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            RealFs.write_file(path, bytes)
        }
        fn replace_dir(&self, dir: &Path, files: &[(String, Vec<u8>)]) -> io::Result<()> {
            if self.0.load(Ordering::SeqCst) {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            RealFs.replace_dir(dir, files)
        }
    }

    #[test]
    fn write_error_is_typed_and_old_file_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let disk = Arc::new(FullDisk::default());
        let paths = Paths {
            config: tmp.path().join("c"),
            state: tmp.path().join("s"),
            runtime: tmp.path().join("r"),
        };
        let st = StateStore::with_writer(paths, disk.clone());
        let pf = ProjectFile::new(pn("p"), "/m".into(), "/m".into());
        st.save_project(&pf).unwrap();
        disk.0.store(true, Ordering::SeqCst);
        let mut changed = pf.clone();
        changed.boot = true;
        let err = st.save_project(&changed).unwrap_err();
        assert_eq!(err.io().raw_os_error(), Some(libc::ENOSPC));
        assert!(matches!(err, StateError::Write { .. }));
        assert_eq!(st.load_projects().unwrap()[0].0, pf);
    }
}
