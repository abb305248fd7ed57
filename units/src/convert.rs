//! `Unit` ⇄ unit file, losslessly: [`to_unit_file`] writes the text,
//! [`from_unit_file`] reads it back strictly. The writer lives in
//! `convert/write.rs`, the reader in `convert/read.rs`, structured value
//! shapes in `convert/values.rs`.
//!
//! # Unit-file keys
//!
//! systemd's own keys are used wherever they mean the same thing, Podman
//! Quadlet's in `[Container]`, and devctl-only settings are `X-Devctl-*`.
//! Values are escaped by [`crate::escape`]: *value* = one value, bare when
//! unambiguous, else double-quoted; *words* = a blank-separated word list;
//! *command* = words where `$` is written `$$`. Durations are written as one
//! integer and the largest exact unit (`10s`, `200ms`, `1500us`, `10min`)
//! and read in any systemd form (`1min 30s`). Lists repeat the key, one
//! item per line, in model order. Sections appear in the order `[Unit]`,
//! `[Container]`/`[Kube]`, `[Service]`, `[Install]`.
//!
//! | section | key | field | value |
//! |---|---|---|---|
//! | `[Unit]` | `Description=` | `description` | value |
//! | | `X-Devctl-Kind=` | `kind` | **required**; must fit the file suffix |
//! | | `X-Devctl-Project=` | `project` | **required**; a name |
//! | | `X-Devctl-Root=` | `root` | **required**; path value |
//! | | `X-Devctl-Source=` | `source` | value (`devctl.kdl:12:1`) |
//! | | `Requires=` / `Wants=` | `deps` (kind) | unit names; the interleaving of the lines is the order of `deps` |
//! | | `After=` | — | every dep, in order (written when there are deps; checked when read) |
//! | | `X-Devctl-Until=` | `deps[].until` | `NAME:started\|succeeded`, for deps not `ready` (the default) |
//! | | `X-Devctl-Member=` | `members` | unit names |
//! | | `StartLimitBurst=` | `restart.limit` | count |
//! | | `StartLimitIntervalSec=` | `restart.within` | duration |
//! | `[Service]` | `Type=` | derived | `simple`, `notify` (ready probe is notify), `forking` (daemon), `oneshot` (build); process kinds only; checked when read |
//! | | `ExecStart=` | `command` | command; **required** for service, daemon, build |
//! | | `X-Devctl-Shell=` | `command` is `Shell` | `yes`; `ExecStart=` is then `/bin/sh -c SCRIPT` |
//! | | `WorkingDirectory=` | `dir` | path value |
//! | | `Environment=` | `env` | words `NAME=value` (`$` literal); in `[Container]` for containers |
//! | | `EnvironmentFile=` | `env_files` | path value, `-` prefix when optional; in `[Container]` for containers |
//! | | `PIDFile=` | `pid_file` | path value |
//! | | `ExecStop=` | `stop.command` | command (may be empty) |
//! | | `KillSignal=` | `stop.signal` | `SIGTERM`… |
//! | | `TimeoutStopSec=` | `stop.timeout` | duration |
//! | | `TimeoutStartSec=` | `start_timeout` | duration |
//! | | `RuntimeMaxSec=` | `run_timeout` | duration |
//! | | `X-Devctl-Idle-Timeout=` | `idle_timeout` | duration |
//! | | `Restart=` | `restart.mode` | `no`, `on-failure`, `always` |
//! | | `RestartSec=` | `restart.backoff` | duration |
//! | | `RestartMaxDelaySec=` | `restart.max_delay` | duration |
//! | | `X-Devctl-Reset-After=` | `restart.reset_after` | duration |
//! | | `X-Devctl-Port=` | `ports` | port number |
//! | | `X-Devctl-Link=` | `links` | value |
//! | | `X-Devctl-Ready=` / `X-Devctl-Alive=` | `ready` / `alive` check | `exec PROGRAM ARGS…` (command), `http URL [STATUS]`, `tcp HOST PORT`, `log REGEX`, `notify` (log, notify: readiness only) |
//! | | `X-Devctl-{Ready,Alive}-Period=`, `-Timeout=`, `-Initial-Delay=` | probe knobs | duration |
//! | | `X-Devctl-{Ready,Alive}-Success-Threshold=`, `-Failure-Threshold=` | probe knobs | count |
//! | | `X-Devctl-Watch=` | `watch.paths` | glob value |
//! | | `X-Devctl-Watch-Ignore=` | `watch.ignore` | glob value |
//! | | `X-Devctl-Watch-Trigger=` | `watch.trigger` | `manual` (default `auto`) |
//! | | `X-Devctl-Schedule=` | `schedule` (`Cron`) | five-field cron pattern value; not with `X-Devctl-Every=` |
//! | | `X-Devctl-Every=` | `schedule` (`Every`) | duration, at least 1s |
//! | | `X-Devctl-On-Commit=` | `on_commit` | `yes` |
//! | | `X-Devctl-Always-Run=` | `always_run` | `yes` |
//! | | `X-Devctl-Log-Max-Size=` | `logs.max_size` | size (`16MiB`, see `size`), 4KiB-64GiB |
//! | | `X-Devctl-Log-Files=` | `logs.files` | count, 1-1000 |
//! | | `X-Devctl-Log-Max-Age=` | `logs.max_age` | duration, not zero |
//! | `[Container]` | `Image=` | `container.image` | **required** in `[Container]` (required section for containers) |
//! | | `X-Devctl-Build-Context=` | `container.build.context` | path value; with `-Dockerfile=` |
//! | | `X-Devctl-Build-Dockerfile=` | `container.build.dockerfile` | value; with `-Context=` |
//! | | `Entrypoint=` | `container.entrypoint` | command (may be empty) |
//! | | `Exec=` | `container.command` | command (may be empty) |
//! | | `PublishPort=` | `container.publish` | `[IP:][HOST_PORT:]PORT[/udp\|sctp]`, IPv6 in brackets |
//! | | `Volume=` | `container.volumes` | `SOURCE:TARGET[:ro]` |
//! | | `WorkingDir=` / `User=` / `Network=` | `container.workdir` / `user` / `network` | value |
//! | | `X-Devctl-Healthcheck=` | `container.healthcheck` | `yes` |
//! | `[Kube]` | `Yaml=` | `kubernetes.manifests` | path value (section required for kubernetes) |
//! | | `X-Devctl-Context=` / `X-Devctl-Namespace=` | `kubernetes.context` / `namespace` | value |
//! | | `X-Devctl-Port-Forward=` | `kubernetes.port_forwards` | `RESOURCE LOCAL:REMOTE` |
//! | `[Install]` | `WantedBy=` | `enabled` | `<project>.target` (`default.target` for the project target); absent = disabled |
//!
//! Restart keys (`Restart*=`, `StartLimit*=`, `X-Devctl-Reset-After=`) and
//! stop keys (`KillSignal=`, `TimeoutStopSec=`, `ExecStop=`) are always
//! written for runnable kinds, and for groups and projects only when they
//! differ from the defaults; a key left out reads as the kind's default.
//! Probe knobs are always written with their probe. Booleans read `yes`,
//! `no`, `true`, `false`, `on`, `off`, `1`, `0`.
//!
//! **Reading is strict.** Sections other than `[Unit]`, `[Service]`,
//! `[Install]` (plus `[Container]` for containers, `[Kube]` for
//! kubernetes), unknown keys, a single-valued key given twice, missing
//! required keys, wrongly shaped values and bad names are errors naming the
//! line, the key and what was expected. `%` specifiers and `$` variables
//! are rejected (devctl expands neither).
//!
//! **What the writer needs** (the compiler guarantees it): names valid;
//! env names non-empty without `=`; dependency names unique; a
//! non-empty argv for argv commands and exec probes; `container` only on
//! containers and `kubernetes` only on kubernetes units; volume sources
//! without `:` and targets not ending in `:ro`/`:rw`; a publish `host_ip`
//! that is an IP literal or host name and a protocol `tcp`, `udp` or `sctp`;
//! UTF-8 paths.

mod keys;
mod read;
mod values;
mod write;

pub use read::{from_file, from_unit_file};
pub use write::to_file;

use crate::model::Unit;

/// The unit file text for a unit: deterministic, every value escaped.
pub fn to_unit_file(unit: &Unit) -> String {
    to_file(unit).to_string()
}
