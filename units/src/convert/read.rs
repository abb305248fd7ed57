//! Unit file → `Unit`, strictly: unknown sections and keys, duplicates,
//! missing required keys, wrongly shaped values and bad names are errors
//! that name the line, the key and what was expected.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::keys::{
    INSTALL_KEYS, PROBE_KEYS, PROBE_KNOBS, SERVICE_KEYS, UNIT_KEYS, allowed_sections, suggest,
};
use super::values::{self, ValueError};
use super::write::wanted_by;
use crate::duration;
use crate::error::{ErrorKind, UnitFileError};
use crate::escape::{self, Context, EscapeError};
use crate::file::{Entry, Section, UnitFile};
use crate::model::{
    DepCondition, DepKind, Dependency, EnvFile, ImageBuild, LogSpec, Probe, ProbeCheck,
    RestartMode, TriggerMode, Unit, UnitKind,
};
use crate::name::{ProjectName, UnitName};
use crate::schedule::Schedule;
use crate::signal::Signal;
use crate::size;

mod providers;

/// A probe being assembled from its check and knob keys.
#[derive(Default)]
struct ProbeParts<'a> {
    check: Option<ProbeCheck>,
    knobs: [Option<(&'a Entry, u64)>; 5],
}

struct Reader<'a> {
    file: &'a str,
    text: &'a str,
    unit: Unit,
    seen: HashMap<(String, String), usize>,
    exec_start: Option<(&'a Entry, Vec<String>)>,
    shell: bool,
    type_entry: Option<&'a Entry>,
    after: Option<(&'a Entry, Vec<String>)>,
    until: Vec<(&'a Entry, UnitName, DepCondition)>,
    ready: ProbeParts<'a>,
    alive: ProbeParts<'a>,
    build_context: Option<(&'a Entry, PathBuf)>,
    build_dockerfile: Option<(&'a Entry, String)>,
    image: bool,
}

/// Parse a unit file into a `Unit`. `file_name` is `<name>.<suffix>` (a
/// leading directory is ignored) and gives the unit its name.
pub fn from_unit_file(file_name: &str, text: &str) -> Result<Unit, UnitFileError> {
    let file = UnitFile::parse(file_name, text)?;
    from_file(file_name, text, &file)
}

/// Like [`from_unit_file`] for an already parsed file; `text` is its
/// source, used for error positions.
pub fn from_file(file_name: &str, text: &str, file: &UnitFile) -> Result<Unit, UnitFileError> {
    let fail = |offset, len, kind| UnitFileError::at(file_name, text, offset, len, kind);
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    let bad_name = |reason: String| {
        fail(
            0,
            0,
            ErrorKind::BadFileName {
                file: file_name.into(),
                reason,
            },
        )
    };
    let Some((stem, suffix)) = base.rsplit_once('.') else {
        return Err(bad_name("no suffix".into()));
    };
    if !matches!(suffix, "service" | "container" | "kube" | "target") {
        return Err(bad_name(format!("unknown suffix `.{suffix}`")));
    }
    let name = UnitName::new(stem).map_err(|e| bad_name(e.to_string()))?;

    let unit_entries = file
        .sections
        .iter()
        .filter(|s| s.name == "Unit")
        .flat_map(|s| &s.entries);
    let first = |key: &'static str| unit_entries.clone().find(|e| e.key == key);
    let missing = |key| {
        fail(
            0,
            0,
            ErrorKind::MissingKey {
                section: "Unit",
                key,
            },
        )
    };

    let kind_entry = first("X-Devctl-Kind").ok_or_else(|| missing("X-Devctl-Kind"))?;
    let bad_kind = |expected: String| {
        let kind = ErrorKind::BadValue {
            key: kind_entry.key.clone(),
            value: kind_entry.value.clone(),
            expected,
        };
        fail(kind_entry.offset, kind_entry.value.len(), kind)
    };
    let kinds_for_suffix: Vec<&str> = UnitKind::ALL
        .iter()
        .filter(|k| k.suffix() == suffix)
        .map(|k| k.as_str())
        .collect();
    let expected_kind = format!(
        "the kind of a .{suffix} file: {}",
        kinds_for_suffix.join(", ")
    );
    let kind = UnitKind::parse(&kind_entry.value).ok_or_else(|| bad_kind(expected_kind.clone()))?;
    if kind.suffix() != suffix {
        return Err(bad_kind(expected_kind));
    }
    let project_entry = first("X-Devctl-Project").ok_or_else(|| missing("X-Devctl-Project"))?;
    let root_entry = first("X-Devctl-Root").ok_or_else(|| missing("X-Devctl-Root"))?;

    let project = ProjectName::new(project_entry.value.as_str()).map_err(|error| {
        let kind = ErrorKind::BadName {
            key: project_entry.key.clone(),
            value: project_entry.value.clone(),
            error,
        };
        fail(project_entry.offset, project_entry.value.len(), kind)
    })?;
    let root = escape::unquote(&root_entry.value, Context::Plain).map_err(|error| {
        let offset = root_entry.offset + error.offset().min(root_entry.value.len());
        fail(
            offset,
            1,
            ErrorKind::BadQuoting {
                key: root_entry.key.clone(),
                error,
            },
        )
    })?;
    let mut r = Reader {
        file: file_name,
        text,
        unit: Unit::new(project, name, kind, PathBuf::from(root)),
        seen: HashMap::new(),
        exec_start: None,
        shell: false,
        type_entry: None,
        after: None,
        until: Vec::new(),
        ready: ProbeParts::default(),
        alive: ProbeParts::default(),
        build_context: None,
        build_dockerfile: None,
        image: false,
    };
    r.unit.enabled = false;

    let allowed = allowed_sections(kind);
    for section in &file.sections {
        if !allowed.contains(&section.name.as_str()) {
            let kind = ErrorKind::UnknownSection {
                section: section.name.clone(),
                suffix: kind.suffix(),
                allowed,
            };
            return Err(fail(section.offset, section.name.len() + 2, kind));
        }
        if section.name == "Container" && r.unit.container.is_none() {
            r.unit.container = Some(Box::default());
        }
        if section.name == "Kube" && r.unit.kubernetes.is_none() {
            r.unit.kubernetes = Some(Box::default());
        }
        for entry in &section.entries {
            r.entry(section, entry)?;
        }
    }
    r.finish(file)
}

impl<'a> Reader<'a> {
    fn fail(&self, offset: usize, len: usize, kind: ErrorKind) -> UnitFileError {
        UnitFileError::at(self.file, self.text, offset, len, kind)
    }

    fn bad(&self, e: &Entry, expected: impl Into<String>) -> UnitFileError {
        let kind = ErrorKind::BadValue {
            key: e.key.clone(),
            value: e.value.clone(),
            expected: expected.into(),
        };
        self.fail(e.offset, e.value.len(), kind)
    }

    fn quoting(&self, e: &Entry, error: EscapeError) -> UnitFileError {
        let offset = e.offset + error.offset().min(e.value.len());
        self.fail(
            offset,
            1,
            ErrorKind::BadQuoting {
                key: e.key.clone(),
                error,
            },
        )
    }

    fn value_error(&self, e: &Entry, error: ValueError) -> UnitFileError {
        match error {
            ValueError::Quoting(q) => self.quoting(e, q),
            ValueError::Shape(expected) => self.bad(e, expected),
        }
    }

    fn unknown_key(&self, section: &str, e: &Entry, known: &[&'static str]) -> UnitFileError {
        let suggestion = suggest(&e.key, known);
        let kind = ErrorKind::UnknownKey {
            section: section.to_string(),
            key: e.key.clone(),
            suggestion,
        };
        self.fail(e.key_offset, e.key.len(), kind)
    }

    /// Record a single-valued key; a second occurrence is an error.
    fn once(&mut self, section: &str, e: &Entry) -> Result<(), UnitFileError> {
        if let Some(first_line) = self
            .seen
            .insert((section.to_string(), e.key.clone()), e.line)
        {
            let kind = ErrorKind::DuplicateKey {
                section: section.to_string(),
                key: e.key.clone(),
                first_line,
            };
            return Err(self.fail(e.key_offset, e.key.len(), kind));
        }
        Ok(())
    }

    fn single(&self, e: &Entry) -> Result<String, UnitFileError> {
        escape::unquote(&e.value, Context::Plain).map_err(|err| self.quoting(e, err))
    }

    fn words(&self, e: &Entry, ctx: Context) -> Result<Vec<String>, UnitFileError> {
        escape::split(&e.value, ctx).map_err(|err| self.quoting(e, err))
    }

    fn path(&self, e: &Entry) -> Result<PathBuf, UnitFileError> {
        self.single(e).map(PathBuf::from)
    }

    fn duration(&self, e: &Entry) -> Result<Duration, UnitFileError> {
        duration::parse(&e.value)
            .map_err(|_| self.bad(e, "a duration such as `10s`, `200ms` or `1min 30s`"))
    }

    fn number<T: FromStr>(&self, e: &Entry, expected: &str) -> Result<T, UnitFileError> {
        e.value.parse().map_err(|_| self.bad(e, expected))
    }

    fn boolean(&self, e: &Entry) -> Result<bool, UnitFileError> {
        values::parse_bool(&e.value).ok_or_else(|| self.bad(e, "`yes` or `no`"))
    }

    fn unit_name(&self, e: &Entry, word: &str) -> Result<UnitName, UnitFileError> {
        UnitName::new(word).map_err(|error| {
            let kind = ErrorKind::BadName {
                key: e.key.clone(),
                value: word.to_string(),
                error,
            };
            self.fail(e.offset, e.value.len(), kind)
        })
    }

    fn entry(&mut self, section: &Section, e: &'a Entry) -> Result<(), UnitFileError> {
        match section.name.as_str() {
            "Unit" => self.unit_key(e),
            "Service" => self.service_key(e),
            "Container" => self.container_key(e),
            "Kube" => self.kube_key(e),
            _ => self.install_key(e),
        }
    }

    fn unit_key(&mut self, e: &'a Entry) -> Result<(), UnitFileError> {
        let key = e.key.as_str();
        if !matches!(
            key,
            "Requires" | "Wants" | "X-Devctl-Until" | "X-Devctl-Member"
        ) && UNIT_KEYS.contains(&key)
        {
            self.once("Unit", e)?;
        }
        match key {
            "Description" => self.unit.description = Some(self.single(e)?),
            "X-Devctl-Kind" | "X-Devctl-Project" | "X-Devctl-Root" => {}
            "X-Devctl-Source" => self.unit.source = Some(self.single(e)?),
            "Requires" | "Wants" => {
                let kind = if key == "Requires" {
                    DepKind::Requires
                } else {
                    DepKind::Wants
                };
                for word in self.words(e, Context::Plain)? {
                    let unit = self.unit_name(e, &word)?;
                    if self.unit.deps.iter().any(|d| d.unit == unit) {
                        return Err(self.bad(e, "a unit not already listed in Requires=/Wants="));
                    }
                    self.unit.deps.push(Dependency {
                        unit,
                        kind,
                        until: DepCondition::Ready,
                    });
                }
            }
            "After" => self.after = Some((e, self.words(e, Context::Plain)?)),
            "X-Devctl-Until" => {
                let shape = "`UNIT:CONDITION`, CONDITION one of started, ready, succeeded";
                let (name, cond) = e.value.split_once(':').ok_or_else(|| self.bad(e, shape))?;
                let cond = [
                    DepCondition::Started,
                    DepCondition::Ready,
                    DepCondition::Succeeded,
                ]
                .into_iter()
                .find(|c| c.as_str() == cond)
                .ok_or_else(|| self.bad(e, shape))?;
                let name = self.unit_name(e, name)?;
                self.until.push((e, name, cond));
            }
            "X-Devctl-Member" => {
                for word in self.words(e, Context::Plain)? {
                    let name = self.unit_name(e, &word)?;
                    self.unit.members.push(name);
                }
            }
            "StartLimitBurst" => {
                self.unit.restart.limit = self.number(e, "a count (0-4294967295)")?
            }
            "StartLimitIntervalSec" => self.unit.restart.within = self.duration(e)?,
            _ => return Err(self.unknown_key("Unit", e, UNIT_KEYS)),
        }
        Ok(())
    }

    fn env_key(&mut self, e: &'a Entry) -> Result<(), UnitFileError> {
        if e.key == "Environment" {
            for word in self.words(e, Context::Plain)? {
                match word.split_once('=') {
                    Some((k, v)) if !k.is_empty() => {
                        self.unit.env.push((k.to_string(), v.to_string()))
                    }
                    _ => return Err(self.bad(e, "`NAME=value` assignments")),
                }
            }
        } else {
            let (raw, optional) = match e.value.strip_prefix('-') {
                Some(rest) => (rest, true),
                None => (e.value.as_str(), false),
            };
            let path = escape::unquote(raw, Context::Plain).map_err(|err| {
                let shift = usize::from(optional);
                let offset = e.offset + shift + err.offset().min(raw.len());
                let kind = ErrorKind::BadQuoting {
                    key: e.key.clone(),
                    error: err,
                };
                self.fail(offset, 1, kind)
            })?;
            self.unit.env_files.push(EnvFile {
                path: PathBuf::from(path),
                optional,
            });
        }
        Ok(())
    }

    fn probe_key(&mut self, e: &'a Entry, alive: bool) -> Result<(), UnitFileError> {
        let prefix = if alive {
            "X-Devctl-Alive"
        } else {
            "X-Devctl-Ready"
        };
        let knob = &e.key[prefix.len()..];
        if knob.is_empty() {
            let check = values::parse_check(&e.value).map_err(|err| self.value_error(e, err))?;
            if alive && matches!(check, ProbeCheck::Log { .. } | ProbeCheck::Notify) {
                return Err(self.bad(
                    e,
                    "an `exec`, `http` or `tcp` check (log and notify are readiness-only)",
                ));
            }
            let parts = if alive {
                &mut self.alive
            } else {
                &mut self.ready
            };
            parts.check = Some(check);
            return Ok(());
        }
        let Some(i) = PROBE_KNOBS.iter().position(|k| *k == knob) else {
            let known: Vec<&'static str> = SERVICE_KEYS.iter().chain(PROBE_KEYS).copied().collect();
            return Err(self.unknown_key("Service", e, &known));
        };
        let value = if i >= 3 {
            u64::from(self.number::<u32>(e, "a count (0-4294967295)")?)
        } else {
            u64::try_from(self.duration(e)?.as_nanos())
                .map_err(|_| self.bad(e, "a duration under 584 years"))?
        };
        let parts = if alive {
            &mut self.alive
        } else {
            &mut self.ready
        };
        parts.knobs[i] = Some((e, value));
        Ok(())
    }

    fn service_key(&mut self, e: &'a Entry) -> Result<(), UnitFileError> {
        let key = e.key.as_str();
        if let Some(alive) = [("X-Devctl-Ready", false), ("X-Devctl-Alive", true)]
            .into_iter()
            .find(|(p, _)| key.starts_with(p))
            .map(|(_, a)| a)
        {
            self.once("Service", e)?;
            return self.probe_key(e, alive);
        }
        let multi = matches!(
            key,
            "Environment"
                | "EnvironmentFile"
                | "X-Devctl-Port"
                | "X-Devctl-Link"
                | "X-Devctl-Watch"
                | "X-Devctl-Watch-Ignore"
        );
        if !multi && SERVICE_KEYS.contains(&key) {
            self.once("Service", e)?;
        }
        match key {
            "Type" => {
                if values::service_type(&self.unit).is_none() {
                    let kind = self.unit.kind.as_str();
                    return Err(self.bad(
                        e,
                        format!("no `Type=` in a {kind} unit (devctl decides how it runs)"),
                    ));
                }
                self.type_entry = Some(e);
            }
            "X-Devctl-Shell" => self.shell = self.boolean(e)?,
            "ExecStart" => {
                let argv = escape::split_command(&e.value).map_err(|err| self.quoting(e, err))?;
                self.exec_start = Some((e, argv));
            }
            "WorkingDirectory" => self.unit.dir = Some(self.path(e)?),
            "Environment" | "EnvironmentFile" if self.unit.kind != UnitKind::Container => {
                self.env_key(e)?
            }
            "PIDFile" => self.unit.pid_file = Some(self.path(e)?),
            "ExecStop" => {
                let argv = escape::split_command(&e.value).map_err(|err| self.quoting(e, err))?;
                self.unit.stop.command = Some(argv);
            }
            "KillSignal" => {
                let sig = Signal::parse(&e.value);
                let names: Vec<&str> = Signal::names().collect();
                self.unit.stop.signal =
                    sig.ok_or_else(|| self.bad(e, format!("a signal: {}", names.join(", "))))?;
            }
            "TimeoutStopSec" => self.unit.stop.timeout = self.duration(e)?,
            "TimeoutStartSec" => self.unit.start_timeout = Some(self.duration(e)?),
            "RuntimeMaxSec" => self.unit.run_timeout = Some(self.duration(e)?),
            "X-Devctl-Idle-Timeout" => self.unit.idle_timeout = Some(self.duration(e)?),
            "Restart" => {
                let mode = RestartMode::parse(&e.value);
                self.unit.restart.mode =
                    mode.ok_or_else(|| self.bad(e, "`no`, `on-failure` or `always`"))?;
            }
            "RestartSec" => self.unit.restart.backoff = self.duration(e)?,
            "RestartMaxDelaySec" => self.unit.restart.max_delay = self.duration(e)?,
            "X-Devctl-Reset-After" => self.unit.restart.reset_after = self.duration(e)?,
            "X-Devctl-Port" => {
                let port = self.number(e, "a port number (0-65535)")?;
                self.unit.ports.push(port);
            }
            "X-Devctl-Link" => {
                let link = self.single(e)?;
                self.unit.links.push(link);
            }
            "X-Devctl-Watch" => {
                let glob = self.single(e)?;
                self.unit.watch.paths.push(glob);
            }
            "X-Devctl-Watch-Ignore" => {
                let glob = self.single(e)?;
                self.unit.watch.ignore.push(glob);
            }
            "X-Devctl-Watch-Trigger" => {
                self.unit.watch.trigger = match e.value.as_str() {
                    "auto" => TriggerMode::Auto,
                    "manual" => TriggerMode::Manual,
                    _ => return Err(self.bad(e, "`auto` or `manual`")),
                }
            }
            "X-Devctl-Schedule" | "X-Devctl-Every" if self.unit.schedule.is_some() => {
                return Err(self.bad(e, "one schedule: `X-Devctl-Schedule=` or `X-Devctl-Every=`"));
            }
            "X-Devctl-Schedule" => {
                let pattern = self.single(e)?;
                let s = pattern.parse::<Schedule>();
                self.unit.schedule =
                    Some(s.map_err(|err| self.bad(e, format!("a cron pattern ({err})")))?);
            }
            "X-Devctl-Every" => {
                let s = Schedule::every(self.duration(e)?);
                self.unit.schedule =
                    Some(s.map_err(|err| self.bad(e, format!("an interval ({err})")))?);
            }
            "X-Devctl-On-Commit" => self.unit.on_commit = self.boolean(e)?,
            "X-Devctl-Always-Run" => self.unit.always_run = self.boolean(e)?,
            "X-Devctl-Log-Max-Size" => {
                let (min, max) = (LogSpec::MIN_SIZE, LogSpec::MAX_SIZE);
                let expected = format!(
                    "a size from {} to {} such as `16MiB`",
                    size::format(min),
                    size::format(max)
                );
                let b = size::parse(&e.value).map_err(|_| self.bad(e, &expected))?;
                if !(min..=max).contains(&b) {
                    return Err(self.bad(e, expected));
                }
                self.unit.logs.max_size = Some(b);
            }
            "X-Devctl-Log-Files" => {
                let expected = format!("a count from 1 to {}", LogSpec::MAX_FILES);
                let n: u32 = self.number(e, &expected)?;
                if !(1..=LogSpec::MAX_FILES).contains(&n) {
                    return Err(self.bad(e, expected));
                }
                self.unit.logs.files = Some(n);
            }
            "X-Devctl-Log-Max-Age" => {
                let d = self.duration(e)?;
                if d.is_zero() {
                    return Err(self.bad(e, "a duration longer than zero"));
                }
                self.unit.logs.max_age = Some(d);
            }
            _ => return Err(self.unknown_key("Service", e, SERVICE_KEYS)),
        }
        Ok(())
    }

    fn install_key(&mut self, e: &'a Entry) -> Result<(), UnitFileError> {
        if e.key != "WantedBy" {
            return Err(self.unknown_key("Install", e, INSTALL_KEYS));
        }
        self.once("Install", e)?;
        let want = wanted_by(&self.unit);
        if e.value != want {
            return Err(self.bad(e, format!("`{want}`")));
        }
        self.unit.enabled = true;
        Ok(())
    }

    fn finish_probe(
        &self,
        parts: ProbeParts<'a>,
        alive: bool,
    ) -> Result<Option<Probe>, UnitFileError> {
        let key = if alive {
            "X-Devctl-Alive"
        } else {
            "X-Devctl-Ready"
        };
        let Some(check) = parts.check else {
            if let Some((e, _)) = parts.knobs.iter().flatten().next() {
                let kind = ErrorKind::MissingKey {
                    section: "Service",
                    key,
                };
                return Err(self.fail(e.key_offset, e.key.len(), kind));
            }
            return Ok(None);
        };
        let mut p = if alive {
            Probe::liveness(check)
        } else {
            Probe::readiness(check)
        };
        let k = parts.knobs.map(|k| k.map(|(_, v)| v));
        let d = |v: Option<u64>, default: Duration| v.map_or(default, Duration::from_nanos);
        p.period = d(k[0], p.period);
        p.timeout = d(k[1], p.timeout);
        p.initial_delay = d(k[2], p.initial_delay);
        p.success_threshold = k[3].map_or(p.success_threshold, |v| v as u32);
        p.failure_threshold = k[4].map_or(p.failure_threshold, |v| v as u32);
        Ok(Some(p))
    }

    fn finish(mut self, file: &UnitFile) -> Result<Unit, UnitFileError> {
        let ready = std::mem::take(&mut self.ready);
        let alive = std::mem::take(&mut self.alive);
        self.unit.ready = self.finish_probe(ready, false)?;
        self.unit.alive = self.finish_probe(alive, true)?;

        let kind = self.unit.kind;
        match self.exec_start.take() {
            Some((e, argv)) => {
                self.unit.command = Some(
                    values::command_from(argv, self.shell)
                        .map_err(|err| self.value_error(e, err))?,
                );
            }
            None if self.shell
                || matches!(kind, UnitKind::Service | UnitKind::Daemon | UnitKind::Build) =>
            {
                let at = file.section("Service").map_or(0, |s| s.offset);
                return Err(self.fail(
                    at,
                    0,
                    ErrorKind::MissingKey {
                        section: "Service",
                        key: "ExecStart",
                    },
                ));
            }
            None => {}
        }
        if let (Some(e), Some(want)) = (self.type_entry, values::service_type(&self.unit))
            && e.value != want
        {
            return Err(self.bad(e, format!("`{want}` for this {} unit", kind.as_str())));
        }

        for (e, name, cond) in std::mem::take(&mut self.until) {
            let Some(dep) = self.unit.deps.iter_mut().find(|d| d.unit == name) else {
                return Err(self.bad(e, "`UNIT:CONDITION` for a unit listed in Requires=/Wants="));
            };
            dep.until = cond;
        }
        if let Some((e, names)) = &self.after {
            let deps: Vec<&str> = self.unit.deps.iter().map(|d| d.unit.as_str()).collect();
            if *names != deps {
                return Err(self.bad(
                    e,
                    format!(
                        "the units of Requires=/Wants= in order: `{}`",
                        deps.join(" ")
                    ),
                ));
            }
        }

        match (self.build_context.take(), self.build_dockerfile.take()) {
            (Some((_, context)), Some((_, dockerfile))) => {
                self.container().build = Some(ImageBuild {
                    context,
                    dockerfile,
                });
            }
            (Some((e, _)), None) | (None, Some((e, _))) => {
                let key = if e.key == "X-Devctl-Build-Context" {
                    "X-Devctl-Build-Dockerfile"
                } else {
                    "X-Devctl-Build-Context"
                };
                return Err(self.fail(
                    e.key_offset,
                    e.key.len(),
                    ErrorKind::MissingKey {
                        section: "Container",
                        key,
                    },
                ));
            }
            (None, None) => {}
        }
        if self.unit.container.is_some() && !self.image {
            let at = file.section("Container").map_or(0, |s| s.offset);
            return Err(self.fail(
                at,
                11,
                ErrorKind::MissingKey {
                    section: "Container",
                    key: "Image",
                },
            ));
        }
        if kind == UnitKind::Container && self.unit.container.is_none() {
            return Err(self.fail(
                0,
                0,
                ErrorKind::MissingKey {
                    section: "Container",
                    key: "Image",
                },
            ));
        }
        if kind == UnitKind::Kubernetes && self.unit.kubernetes.is_none() {
            return Err(self.fail(
                0,
                0,
                ErrorKind::MissingKey {
                    section: "Kube",
                    key: "Yaml",
                },
            ));
        }
        Ok(self.unit)
    }
}
