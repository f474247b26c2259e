//! Single flight: concurrent callers asking for the same work share one run of it and
//! its result, so a burst of requests costs one upstream call. Used for a token's
//! validation (keyed by its hash), a JWKS fetch and an issuer's discovery (one key each).
//!
//! A flight lives from its first caller until its first caller back removes it: later
//! callers start afresh (and find what the flight left behind: a cached result, fresh
//! keys, a found document). If the caller running the work goes away, a waiting one
//! takes the work over. The number of flights in progress is bounded; past the bound,
//! callers run their work on their own rather than wait in a queue that grows.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

type Flight<V> = Arc<tokio::sync::OnceCell<V>>;

pub(crate) struct SingleFlight<K, V> {
    flights: DashMap<K, Flight<V>>,
    /// Flights in progress: counted apart, since `DashMap::len` would lock every shard,
    /// including one held by an entry.
    in_progress: AtomicUsize,
    max: usize,
}

impl<K, V> std::fmt::Debug for SingleFlight<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleFlight")
            .field("in_progress", &self.in_progress.load(Ordering::Relaxed))
            .field("max", &self.max)
            .finish()
    }
}

impl<K: Hash + Eq + Clone, V: Clone> SingleFlight<K, V> {
    /// At most `max` flights in progress at once (at least one).
    pub(crate) fn new(max: usize) -> Self {
        Self {
            flights: DashMap::new(),
            in_progress: AtomicUsize::new(0),
            max: max.max(1),
        }
    }

    /// The result of `work` for `key`: of the flight in progress if there is one,
    /// else of a new flight running `work`.
    pub(crate) async fn run<F>(&self, key: K, work: impl FnOnce() -> F) -> V
    where
        F: Future<Output = V>,
    {
        let Some(flight) = self.board(&key, true) else {
            return work().await;
        };
        let value = flight.get_or_init(work).await.clone();
        self.land(&key, &flight);
        value
    }

    /// Runs `work` as a new flight, unless one for `key` is in progress (or too many
    /// are): then `None` at once, without waiting. For background work that may be
    /// skipped when someone is already at it.
    pub(crate) async fn run_unless_flying<F>(&self, key: K, work: impl FnOnce() -> F) -> Option<V>
    where
        F: Future<Output = V>,
    {
        let flight = self.board(&key, false)?;
        let value = flight.get_or_init(work).await.clone();
        self.land(&key, &flight);
        Some(value)
    }

    /// Joins the flight for `key` (when `join`) or starts one; `None` when there is one
    /// and `join` is false, or when `max` are in progress.
    fn board(&self, key: &K, join: bool) -> Option<Flight<V>> {
        match self.flights.entry(key.clone()) {
            Entry::Occupied(flight) => join.then(|| flight.get().clone()),
            Entry::Vacant(slot) => {
                let max = self.max;
                self.in_progress
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                        (n < max).then_some(n + 1)
                    })
                    .ok()?;
                let flight = Flight::default();
                slot.insert(flight.clone());
                Some(flight)
            }
        }
    }

    /// The first caller back removes the flight.
    fn land(&self, key: &K, flight: &Flight<V>) {
        if self
            .flights
            .remove_if(key, |_, f| Arc::ptr_eq(f, flight))
            .is_some()
        {
            self.in_progress.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Flights in progress.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.in_progress.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;

    /// A burst of callers runs the work once, and every caller gets its result.
    #[actix_web::test]
    async fn a_burst_shares_one_run() {
        let flights = SingleFlight::<u8, usize>::new(8);
        let runs = Rc::new(Cell::new(0));
        let gate = Rc::new(tokio::sync::Notify::new());
        let work = || {
            let (runs, gate) = (runs.clone(), gate.clone());
            async move {
                runs.set(runs.get() + 1);
                gate.notified().await;
                42
            }
        };
        let burst = futures_join(
            (0..100).map(|_| flights.run(1, work)).collect(),
            gate.clone(),
        );
        assert_eq!(burst.await, vec![42; 100]);
        assert_eq!(runs.get(), 1);
        assert_eq!(flights.len(), 0);
        // Landed: the next caller starts afresh.
        gate.notify_one();
        assert_eq!(flights.run(1, work).await, 42);
        assert_eq!(runs.get(), 2);
    }

    #[actix_web::test]
    async fn a_full_board_runs_callers_on_their_own_and_background_work_skips() {
        let flights = SingleFlight::<u8, u8>::new(1);
        let started = flights.board(&1, true);
        assert!(started.is_some());
        assert!(flights.board(&2, true).is_none(), "over the bound");
        assert!(flights.board(&1, false).is_none(), "in progress: skipped");
        assert_eq!(flights.run(2, || async { 7 }).await, 7);
        assert_eq!(flights.run_unless_flying(1, || async { 9 }).await, None);
        if let Some(flight) = &started {
            flights.land(&1, flight);
        }
        assert_eq!(flights.run_unless_flying(1, || async { 9 }).await, Some(9));
        assert_eq!(flights.len(), 0);
    }

    /// Polls every future until all are pending on the gate, opens it, and collects.
    async fn futures_join<F: Future<Output = usize>>(
        futures: Vec<F>,
        gate: Rc<tokio::sync::Notify>,
    ) -> Vec<usize> {
        let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
        let mut out = vec![None; futures.len()];
        let mut opened = false;
        std::future::poll_fn(|cx| {
            for (i, f) in futures.iter_mut().enumerate() {
                if out[i].is_none()
                    && let std::task::Poll::Ready(v) = f.as_mut().poll(cx)
                {
                    out[i] = Some(v);
                }
            }
            if !opened {
                opened = true;
                gate.notify_waiters();
                cx.waker().wake_by_ref();
            }
            if out.iter().all(Option::is_some) {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
        out.into_iter().flatten().collect()
    }
}
