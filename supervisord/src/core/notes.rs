//! An actor's mailbox and what it hears: the manager's commands
//! ([`ActorMsg`]), the re-exec messages, and what it hears about its
//! current run (its provider's facts and its run watchers' sightings,
//! each tagged with the run), after and between the manager's messages:
//! one channel per unit (a tokio channel costs about 0.8 KB even when
//! idle). The run's
//! senders are weak, so the mailbox closes when the manager lets go of
//! it, whatever the run's tasks still hold. Senders are typed
//! ([`NoteTx<Fact>`], [`NoteTx<Seen>`]) so each side can only say its own
//! kind of note.

use std::marker::PhantomData;

use tokio::sync::mpsc;

use crate::core::protocol::ActorMsg;
use crate::core::reexec::ReexecMsg;
use crate::probe::ProbeOutcome;

/// Something a provider observed about the current run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// `READY=1` (sd_notify) or an equivalent readiness signal.
    Ready,
    /// `STATUS=…` from sd_notify.
    Status(String),
    /// The main pid changed (`MAINPID=`, a daemon's pid file).
    MainPid(u32),
    /// The main process ended; `None` when it was not our child (a daemon's
    /// forked pid) and its status is unknown.
    Exited(Option<crate::process::ExitStatus>),
    /// The run took over an instance that outlived a previous daemon
    /// instead of starting a new one; sent before `start`
    /// returns, so it is the run's first fact.
    Adopted,
}

/// Which probe a result belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Ready,
    Alive,
}

/// What a watcher saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// One check's result.
    Probe(ProbeKind, ProbeOutcome),
    /// An output line matched the log-readiness pattern.
    LogMatched(String),
    /// The unit wrote output (throttled; build idle timeouts).
    Output,
}

/// A note about a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    Fact(Fact),
    Seen(Seen),
}

/// What an actor's mailbox carries.
#[derive(Debug)]
pub enum Mail {
    /// A command from the manager.
    Msg(ActorMsg),
    /// A re-exec command from the manager.
    Reexec(ReexecMsg),
    /// A note about run `.0`; the actor drops stale ones.
    Note(u64, Note),
}

/// The mailbox channel's sending side (mail travels boxed, so the
/// channel's preallocated block of 32 slots holds pointers).
pub type MailSender = mpsc::UnboundedSender<Box<Mail>>;

/// The mailbox channel's receiving side.
pub type MailReceiver = mpsc::UnboundedReceiver<Box<Mail>>;

impl From<Fact> for Note {
    fn from(f: Fact) -> Note {
        Note::Fact(f)
    }
}

impl From<Seen> for Note {
    fn from(s: Seen) -> Note {
        Note::Seen(s)
    }
}

impl TryFrom<Note> for Fact {
    type Error = Note;
    fn try_from(n: Note) -> Result<Fact, Note> {
        match n {
            Note::Fact(f) => Ok(f),
            other => Err(other),
        }
    }
}

impl TryFrom<Note> for Seen {
    type Error = Note;
    fn try_from(n: Note) -> Result<Seen, Note> {
        match n {
            Note::Seen(s) => Ok(s),
            other => Err(other),
        }
    }
}

/// The actor is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// Where a [`NoteTx`] sends: the actor's mailbox through a weak sender
/// (the run's tasks do not keep it open), or a channel of its own.
#[derive(Debug, Clone)]
enum Target {
    Weak(mpsc::WeakUnboundedSender<Box<Mail>>),
    Strong(MailSender),
}

/// Sends notes of kind `T` to an actor.
#[derive(Debug)]
pub struct NoteTx<T> {
    to: Target,
    kind: PhantomData<fn(T)>,
}

impl<T> Clone for NoteTx<T> {
    fn clone(&self) -> Self {
        NoteTx {
            to: self.to.clone(),
            kind: PhantomData,
        }
    }
}

impl<T> NoteTx<T> {
    /// Notes into the mailbox `to` reaches, without keeping it open.
    pub fn weak(to: &mpsc::WeakUnboundedSender<Box<Mail>>) -> NoteTx<T> {
        NoteTx {
            to: Target::Weak(to.clone()),
            kind: PhantomData,
        }
    }

    /// The same channel, for notes of another kind.
    pub fn retype<U>(&self) -> NoteTx<U> {
        NoteTx {
            to: self.to.clone(),
            kind: PhantomData,
        }
    }
}

impl<T: Into<Note>> NoteTx<T> {
    /// Send a note about run `run`.
    pub fn send(&self, (run, note): (u64, T)) -> Result<(), Closed> {
        let mail = Box::new(Mail::Note(run, note.into()));
        match &self.to {
            Target::Weak(w) => w.upgrade().ok_or(Closed)?.send(mail),
            Target::Strong(s) => s.send(mail),
        }
        .map_err(|_| Closed)
    }
}

/// Receives the notes of kind `T` of a channel (tests and tools that stand
/// in for an actor); mail of other kinds is skipped.
#[derive(Debug)]
pub struct NoteRx<T> {
    rx: MailReceiver,
    kind: PhantomData<fn() -> T>,
}

impl<T: TryFrom<Note>> NoteRx<T> {
    /// The next note of kind `T`; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<(u64, T)> {
        loop {
            if let Mail::Note(run, note) = *self.rx.recv().await?
                && let Ok(t) = T::try_from(note)
            {
                return Some((run, t));
            }
        }
    }

    /// The next queued note of kind `T`, without waiting; `None` when
    /// none is queued.
    pub fn try_recv(&mut self) -> Option<(u64, T)> {
        while let Ok(mail) = self.rx.try_recv() {
            if let Mail::Note(run, note) = *mail
                && let Ok(t) = T::try_from(note)
            {
                return Some((run, t));
            }
        }
        None
    }
}

/// A channel carrying notes of kind `T` only.
pub fn channel<T>() -> (NoteTx<T>, NoteRx<T>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        NoteTx {
            to: Target::Strong(tx),
            kind: PhantomData,
        },
        NoteRx {
            rx,
            kind: PhantomData,
        },
    )
}

/// The sending side of an actor's mailbox (the manager's). Mail travels
/// boxed: a tokio channel preallocates a block of 32 slots, which for
/// unboxed messages cost every idle unit about 1 KB.
#[derive(Debug, Clone)]
pub struct Mailbox(MailSender);

/// The receiving side of an actor's mailbox: the manager's messages and
/// the notes about the actor's runs.
#[derive(Debug)]
pub struct Inbox(MailReceiver);

/// The actor is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

/// A new mailbox.
pub fn mailbox() -> (Mailbox, Inbox) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Mailbox(tx), Inbox(rx))
}

impl From<ActorMsg> for Mail {
    fn from(m: ActorMsg) -> Mail {
        Mail::Msg(m)
    }
}

impl From<ReexecMsg> for Mail {
    fn from(m: ReexecMsg) -> Mail {
        Mail::Reexec(m)
    }
}

impl Mailbox {
    /// Send `msg` to the actor.
    pub fn send(&self, msg: impl Into<Mail>) -> Result<(), Gone> {
        self.0.send(Box::new(msg.into())).map_err(|_| Gone)
    }

    /// A sender of notes that does not keep the mailbox open.
    pub fn downgrade(&self) -> mpsc::WeakUnboundedSender<Box<Mail>> {
        self.0.downgrade()
    }

    /// Whether `weak` (from [`Mailbox::downgrade`]) is this mailbox's.
    pub fn is(&self, weak: &mpsc::WeakUnboundedSender<Box<Mail>>) -> bool {
        weak.upgrade().is_some_and(|s| s.same_channel(&self.0))
    }
}

impl Inbox {
    /// The next mail; `None` once the manager let go of the mailbox.
    pub async fn recv(&mut self) -> Option<Mail> {
        self.0.recv().await.map(|m| *m)
    }

    /// No mail is waiting.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn typed_senders_share_one_channel_and_typed_receivers_filter() {
        let (facts, mut only_facts) = channel::<Fact>();
        let seen: NoteTx<Seen> = facts.retype();
        facts.send((1, Fact::Ready)).unwrap();
        seen.send((1, Seen::Output)).unwrap();
        facts.send((2, Fact::MainPid(7))).unwrap();
        assert_eq!(only_facts.recv().await, Some((1, Fact::Ready)));
        assert_eq!(only_facts.try_recv(), Some((2, Fact::MainPid(7))));
        assert_eq!(only_facts.try_recv(), None);
        drop((facts, seen));
        assert_eq!(only_facts.recv().await, None);
        let (tx, rx) = channel::<Seen>();
        drop(rx);
        assert_eq!(tx.send((1, Seen::Output)), Err(Closed));
    }

    #[tokio::test]
    async fn weak_senders_reach_the_mailbox_without_keeping_it_open() {
        let (tx, mut rx) = mpsc::unbounded_channel::<Box<Mail>>();
        let facts = NoteTx::<Fact>::weak(&tx.downgrade());
        facts.send((3, Fact::Ready)).unwrap();
        assert!(matches!(
            rx.recv().await.as_deref(),
            Some(Mail::Note(3, Note::Fact(Fact::Ready)))
        ));
        // The owner lets go: the mailbox closes although a note sender is
        // still around, and the sender learns it.
        drop(tx);
        assert!(rx.recv().await.is_none());
        assert_eq!(facts.send((3, Fact::Ready)), Err(Closed));
    }
}
