//! `Unit` → unit file. Every value passes through `escape`; the output is
//! deterministic (fields in a fixed order, lists in model order).

use std::path::Path;
use std::time::Duration;

use super::values::{self, fmt_bool};
use crate::duration;
use crate::escape::{self, Context};
use crate::file::{Section, UnitFile};
use crate::model::{
    Command, ContainerSpec, DepCondition, DepKind, KubeReadiness, KubeSpec, Probe, RestartPolicy,
    StopSpec, TriggerMode, Unit, UnitKind,
};
use crate::schedule::Schedule;

fn plain(s: &str) -> String {
    escape::quote_value(s, Context::Plain)
}

fn path(p: &Path) -> String {
    plain(&p.to_string_lossy())
}

fn dur(d: Duration) -> String {
    duration::format(d)
}

/// The generic unit file for a unit (see the key table in `convert`).
pub fn to_file(unit: &Unit) -> UnitFile {
    let mut file = UnitFile::new();
    let write_restart =
        unit.kind.is_runnable() || unit.restart != RestartPolicy::default_for(unit.kind);
    let write_stop = unit.kind.is_runnable() || unit.stop != StopSpec::default();

    file.sections.push(unit_section(unit, write_restart));
    if let Some(c) = &unit.container {
        file.sections.push(container_section(unit, c));
    }
    if let Some(k) = &unit.kubernetes {
        file.sections.push(kube_section(k));
    }
    let service = service_section(unit, write_restart, write_stop);
    if !service.entries.is_empty() {
        file.sections.push(service);
    }
    if unit.enabled {
        let mut install = Section::new("Install");
        install.push("WantedBy", wanted_by(unit));
        file.sections.push(install);
    }
    file
}

/// The `WantedBy=` that marks a unit enabled by default.
pub(crate) fn wanted_by(unit: &Unit) -> String {
    match unit.kind {
        UnitKind::Project => "default.target".to_string(),
        _ => format!("{}.target", unit.project),
    }
}

fn unit_section(unit: &Unit, write_restart: bool) -> Section {
    let mut s = Section::new("Unit");
    if let Some(d) = &unit.description {
        s.push("Description", plain(d));
    }
    s.push("X-Devctl-Kind", unit.kind.as_str());
    s.push("X-Devctl-Project", unit.project.as_str());
    s.push("X-Devctl-Root", path(&unit.root));
    if let Some(src) = &unit.source {
        s.push("X-Devctl-Source", plain(src));
    }
    for dep in &unit.deps {
        let key = match dep.kind {
            DepKind::Requires => "Requires",
            DepKind::Wants => "Wants",
        };
        s.push(key, dep.unit.as_str());
    }
    if !unit.deps.is_empty() {
        let names: Vec<&str> = unit.deps.iter().map(|d| d.unit.as_str()).collect();
        s.push("After", names.join(" "));
    }
    for dep in unit.deps.iter().filter(|d| d.until != DepCondition::Ready) {
        s.push(
            "X-Devctl-Until",
            format!("{}:{}", dep.unit, dep.until.as_str()),
        );
    }
    for m in &unit.members {
        s.push("X-Devctl-Member", m.as_str());
    }
    if write_restart {
        s.push("StartLimitBurst", unit.restart.limit.to_string());
        s.push("StartLimitIntervalSec", dur(unit.restart.within));
    }
    s
}

fn env_entries(unit: &Unit, s: &mut Section) {
    for (k, v) in &unit.env {
        s.push(
            "Environment",
            escape::join(&[format!("{k}={v}")], Context::Plain),
        );
    }
    for f in &unit.env_files {
        let value = if f.optional {
            format!("-{}", path(&f.path))
        } else {
            let p = f.path.to_string_lossy();
            // A leading `-` would read as "optional": quote it.
            if p.starts_with('-') {
                escape::quoted(&p, Context::Plain)
            } else {
                plain(&p)
            }
        };
        s.push("EnvironmentFile", value);
    }
}

fn service_section(unit: &Unit, write_restart: bool, write_stop: bool) -> Section {
    let mut s = Section::new("Service");
    if let Some(t) = values::service_type(unit) {
        s.push("Type", t);
    }
    match &unit.command {
        Some(Command::Argv(argv)) => s.push("ExecStart", escape::join_command(argv)),
        Some(Command::Shell(script)) => {
            s.push("X-Devctl-Shell", fmt_bool(true));
            s.push(
                "ExecStart",
                escape::join_command(&values::shell_argv(script)),
            );
        }
        None => {}
    }
    if let Some(d) = &unit.dir {
        s.push("WorkingDirectory", path(d));
    }
    if unit.kind != UnitKind::Container {
        env_entries(unit, &mut s);
    }
    if let Some(p) = &unit.pid_file {
        s.push("PIDFile", path(p));
    }
    if write_stop {
        if let Some(argv) = &unit.stop.command {
            s.push("ExecStop", escape::join_command(argv));
        }
        s.push("KillSignal", unit.stop.signal.name());
        s.push("TimeoutStopSec", dur(unit.stop.timeout));
    }
    if let Some(d) = unit.start_timeout {
        s.push("TimeoutStartSec", dur(d));
    }
    if let Some(d) = unit.run_timeout {
        s.push("RuntimeMaxSec", dur(d));
    }
    if let Some(d) = unit.idle_timeout {
        s.push("X-Devctl-Idle-Timeout", dur(d));
    }
    if write_restart {
        let r = &unit.restart;
        s.push("Restart", r.mode.as_str());
        s.push("RestartSec", dur(r.backoff));
        s.push("RestartMaxDelaySec", dur(r.max_delay));
        s.push("X-Devctl-Reset-After", dur(r.reset_after));
    }
    for p in &unit.ports {
        s.push("X-Devctl-Port", p.to_string());
    }
    for l in &unit.links {
        s.push("X-Devctl-Link", plain(l));
    }
    if let Some(p) = &unit.ready {
        probe_entries("X-Devctl-Ready", p, &mut s);
    }
    if let Some(p) = &unit.alive {
        probe_entries("X-Devctl-Alive", p, &mut s);
    }
    for w in &unit.watch.paths {
        s.push("X-Devctl-Watch", plain(w));
    }
    for w in &unit.watch.ignore {
        s.push("X-Devctl-Watch-Ignore", plain(w));
    }
    if unit.watch.trigger == TriggerMode::Manual {
        s.push("X-Devctl-Watch-Trigger", "manual");
    }
    match &unit.schedule {
        Some(Schedule::Cron(pattern)) => s.push("X-Devctl-Schedule", plain(pattern)),
        Some(Schedule::Every(d)) => s.push("X-Devctl-Every", dur(*d)),
        None => {}
    }
    if unit.on_commit {
        s.push("X-Devctl-On-Commit", "yes");
    }
    if unit.always_run {
        s.push("X-Devctl-Always-Run", "yes");
    }
    if let Some(b) = unit.logs.max_size {
        s.push("X-Devctl-Log-Max-Size", crate::size::format(b));
    }
    if let Some(n) = unit.logs.files {
        s.push("X-Devctl-Log-Files", n.to_string());
    }
    if let Some(d) = unit.logs.max_age {
        s.push("X-Devctl-Log-Max-Age", dur(d));
    }
    s
}

fn probe_entries(prefix: &str, p: &Probe, s: &mut Section) {
    s.push(prefix, values::fmt_check(&p.check));
    s.push(format!("{prefix}-Period"), dur(p.period));
    s.push(format!("{prefix}-Timeout"), dur(p.timeout));
    s.push(format!("{prefix}-Initial-Delay"), dur(p.initial_delay));
    s.push(
        format!("{prefix}-Success-Threshold"),
        p.success_threshold.to_string(),
    );
    s.push(
        format!("{prefix}-Failure-Threshold"),
        p.failure_threshold.to_string(),
    );
}

fn container_section(unit: &Unit, c: &ContainerSpec) -> Section {
    let mut s = Section::new("Container");
    s.push("Image", plain(&c.image));
    if let Some(b) = &c.build {
        s.push("X-Devctl-Build-Context", path(&b.context));
        s.push("X-Devctl-Build-Dockerfile", plain(&b.dockerfile));
    }
    if let Some(argv) = &c.entrypoint {
        s.push("Entrypoint", escape::join(argv, Context::Command));
    }
    if let Some(argv) = &c.command {
        s.push("Exec", escape::join(argv, Context::Command));
    }
    for p in &c.publish {
        s.push("PublishPort", plain(&values::fmt_publish(p)));
    }
    for v in &c.volumes {
        s.push("Volume", plain(&values::fmt_volume(v)));
    }
    if let Some(w) = &c.workdir {
        s.push("WorkingDir", plain(w));
    }
    if let Some(u) = &c.user {
        s.push("User", plain(u));
    }
    if let Some(n) = &c.network {
        s.push("Network", plain(n));
    }
    if unit.kind == UnitKind::Container {
        env_entries(unit, &mut s);
    }
    if c.healthcheck {
        s.push("X-Devctl-Healthcheck", fmt_bool(true));
    }
    s
}

fn kube_section(k: &KubeSpec) -> Section {
    let mut s = Section::new("Kube");
    for m in &k.manifests {
        s.push("Yaml", path(m));
    }
    if let Some(c) = &k.context {
        s.push("X-Devctl-Context", plain(c));
    }
    if let Some(n) = &k.namespace {
        s.push("X-Devctl-Namespace", plain(n));
    }
    for f in &k.port_forwards {
        s.push("X-Devctl-Port-Forward", values::fmt_forward(f));
    }
    if let Some(p) = &k.kubeconfig {
        s.push("X-Devctl-Kubeconfig", path(p));
    }
    if k.readiness != KubeReadiness::Auto {
        s.push("X-Devctl-Readiness", k.readiness.as_str().to_owned());
    }
    for i in &k.images {
        s.push("X-Devctl-Image", values::fmt_kube_image(i));
    }
    s
}
