//! Sessions: startup (load persisted projects; continue a crashed session
//! or begin a new one), the session file kept current while running, and
//! the clean shutdown that ends it.
//!
//! Recovery starts again what the old `session.json` says should run,
//! with origin `restarted`. Before any unit starts, every registered
//! provider recovers what a previous daemon left (`ProviderKind::recover`):
//! it stops what it finds of the recorded invocations nobody continues,
//! and instances the session wants can be kept, their providers taking
//! them over on start (origin `adopted`).
//!
//! After a re-exec (`CoreOptions::reexec`, same pid) the session continues
//! without a recovery: the inherited children are registered with the
//! reaper before it first reaps, then `reexec.rs` adopts every carried run.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot};
use tracing::{info, warn};

use devctl_units::api::runs::RunTrigger;
use devctl_units::api::{Event, EventKind, JobVerb, Origin};
use devctl_units::paths::ensure_private_dir;
use devctl_units::{ProjectName, UnitName};

use crate::core::actor::{ActorEnv, now_ms};
use crate::core::env::EnvContext;
use crate::core::manager::Manager;
use crate::core::options::{CoreError, CoreInfo, CoreOptions};
use crate::core::project::{Broken, Project};
use crate::core::protocol::ReportTx;
use crate::core::runbook::RunBook;
use crate::core::snapshot::Snapshot;
use crate::logs::{LogLimits, LogStore};
use crate::probe::ListenWatcher;
use crate::process::{self, Reaper};
use crate::runs::RunStore;
use crate::state::files::{SessionFile, SessionUnit};
use crate::state::store::{ReadOutcome, StateStore};

fn new_session_id() -> String {
    process::invocation_id()
}

impl Manager {
    /// Build the manager from persisted state and begin or continue the session.
    pub(crate) async fn boot(
        opts: CoreOptions,
        events: broadcast::Sender<Event>,
        reports_tx: ReportTx,
        timeouts_tx: mpsc::UnboundedSender<u64>,
    ) -> Result<(Manager, CoreInfo), CoreError> {
        ensure_private_dir(&opts.paths.state)?;
        // Inherited children first: the reaper's first sweep must find
        // their waiters (a re-exec keeps our pid, so they are our children).
        let carry = opts.reexec.clone();
        let cells: std::collections::HashMap<i32, Arc<process::ExitCell>> = carry
            .as_ref()
            .map(|c| {
                let pids = c.child_pids();
                let cells = Reaper::preregister(&pids);
                pids.into_iter().zip(cells).collect()
            })
            .unwrap_or_default();
        let reaper: Arc<Reaper> = Reaper::install().map_err(|source| {
            CoreError::State(crate::state::store::StateError::Read {
                path: opts.paths.state.clone(),
                source,
            })
        })?;
        let store = StateStore::new(opts.paths.clone());
        let env = ActorEnv {
            env: Arc::new(EnvContext {
                base: std::env::vars().collect(),
                strip: opts.strip_env.clone(),
                extra: opts.extra_env.clone(),
                ..EnvContext::default()
            }),
            reaper,
            notify_dir: opts.paths.notify_dir(),
            cgroup: opts.cgroup.clone(),
            logs: Arc::new(
                LogStore::open(
                    opts.paths.logs_dir(),
                    LogLimits {
                        retention: opts.log_retention,
                        ..LogLimits::default()
                    },
                )
                .map_err(|source| {
                    CoreError::State(crate::state::store::StateError::Write {
                        path: opts.paths.logs_dir(),
                        source,
                    })
                })?,
            ),
            listen: ListenWatcher::new(),
        };
        let providers = Arc::new(crate::providers::registered());
        let started_at_ms = now_ms();
        let previous = match store.load_session() {
            ReadOutcome::Ok(s) => Some(s),
            ReadOutcome::Missing | ReadOutcome::Quarantined(_) => None,
        };
        let session = match &previous {
            Some(s) => SessionFile {
                units: BTreeMap::new(),
                stray: Vec::new(),
                ..s.clone()
            },
            None => SessionFile::new(new_session_id(), started_at_ms),
        };
        // Invocations a previous daemon recorded that nobody continues;
        // the providers stop them before any unit starts.
        let mut leftovers: Vec<String> = Vec::new();
        let carry = match carry {
            Some(c)
                if previous
                    .as_ref()
                    .is_some_and(|p| p.session_id == c.session_id) =>
            {
                Some(c)
            }
            Some(c) => {
                warn!("the re-exec state names another session; continuing as after a crash");
                crate::core::reexec::close_carried(&c.fds());
                let runs = c.units.iter().filter_map(|u| u.run.as_ref());
                leftovers.extend(runs.map(|r| r.invocation.clone()));
                None
            }
            None => None,
        };
        let info = CoreInfo {
            session_id: session.session_id.clone(),
            recovered: previous.is_some() && carry.is_none(),
            reexecuted: carry.is_some(),
            started_at_ms,
        };
        let mut mgr = Manager::new(
            store,
            env,
            providers,
            events,
            reports_tx,
            timeouts_tx,
            session,
        );
        let history = opts.history.then(|| {
            let path = opts.paths.state.join("runs.db");
            match RunStore::open(&path, opts.run_retention) {
                Ok(s) => Some(Arc::new(s)),
                Err(e) => {
                    warn!("run history off: {e}");
                    None
                }
            }
        });
        mgr.runs = RunBook::new(history.flatten(), Arc::default());
        mgr.runs.close_left_open(carry.is_some());
        for (pf, files) in mgr.store.load_projects()? {
            let name = pf.name.clone();
            let mut units = BTreeMap::new();
            let mut broken = BTreeMap::new();
            for (file, text) in files {
                match devctl_units::from_unit_file(&file, &text) {
                    Ok(mut u) => {
                        u.project = name.clone();
                        let l = mgr.make_loaded(u, file, &text, Snapshot::default());
                        units.insert(l.unit.name.clone(), l);
                    }
                    Err(e) => {
                        warn!(project = %name, file, "persisted unit file does not parse; shown as load error: {e}");
                        if let Some((unit, b)) = Broken::new(&file, &text, e.to_string()) {
                            broken.insert(unit, b);
                        }
                    }
                }
            }
            mgr.projects.insert(
                name,
                Project {
                    file: pf,
                    units,
                    broken,
                    should_run: Default::default(),
                },
            );
        }
        for name in mgr.projects.keys().cloned().collect::<Vec<_>>() {
            mgr.rewatch(&name);
        }
        match (&previous, &carry) {
            (Some(prev), Some(carry)) => leftovers.extend(mgr.unadopted(prev, carry)),
            (Some(prev), None) => leftovers.extend(prev.invocations().map(str::to_owned)),
            (None, _) => {}
        }
        mgr.recover_providers(previous.as_ref(), leftovers).await;
        if let (Some(prev), Some(carry)) = (&previous, carry) {
            mgr.resume_reexec(prev.clone(), carry, cells).await;
            mgr.write_session_now();
            return Ok((mgr, info));
        }
        match previous {
            Some(prev) => {
                info!(session = %prev.session_id, "continuing a crashed session");
                for (project, units) in prev.units {
                    let names: Vec<UnitName> = units
                        .keys()
                        .filter(|n| {
                            mgr.projects
                                .get(&project)
                                .is_some_and(|p| p.units.contains_key(*n))
                        })
                        .cloned()
                        .collect();
                    if !names.is_empty() {
                        let since = mgr.seq;
                        mgr.mark_start(&project, &names, Origin::Restarted, "daemon restarted");
                        mgr.note_starts(&project, since, |_| RunTrigger::Recovered);
                        mgr.advance(&project);
                    }
                }
            }
            None => {
                info!(session = %mgr.session.session_id, "new session");
                let boot: Vec<ProjectName> = mgr
                    .projects
                    .values()
                    .filter(|p| p.file.boot)
                    .map(|p| p.file.name.clone())
                    .collect();
                for project in boot {
                    let since = mgr.seq;
                    mgr.plan(&project, JobVerb::Up, &[]);
                    mgr.note_starts(&project, since, |_| RunTrigger::Boot);
                    mgr.advance(&project);
                }
            }
        }
        mgr.write_session_now();
        Ok((mgr, info))
    }

    /// Before any unit starts, let every provider settle what a previous
    /// daemon left outside it (`wanted` is what a crashed session wanted
    /// running; a new session wants nothing), and stop what they find of
    /// `leftovers`.
    async fn recover_providers(&self, previous: Option<&SessionFile>, leftovers: Vec<String>) {
        let kinds = self
            .projects
            .values()
            .flat_map(|p| p.units.values().map(|l| l.unit.kind))
            .collect();
        let wanted = previous.map(|prev| {
            prev.units
                .iter()
                .flat_map(|(p, us)| us.keys().map(move |u| (p.to_string(), u.to_string())))
                .collect()
        });
        let boot = crate::core::registry::Boot {
            kinds,
            wanted,
            notify_dir: self.env.notify_dir.clone(),
            leftovers,
        };
        self.providers.recover(&boot).await;
    }

    /// What should run now changed: the session is written at the end of
    /// the manager's turn ([`Manager::end_turn`]), once for the whole turn.
    pub(crate) fn session_changed(&mut self) {
        self.session_dirty = true;
    }

    /// Persist what should run now, outside a turn (startup, freezing).
    pub(crate) fn write_session_now(&mut self) {
        self.session_changed();
        self.flush_session(true);
    }

    /// Persist what should run now, if anything changed since the last
    /// write (and the file would differ). With `durable` (the daemon
    /// starts or re-executes) the file is also on disk when this returns.
    /// The writes of a running daemon's turns are not synced: they replace
    /// the file atomically, which a restarted daemon reads just the same;
    /// only a machine crash, which ends every process too, can lose one.
    pub(crate) fn flush_session(&mut self, durable: bool) {
        if self.done || !std::mem::take(&mut self.session_dirty) {
            return;
        }
        let mut s = SessionFile {
            units: BTreeMap::new(),
            stray: Vec::new(),
            ..self.session.clone()
        };
        for (pn, p) in &self.projects {
            for (un, l) in &p.units {
                if p.should_run.contains(un) {
                    s.units.entry(pn.clone()).or_default().insert(
                        un.clone(),
                        SessionUnit {
                            invocation: l.snap.invocation.clone(),
                        },
                    );
                } else if let Some(inv) = &l.snap.invocation {
                    s.stray.push(inv.clone());
                }
            }
        }
        if self.written_session.as_ref() == Some(&s) {
            return;
        }
        match self.store.save_session(&s, durable) {
            Ok(()) => self.written_session = Some(s),
            Err(e) => {
                warn!("cannot persist the session (a crash now would lose track of processes): {e}")
            }
        }
    }

    /// Clean stop: stop everything (reverse dependency order), end the session.
    pub(crate) fn shutdown(&mut self, reply: oneshot::Sender<()>) {
        self.shutdown_replies.push(reply);
        if self.shutdown_replies.len() > 1 {
            return;
        }
        info!("stopping every unit; the session ends");
        self.emit(None, None, EventKind::DaemonStopping);
        let names: Vec<ProjectName> = self.projects.keys().cloned().collect();
        for p in &names {
            self.plan(p, JobVerb::Down, &[]);
            self.advance(p);
        }
        self.maybe_finish_shutdown();
    }

    /// Finish the shutdown once every unit is down.
    pub(crate) fn maybe_finish_shutdown(&mut self) {
        let busy = self
            .projects
            .values()
            .flat_map(|p| p.units.values())
            .any(|l| {
                l.tx.is_some()
                    && (l.snap.is_up()
                        || l.job.stop_queued()
                        || l.job.stopping.is_some()
                        || !l.settled())
            });
        if busy {
            return;
        }
        let exits = self.exit_actors(true);
        if let Err(e) = self.store.remove_session() {
            warn!("cannot remove the session file: {e}");
        }
        self.done = true;
        let replies = std::mem::take(&mut self.shutdown_replies);
        tokio::spawn(async move {
            for rx in exits {
                let _ = rx.await;
            }
            for r in replies {
                let _ = r.send(());
            }
        });
    }
}
