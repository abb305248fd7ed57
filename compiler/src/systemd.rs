//! `--target systemd`: plain systemd user units for a compiled project.
//!
//! - File names are prefixed with the project (`pizzeria-paulie.service`,
//!   `pizzeria-backend.target`, `pizzeria.target`) so projects never collide.
//! - service → `Type=simple` (`notify` with a notify readiness check),
//!   daemon → `Type=forking` + `PIDFile=` + `ExecStop=`, build →
//!   `Type=oneshot` + `RemainAfterExit=yes`, container → `docker run`/`docker
//!   stop`, kubernetes → `kubectl apply`/`kubectl delete` one-shots, groups
//!   and the project → targets.
//! - `requires` → `BindsTo=` + `After=` (devctl stops dependents when a
//!   required unit stops), `wants` → `Wants=` + `After=`.
//! - exec/http/tcp readiness → `ExecStartPost=/ABSOLUTE/PATH/devctl probe …`
//!   (see [`probe_argv`]). The caller names the devctl binary: the user
//!   manager's `PATH` rarely holds where devctl was installed
//!   (`~/.cargo/bin`), so a gate found through `PATH` would fail with 127.
//! - Programs that are not absolute paths run through `/usr/bin/env`, so they
//!   are found on `PATH` at start time and relative to the working
//!   directory, as devctl does.
//! - Whatever systemd cannot express becomes a [`Warning`] naming the unit
//!   and the setting.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use devctl_units::duration::format as dur;
use devctl_units::escape::{Context, join, join_command};
use devctl_units::{
    Command, DepCondition, DepKind, Probe, ProbeCheck, RestartMode, TriggerMode, Unit, UnitKind,
};

use crate::Compiled;
use crate::error::Warning;

/// The files of a systemd export, and what they could not express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemdOutput {
    /// File name → unit file text.
    pub files: BTreeMap<String, String>,
    pub warnings: Vec<Warning>,
}

/// A single-value setting (`Description=`, `WorkingDirectory=`, paths):
/// systemd takes these verbatim, expanding only `%` specifiers. The compiler
/// has refused control characters in every such value.
fn raw(s: &str) -> String {
    s.replace('%', "%%")
}

/// Program used to run non-absolute commands.
const ENV: &str = "/usr/bin/env";

/// The `devctl probe` command line for a readiness probe, or `None` for
/// checks it does not run (`log`, `notify`). Grammar:
///
/// ```text
/// devctl probe tcp HOST PORT [OPTIONS]
/// devctl probe http URL [--status CODE] [OPTIONS]
/// devctl probe exec [OPTIONS] -- PROGRAM [ARG]...
/// OPTIONS: --period DURATION --timeout DURATION --initial-delay DURATION
///          --success-threshold N
/// ```
///
/// It waits `initial-delay`, then runs a check every `period`, each bounded
/// by `timeout`, and exits 0 after `success-threshold` consecutive
/// successes. Failures are retried until it is killed (systemd's
/// `TimeoutStartSec=` bounds the wait). Exit 2 on a usage error.
pub fn probe_argv(p: &Probe) -> Option<Vec<String>> {
    let mut v: Vec<String> = vec!["devctl".into(), "probe".into()];
    let opts = [
        ("--period".to_owned(), dur(p.period)),
        ("--timeout".to_owned(), dur(p.timeout)),
        ("--initial-delay".to_owned(), dur(p.initial_delay)),
        (
            "--success-threshold".to_owned(),
            p.success_threshold.to_string(),
        ),
    ];
    let flat = opts.into_iter().flat_map(|(k, val)| [k, val]);
    match &p.check {
        ProbeCheck::Tcp { host, port } => {
            v.extend(["tcp".into(), host.clone(), port.to_string()]);
            v.extend(flat);
        }
        ProbeCheck::Http { url, status } => {
            v.extend(["http".into(), url.clone()]);
            if let Some(s) = status {
                v.extend(["--status".into(), s.to_string()]);
            }
            v.extend(flat);
        }
        ProbeCheck::Exec(argv) => {
            v.push("exec".into());
            v.extend(flat);
            v.push("--".into());
            v.extend(argv.iter().cloned());
        }
        ProbeCheck::Log { .. } | ProbeCheck::Notify => return None,
    }
    Some(v)
}

/// The systemd file name of a unit.
pub fn file_name(c: &Compiled, u: &Unit) -> String {
    match u.kind {
        UnitKind::Project => format!("{}.target", c.project),
        UnitKind::Group => format!("{}-{}.target", c.project, u.name),
        _ => format!("{}-{}.service", c.project, u.name),
    }
}

/// Emit systemd user units for every unit of the project. `devctl` is the
/// absolute path of the devctl binary that readiness gates
/// (`ExecStartPost=`) run; the compiler never looks it up itself, so the
/// output stays a pure function of its inputs.
pub fn emit_systemd(c: &Compiled, devctl: &Path) -> SystemdOutput {
    let mut out = SystemdOutput {
        files: BTreeMap::new(),
        warnings: Vec::new(),
    };
    for u in &c.units {
        let text = Emitter {
            c,
            u,
            devctl,
            text: String::new(),
            warnings: &mut out.warnings,
        }
        .unit();
        out.files.insert(file_name(c, u), text);
    }
    out
}

struct Emitter<'a> {
    c: &'a Compiled,
    u: &'a Unit,
    devctl: &'a Path,
    text: String,
    warnings: &'a mut Vec<Warning>,
}

impl Emitter<'_> {
    fn kv(&mut self, key: &str, value: &str) {
        let _ = writeln!(self.text, "{key}={value}");
    }

    fn warn(&mut self, setting: &str, what: &str) {
        self.warnings.push(Warning::unit(
            self.u.name.as_str(),
            format!("`{setting}` is not expressed in systemd units: {what}"),
            None,
        ));
    }

    fn name_of(&self, unit: &str) -> String {
        self.c.unit(unit).map_or_else(
            || format!("{}-{unit}.service", self.c.project),
            |t| file_name(self.c, t),
        )
    }

    fn unit(mut self) -> String {
        let u = self.u;
        let source = u
            .source
            .clone()
            .unwrap_or_else(|| self.c.root.join("devctl.kdl").display().to_string());
        let _ = writeln!(
            self.text,
            "# Generated by `devctl compile --target systemd` from {}",
            source.replace(['\n', '\r'], " ")
        );
        self.text.push_str("[Unit]\n");
        let desc = u
            .description
            .clone()
            .unwrap_or_else(|| format!("{} {} ({})", u.kind.as_str(), u.name, self.c.project));
        self.kv("Description", &raw(&desc));
        match u.kind {
            UnitKind::Project => {
                for m in &u.members {
                    if self.c.unit(m.as_str()).is_some_and(|t| t.enabled) {
                        let n = self.name_of(m.as_str());
                        self.kv("Wants", &n);
                    }
                }
                self.text.push_str("\n[Install]\nWantedBy=default.target\n");
                return self.text;
            }
            UnitKind::Group => {
                for m in &u.members {
                    let n = self.name_of(m.as_str());
                    self.kv("Wants", &n);
                    self.kv("After", &n);
                }
                let p = format!("{}.target", self.c.project);
                self.kv("PartOf", &p);
                return self.text;
            }
            _ => {}
        }
        self.deps();
        let p = format!("{}.target", self.c.project);
        self.kv("PartOf", &p);
        if u.restart.mode != RestartMode::No {
            self.kv("StartLimitIntervalSec", &dur(u.restart.within));
            self.kv("StartLimitBurst", &u.restart.limit.to_string());
        }
        self.text.push_str("\n[Service]\n");
        match u.kind {
            UnitKind::Container => self.container(),
            UnitKind::Kubernetes => self.kubernetes(),
            _ => self.process(),
        }
        self.common();
        let _ = write!(
            self.text,
            "\n[Install]\nWantedBy={}.target\n",
            self.c.project
        );
        self.text
    }

    fn deps(&mut self) {
        for d in &self.u.deps {
            let n = self.name_of(d.unit.as_str());
            let key = if d.kind == DepKind::Requires {
                "BindsTo"
            } else {
                "Wants"
            };
            self.kv(key, &n);
            self.kv("After", &n);
            let target_has_ready = self
                .c
                .unit(d.unit.as_str())
                .is_some_and(|t| t.ready.is_some());
            if d.until == DepCondition::Started && target_has_ready {
                let setting = format!("requires/wants \"{}\" until=\"started\"", d.unit);
                self.warn(
                    &setting,
                    "systemd orders after the dependency is ready, not merely started",
                );
            }
        }
    }

    fn command_line(argv: &[String]) -> String {
        if argv.first().is_some_and(|p| p.starts_with('/')) {
            join_command(argv)
        } else {
            let mut v = vec![ENV.to_owned()];
            v.extend(argv.iter().cloned());
            join_command(&v)
        }
    }

    fn process(&mut self) {
        let u = self.u;
        let ty = match u.kind {
            UnitKind::Daemon => "forking",
            UnitKind::Build => "oneshot",
            _ if matches!(u.ready.as_ref().map(|p| &p.check), Some(ProbeCheck::Notify)) => "notify",
            _ => "simple",
        };
        self.kv("Type", ty);
        if u.kind == UnitKind::Build {
            self.kv("RemainAfterExit", "yes");
        }
        if let Some(cmd) = &u.command {
            let argv = match cmd {
                Command::Argv(v) => v.clone(),
                Command::Shell(s) => vec!["/bin/sh".into(), "-c".into(), s.clone()],
            };
            let line = Self::command_line(&argv);
            self.kv("ExecStart", &line);
        }
        self.kv(
            "WorkingDirectory",
            &raw(&u.working_dir().display().to_string()),
        );
        for (k, v) in &u.env {
            self.kv("Environment", &join(&[format!("{k}={v}")], Context::Plain));
        }
        for f in &u.env_files {
            let path = f.path.display().to_string();
            let value = if f.optional { format!("-{path}") } else { path };
            self.kv("EnvironmentFile", &raw(&value));
        }
        if let Some(p) = &u.pid_file {
            self.kv("PIDFile", &raw(&p.display().to_string()));
        }
        if let Some(stop) = &u.stop.command {
            let line = Self::command_line(stop);
            self.kv("ExecStop", &line);
        }
        if let Some(t) = u.run_timeout {
            self.kv("TimeoutStartSec", &dur(t));
        }
        if u.idle_timeout.is_some() {
            self.warn(
                "timeout idle-timeout=",
                "systemd has no timeout on output silence",
            );
        }
    }

    fn container(&mut self) {
        let u = self.u;
        let Some(spec) = &u.container else { return };
        let cname = format!("{}-{}", self.c.project, u.name);
        self.kv("Type", "simple");
        let rm = Self::command_line(&["docker".into(), "rm".into(), "-f".into(), cname.clone()]);
        self.kv("ExecStartPre", &format!("-{rm}"));
        if let Some(b) = &spec.build {
            let argv = vec![
                "docker".into(),
                "build".into(),
                "-t".into(),
                spec.image.clone(),
                "-f".into(),
                b.context.join(&b.dockerfile).display().to_string(),
                b.context.display().to_string(),
            ];
            let line = Self::command_line(&argv);
            self.kv("ExecStartPre", &line);
        }
        let mut run: Vec<String> = vec![
            "docker".into(),
            "run".into(),
            "--rm".into(),
            "--name".into(),
            cname.clone(),
        ];
        run.extend([
            "--label".into(),
            format!("devctl.project={}", self.c.project),
            "--label".into(),
            format!("devctl.unit={}", u.name),
        ]);
        for f in &u.env_files {
            if f.optional {
                self.warn(
                    "env-file optional=#true",
                    "docker requires the file to exist; it is passed as a required --env-file",
                );
            }
            run.extend(["--env-file".into(), f.path.display().to_string()]);
        }
        for (k, v) in &u.env {
            run.extend(["-e".into(), format!("{k}={v}")]);
        }
        for p in &spec.publish {
            let ip = p.host_ip.as_deref().unwrap_or("127.0.0.1");
            let ip = if ip.contains(':') {
                format!("[{ip}]")
            } else {
                ip.to_owned()
            };
            let host = p.host_port.unwrap_or(p.container_port);
            run.extend([
                "-p".into(),
                format!("{ip}:{host}:{}/{}", p.container_port, p.protocol),
            ]);
        }
        for v in &spec.volumes {
            let ro = if v.read_only { ":ro" } else { "" };
            run.extend(["-v".into(), format!("{}:{}{ro}", v.source, v.target)]);
        }
        let opts = [
            ("-w", &spec.workdir),
            ("-u", &spec.user),
            ("--network", &spec.network),
        ];
        for (flag, val) in opts {
            if let Some(val) = val {
                run.extend([flag.to_owned(), val.clone()]);
            }
        }
        run.extend(["--stop-signal".into(), u.stop.signal.name().to_owned()]);
        let mut tail: Vec<String> = Vec::new();
        if let Some(ep) = &spec.entrypoint {
            run.extend(["--entrypoint".into(), ep[0].clone()]);
            tail.extend(ep[1..].iter().cloned());
        }
        run.push(spec.image.clone());
        run.extend(tail);
        if let Some(cmd) = &spec.command {
            run.extend(cmd.iter().cloned());
        }
        let line = Self::command_line(&run);
        self.kv("ExecStart", &line);
        let secs = u.stop.timeout.as_secs().max(1).to_string();
        let stop = Self::command_line(&["docker".into(), "stop".into(), "-t".into(), secs, cname]);
        self.kv("ExecStop", &stop);
        if spec.healthcheck {
            self.warn("healthcheck", "the image's HEALTHCHECK is not waited for");
        }
    }

    fn kubernetes(&mut self) {
        let u = self.u;
        let Some(k) = &u.kubernetes else { return };
        self.kv("Type", "oneshot");
        self.kv("RemainAfterExit", "yes");
        let mut base: Vec<String> = vec!["kubectl".into()];
        if let Some(p) = &k.kubeconfig {
            base.extend(["--kubeconfig".into(), p.display().to_string()]);
        }
        if let Some(ctx) = &k.context {
            base.extend(["--context".into(), ctx.clone()]);
        }
        if let Some(ns) = &k.namespace {
            base.extend(["--namespace".into(), ns.clone()]);
        }
        let files: Vec<String> = k
            .manifests
            .iter()
            .flat_map(|m| ["-f".to_owned(), m.display().to_string()])
            .collect();
        let mut apply = base.clone();
        apply.extend(["apply".into(), "--server-side".into()]);
        apply.extend(files.iter().cloned());
        let mut delete = base;
        delete.extend(["delete".into(), "--ignore-not-found".into()]);
        delete.extend(files);
        let (a, d) = (Self::command_line(&apply), Self::command_line(&delete));
        self.kv("ExecStart", &a);
        self.kv("ExecStop", &d);
        for pf in &k.port_forwards {
            let s = format!("port-forward \"{}\" {}", pf.resource, pf.local_port);
            self.warn(&s, "run `kubectl port-forward` yourself, or use devctl");
        }
        for i in &k.images {
            let s = format!("image \"{}\"", i.name);
            self.warn(
                &s,
                "the image is not built and the manifests are applied as written",
            );
        }
    }

    /// Settings shared by every runnable kind.
    fn common(&mut self) {
        let u = self.u;
        if u.kind != UnitKind::Container && u.kind != UnitKind::Kubernetes {
            self.kv("KillSignal", u.stop.signal.name());
        }
        self.kv("TimeoutStopSec", &dur(u.stop.timeout));
        if let Some(t) = u.start_timeout {
            self.kv("TimeoutStartSec", &dur(t));
        }
        if u.kind != UnitKind::Build && u.kind != UnitKind::Kubernetes {
            self.kv("Restart", u.restart.mode.as_str());
            if u.restart.mode != RestartMode::No {
                self.kv("RestartSec", &dur(u.restart.backoff));
            }
        }
        if let Some(p) = &u.ready {
            match (probe_argv(p), &p.check) {
                (Some(mut argv), _) => {
                    argv[0] = self.devctl.display().to_string();
                    let line = Self::command_line(&argv);
                    self.kv("ExecStartPost", &line);
                }
                (None, ProbeCheck::Log { .. }) => self.warn(
                    "ready { log … }",
                    "the unit counts as ready as soon as it has started",
                ),
                (None, _) => {}
            }
            if u.kind == UnitKind::Kubernetes {
                self.warn("ready", "pod readiness is not waited for");
            }
        }
        if u.alive.is_some() {
            self.warn(
                "alive",
                "systemd has no liveness probes; a hung process is not restarted",
            );
        }
        if !u.watch.is_empty() {
            let manual = if u.watch.trigger == TriggerMode::Manual {
                " (trigger \"manual\")"
            } else {
                ""
            };
            self.warn(
                &format!("watch{manual}"),
                "file changes do not restart or re-run the unit",
            );
        }
        if let Some(s) = &u.schedule {
            self.warn(
                &s.describe(),
                "not exported: write a systemd .timer for the unit to run it on a schedule",
            );
        }
        if u.on_commit {
            self.warn("on-commit", "commits do not re-run the unit");
        }
        if !u.logs.is_empty() {
            self.warn(
                "logs",
                "journald keeps the unit's output; set its limits in journald.conf(5)",
            );
        }
    }
}
