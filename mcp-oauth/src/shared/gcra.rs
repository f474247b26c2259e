//! Rate limits shared by a fleet: one step of the generic cell rate algorithm (ITU-T
//! I.371 §4.4.2, as `governor` does it) on a key of the shared tier, atomically, in one
//! round trip. The key holds the theoretical arrival time (TAT) of the next request and
//! expires when that time has come (then the key is full again, the same as no key), so
//! nothing outlives its use.

use std::time::Duration;

/// A rate as the algorithm reads it: one cell back every `interval`, `burst` cells at
/// most (`governor`'s `Quota`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cells {
    pub(crate) interval: Duration,
    pub(crate) burst: u32,
}

impl Cells {
    /// How far ahead of now the TAT may be for a request to pass (governor's `tau`: the
    /// cells beyond the first).
    pub(crate) fn tolerance(self) -> Duration {
        self.interval.saturating_mul(self.burst.saturating_sub(1))
    }

    /// One step against `ahead` (how far the key's TAT is ahead of now; zero for a key
    /// that is not there): the new TAT's distance from now, or how long to wait.
    pub(crate) fn step(self, ahead: Duration) -> Result<Duration, Duration> {
        let tolerance = self.tolerance();
        if ahead > tolerance {
            return Err(ahead - tolerance);
        }
        Ok(ahead.saturating_add(self.interval))
    }

    /// The interval and the tolerance in whole microseconds (the script's unit: the
    /// server's clock to the microsecond stays exact in a Lua number), at least 1.
    #[cfg(feature = "redis")]
    pub(crate) fn micros(self) -> (u64, u64) {
        let interval = u64::try_from(self.interval.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        (
            interval,
            interval.saturating_mul(u64::from(self.burst.max(1) - 1)),
        )
    }
}

/// The step on Redis or Valkey: `KEYS[1]` the key, `ARGV[1]` the interval and `ARGV[2]`
/// the tolerance in microseconds. The clock is the server's (`TIME`), one for the whole
/// fleet, so instances whose clocks differ still agree. Answers 0 when the request
/// passes (the TAT moved one interval on, the key expiring at it), else the wait in
/// microseconds (nothing written). Scripts run atomically (Redis `EVAL`: no other
/// command runs in between), and `TIME` before a write is allowed since scripts
/// replicate their effects (the default from Redis 5, the only mode from 7).
#[cfg(feature = "redis")]
pub(crate) const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then tat = now end
if tat - now > tolerance then
  return tat - now - tolerance
end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
return 0
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_three_then_one_interval_to_wait() {
        let cells = Cells {
            interval: Duration::from_secs(1200),
            burst: 3,
        };
        let mut ahead = Duration::ZERO;
        for n in 1..=3 {
            ahead = cells.step(ahead).unwrap();
            assert_eq!(ahead, Duration::from_secs(1200 * n));
        }
        assert_eq!(cells.step(ahead), Err(Duration::from_secs(1200)));
        #[cfg(feature = "redis")]
        assert_eq!(cells.micros(), (1_200_000_000, 2_400_000_000));
    }
}
