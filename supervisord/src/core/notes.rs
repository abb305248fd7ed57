//! One channel per actor for what it hears about its current run: its
//! provider's facts and its run watchers' sightings, each tagged with the
//! run. A tokio channel preallocates a block of 32 message slots, so a
//! channel per kind cost every idle unit about 1.5 KB more. Senders are
//! typed ([`NoteTx<Fact>`], [`NoteTx<Seen>`]) so each side can only say its
//! own kind of note.

use std::marker::PhantomData;

use tokio::sync::mpsc;

use crate::core::provider::Fact;
use crate::core::runwatch::Seen;

/// A note about a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    Fact(Fact),
    Seen(Seen),
}

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

/// A note tagged with the run it belongs to; the actor drops stale ones.
pub type TaggedNote = (u64, Note);

/// The channel's sending side. Notes travel boxed, so the channel's
/// preallocated block of 32 slots holds pointers, not notes.
pub type NoteSender = mpsc::UnboundedSender<Box<TaggedNote>>;

/// The channel's receiving side.
pub type NoteReceiver = mpsc::UnboundedReceiver<Box<TaggedNote>>;

/// The actor is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// Sends notes of kind `T` to an actor.
#[derive(Debug)]
pub struct NoteTx<T> {
    tx: NoteSender,
    kind: PhantomData<fn(T)>,
}

impl<T> Clone for NoteTx<T> {
    fn clone(&self) -> Self {
        NoteTx {
            tx: self.tx.clone(),
            kind: PhantomData,
        }
    }
}

impl<T> From<NoteSender> for NoteTx<T> {
    fn from(tx: NoteSender) -> Self {
        NoteTx {
            tx,
            kind: PhantomData,
        }
    }
}

impl<T: Into<Note>> NoteTx<T> {
    /// Send a note about run `run`.
    pub fn send(&self, (run, note): (u64, T)) -> Result<(), Closed> {
        self.tx
            .send(Box::new((run, note.into())))
            .map_err(|_| Closed)
    }
}

/// Receives the notes of kind `T` of a channel (tests and tools that stand
/// in for an actor); notes of other kinds are skipped.
#[derive(Debug)]
pub struct NoteRx<T> {
    rx: NoteReceiver,
    kind: PhantomData<fn() -> T>,
}

impl<T: TryFrom<Note>> NoteRx<T> {
    /// The next note of kind `T`; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<(u64, T)> {
        loop {
            let (run, note) = *self.rx.recv().await?;
            if let Ok(t) = T::try_from(note) {
                return Some((run, t));
            }
        }
    }
}

impl<T: TryFrom<Note>> NoteRx<T> {
    /// The next queued note of kind `T`, without waiting; `None` when
    /// none is queued.
    pub fn try_recv(&mut self) -> Option<(u64, T)> {
        while let Ok(tagged) = self.rx.try_recv() {
            let (run, note) = *tagged;
            if let Ok(t) = T::try_from(note) {
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
        tx.into(),
        NoteRx {
            rx,
            kind: PhantomData,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn typed_senders_share_one_channel_and_typed_receivers_filter() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let facts: NoteTx<Fact> = tx.clone().into();
        let seen: NoteTx<Seen> = tx.into();
        facts.send((1, Fact::Ready)).unwrap();
        seen.send((1, Seen::Output)).unwrap();
        facts.send((2, Fact::MainPid(7))).unwrap();
        assert_eq!(
            rx.recv().await,
            Some(Box::new((1, Note::Fact(Fact::Ready))))
        );
        assert_eq!(
            rx.recv().await,
            Some(Box::new((1, Note::Seen(Seen::Output))))
        );
        let mut only_facts = NoteRx::<Fact> {
            rx,
            kind: PhantomData,
        };
        assert_eq!(only_facts.recv().await, Some((2, Fact::MainPid(7))));
        drop((facts, seen));
        assert_eq!(only_facts.recv().await, None);
        let (tx, rx) = channel::<Seen>();
        drop(rx);
        assert_eq!(tx.send((1, Seen::Output)), Err(Closed));
    }
}
