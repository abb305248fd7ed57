//! What an importer produces: a draft of a `devctl.kdl` (units with the
//! settings devctl has, each remembering where in the source file it came
//! from) and the warnings for what the source says that devctl cannot.
//! [`super::write`] turns a draft into KDL text.

use std::fmt;

/// One source file's translation.
#[derive(Debug, Default)]
pub struct Draft {
    /// The format, for the header comment ("Procfile", "docker-compose.yml").
    pub format: &'static str,
    pub project: Option<String>,
    pub units: Vec<UnitDraft>,
    pub groups: Vec<GroupDraft>,
    pub warnings: Vec<ImportWarning>,
}

impl Draft {
    pub fn new(format: &'static str) -> Draft {
        Draft {
            format,
            ..Draft::default()
        }
    }

    /// Record something the source says that the manifest does not.
    pub fn warn(&mut self, line: usize, unit: Option<&str>, message: impl Into<String>) {
        self.warnings.push(ImportWarning {
            line,
            unit: unit.map(str::to_owned),
            message: message.into(),
        });
    }

    pub fn unit_mut(&mut self, name: &str) -> Option<&mut UnitDraft> {
        self.units.iter_mut().find(|u| u.name == name)
    }
}

/// Something of the source that is not (or not exactly) in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportWarning {
    /// 1-based line in the source file.
    pub line: usize,
    /// The unit it concerns.
    pub unit: Option<String>,
    pub message: String,
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.unit {
            Some(u) => write!(f, "line {}: {u}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Unit kinds an import can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Service,
    Build,
    Container,
}

impl Kind {
    pub fn node(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Build => "build",
            Kind::Container => "container",
        }
    }
}

/// How a process is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    /// `run PROGRAM ARG…`
    Argv(Vec<String>),
    /// `sh SCRIPT`
    Shell(String),
}

/// `requires`/`wants` with an ordering condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    pub unit: String,
    /// `started`, `ready` or `succeeded`; `None` is the kind's default.
    pub until: Option<&'static str>,
    /// Best effort (`wants`) rather than `requires`.
    pub weak: bool,
}

/// A probe check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Exec(Vec<String>),
    Http { url: String },
    Tcp { port: u16, host: Option<String> },
    Log(String),
}

/// A `ready { … }` or `alive { … }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeDraft {
    pub check: Check,
    /// Durations in devctl's spelling ("5s", "500ms").
    pub period: Option<String>,
    pub timeout: Option<String>,
    pub initial_delay: Option<String>,
    pub success_threshold: Option<u32>,
    pub failure_threshold: Option<u32>,
}

impl ProbeDraft {
    pub fn new(check: Check) -> ProbeDraft {
        ProbeDraft {
            check,
            period: None,
            timeout: None,
            initial_delay: None,
            success_threshold: None,
            failure_threshold: None,
        }
    }
}

/// `restart MODE [backoff=…] [limit=…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartDraft {
    pub mode: &'static str,
    pub backoff: Option<String>,
    pub limit: Option<u32>,
}

/// `publish PORT [host=…] [ip=…] [protocol=…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub container: u16,
    pub host: Option<u16>,
    pub ip: Option<String>,
    pub udp: bool,
}

/// `volume SOURCE TARGET [read-only=#true]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub source: String,
    pub target: String,
    pub read_only: bool,
}

/// The container half of a unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerDraft {
    pub image: String,
    /// Build context and Dockerfile (relative to the context).
    pub build: Option<(String, Option<String>)>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub publish: Vec<Publish>,
    pub volumes: Vec<Volume>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub network: Option<String>,
    /// Wait for the image's own HEALTHCHECK (`healthcheck #true`).
    pub healthcheck: bool,
}

/// One unit of the manifest to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitDraft {
    pub kind: Kind,
    pub name: String,
    /// Where it came from: "Procfile line 3", "services.web (line 12)".
    pub origin: String,
    pub description: Option<String>,
    pub command: Option<Cmd>,
    pub dir: Option<String>,
    pub env: Vec<(String, String)>,
    /// Path and whether it may be missing.
    pub env_files: Vec<(String, bool)>,
    pub ports: Vec<u16>,
    pub deps: Vec<Dep>,
    pub ready: Option<ProbeDraft>,
    pub alive: Option<ProbeDraft>,
    pub restart: Option<RestartDraft>,
    /// `stop signal=… timeout=…`.
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<String>,
    pub enabled: bool,
    pub container: Option<ContainerDraft>,
}

impl UnitDraft {
    pub fn new(kind: Kind, name: &str, origin: String) -> UnitDraft {
        UnitDraft {
            kind,
            name: name.to_owned(),
            origin,
            description: None,
            command: None,
            dir: None,
            env: Vec::new(),
            env_files: Vec::new(),
            ports: Vec::new(),
            deps: Vec::new(),
            ready: None,
            alive: None,
            restart: None,
            stop_signal: None,
            stop_timeout: None,
            enabled: true,
            container: None,
        }
    }
}

/// `group NAME { units … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDraft {
    pub name: String,
    pub origin: String,
    pub description: Option<String>,
    pub units: Vec<String>,
}

/// A name devctl accepts (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most 64), made
/// from `raw` by replacing other characters with `-`; `None` if nothing
/// usable is left.
pub fn unit_name(raw: &str) -> Option<String> {
    let mut s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    while s.starts_with(['-', '_', '.']) {
        s.remove(0);
    }
    for suffix in [".service", ".target", ".container", ".kube", ".socket"] {
        if let Some(stem) = s.strip_suffix(suffix) {
            s = format!("{stem}-{}", &suffix[1..]);
        }
    }
    s.truncate(64);
    (!s.is_empty()).then_some(s)
}

/// Seconds as a devctl duration ("5s"); `None` for zero or negative.
pub fn seconds(s: f64) -> Option<String> {
    if s.is_nan() || s <= 0.0 || !s.is_finite() {
        return None;
    }
    let ms = (s * 1000.0).round() as u64;
    Some(if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_valid() {
        assert_eq!(unit_name("web").as_deref(), Some("web"));
        assert_eq!(unit_name("web worker").as_deref(), Some("web-worker"));
        assert_eq!(unit_name("_x").as_deref(), Some("x"));
        assert_eq!(unit_name("a.service").as_deref(), Some("a-service"));
        assert_eq!(unit_name("///"), None);
        assert_eq!(unit_name(&"a".repeat(80)).map(|s| s.len()), Some(64));
    }

    #[test]
    fn seconds_become_durations() {
        assert_eq!(seconds(5.0).as_deref(), Some("5s"));
        assert_eq!(seconds(0.25).as_deref(), Some("250ms"));
        assert_eq!(seconds(0.0), None);
    }
}
