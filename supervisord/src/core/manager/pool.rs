//! A few threads that run the manager's blocking work (the up-to-date
//! checks), oldest first. Bounded on purpose: tokio's blocking pool
//! starts a thread for every task submitted while the others are busy,
//! so the twenty checks of one `up` became twenty threads fighting the
//! manager for the cores. Threads start on first use and then wait on a
//! condition variable without a timeout: an idle pool never wakes.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

type Work = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct State {
    queue: VecDeque<Work>,
    threads: usize,
    idle: usize,
}

/// The pool; cloning shares it.
#[derive(Clone)]
pub(crate) struct Pool {
    shared: Arc<(Mutex<State>, Condvar)>,
    max: usize,
}

impl Pool {
    /// A pool of at most `max` threads (at least one).
    pub(crate) fn new(max: usize) -> Pool {
        Pool {
            shared: Arc::default(),
            max: max.max(1),
        }
    }

    /// As many threads as the machine has cores, up to four.
    pub(crate) fn per_core() -> Pool {
        Pool::new(std::thread::available_parallelism().map_or(2, |n| n.get().min(4)))
    }

    /// Queue `work`; an idle thread takes it, or a new one if none is
    /// idle and the pool is not full (else it waits its turn).
    pub(crate) fn run(&self, work: Work) {
        let (lock, cv) = &*self.shared;
        let mut st = lock.lock().unwrap_or_else(|e| e.into_inner());
        st.queue.push_back(work);
        if st.idle > 0 {
            cv.notify_one();
        } else if st.threads < self.max {
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name("devctld-check".into())
                .spawn(move || worker(&shared));
            if spawned.is_ok() {
                st.threads += 1;
            } else if st.threads == 0 {
                // No thread at all: do it here rather than never.
                drop(st);
                let work = lock
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .queue
                    .pop_back();
                if let Some(w) = work {
                    w();
                }
            }
        }
    }
}

fn worker(shared: &(Mutex<State>, Condvar)) {
    let (lock, cv) = shared;
    let mut st = lock.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(work) = st.queue.pop_front() {
            drop(st);
            work();
            st = lock.lock().unwrap_or_else(|e| e.into_inner());
            continue;
        }
        st.idle += 1;
        st = cv.wait(st).unwrap_or_else(|e| e.into_inner());
        st.idle -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn runs_everything_on_at_most_max_threads() {
        let pool = Pool::new(2);
        let (tx, rx) = mpsc::channel();
        for i in 0..20 {
            let tx = tx.clone();
            pool.run(Box::new(move || {
                std::thread::sleep(Duration::from_millis(2));
                tx.send((i, std::thread::current().id())).unwrap();
            }));
        }
        let got: Vec<_> = (0..20)
            .map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap())
            .collect();
        let mut ids: Vec<_> = got.iter().map(|(_, t)| *t).collect();
        ids.sort_by_key(|t| format!("{t:?}"));
        ids.dedup();
        assert!(ids.len() <= 2, "{} threads", ids.len());
        let mut done: Vec<i32> = got.iter().map(|(i, _)| *i).collect();
        done.sort();
        assert_eq!(done, (0..20).collect::<Vec<_>>());
        assert_eq!(pool.shared.0.lock().unwrap().threads, ids.len());
    }
}
