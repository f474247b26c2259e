//! What time it is, for the code that keeps things for a while (the validation cache, the
//! key cache): the system clocks, which unit tests can move forward, so a TTL, a
//! cooldown or a back-off is crossed by a step of the clock instead of a sleep.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// The monotonic and the wall clock, both ahead of the system's by a shared offset that
/// only tests set (zero, and never read, in production).
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    /// Nanoseconds added to both clocks; `None`: the system clocks as they are.
    offset: Option<Arc<AtomicU64>>,
}

impl Clock {
    fn offset(&self) -> Duration {
        self.offset.as_ref().map_or(Duration::ZERO, |o| {
            Duration::from_nanos(o.load(Ordering::Acquire))
        })
    }

    /// The monotonic clock (deadlines, back-offs).
    pub(crate) fn now(&self) -> Instant {
        Instant::now() + self.offset()
    }

    /// The wall clock (`exp`).
    pub(crate) fn wall(&self) -> SystemTime {
        SystemTime::now() + self.offset()
    }

    /// A clock a test moves forward with [`advance`](Self::advance) (clones share it).
    #[cfg(test)]
    pub(crate) fn manual() -> Self {
        Self {
            offset: Some(Arc::default()),
        }
    }

    /// Moves both clocks forward by `d` (a no-op on the system clock).
    #[cfg(test)]
    pub(crate) fn advance(&self, d: Duration) {
        if let Some(offset) = &self.offset {
            let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
            offset.fetch_add(nanos, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_is_the_system_clock_moved_forward_and_shared_by_its_clones() {
        let clock = Clock::manual();
        let copy = clock.clone();
        let (before, wall_before) = (Instant::now(), SystemTime::now());
        clock.advance(Duration::from_secs(3600));
        assert!(copy.now() >= before + Duration::from_secs(3600));
        assert!(copy.wall() >= wall_before + Duration::from_secs(3600));
        // The system clock cannot be moved.
        Clock::default().advance(Duration::from_secs(3600));
        assert!(Clock::default().now() < before + Duration::from_secs(3600));
    }
}
