//! [`Rate`]: how many requests per period a rate limit allows, and its text form
//! (`120/minute`), the one format the builder and the `MCP_OAUTH_RATE_LIMIT_*` variables
//! read.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use governor::Quota;

/// A rate limit: `count` requests per `period`, all of which may be spent at once (the
/// burst is `count`), after which one more is allowed every `period / count`: the generic
/// cell rate algorithm of `governor`, so a client that waits regains its budget
/// gradually, never all at the end of a fixed window.
///
/// Written `<count>/<unit>` with the unit `second`, `minute`, `hour` or `day` (also
/// `s`, `sec`, `min`, `m`, `h`, `d`, and plurals), optionally with a multiple:
/// `120/minute`, `10/second`, `3/hour`, `100/5min`, `500/300s`. `off` turns a limit off
/// where a variable accepts it.
///
/// ```
/// use std::time::Duration;
/// use mcp_oauth::Rate;
///
/// let rate: Rate = "120/minute".parse()?;
/// assert_eq!(rate, Rate::per_minute(120));
/// assert_eq!(rate.count(), 120);
/// assert_eq!(rate.period(), Duration::from_secs(60));
/// assert_eq!(rate.to_string(), "120/minute");
/// assert_eq!("100/5min".parse::<Rate>()?, Rate::new(100, Duration::from_secs(300)));
/// assert!("0/minute".parse::<Rate>().is_err());
/// assert!("fast".parse::<Rate>().is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    count: u32,
    period: Duration,
}

impl Rate {
    /// `count` requests per `period`. A count of zero, a zero period, or a period shorter
    /// than one nanosecond per request is a build error naming the setting.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rate = mcp_oauth::Rate::new(500, Duration::from_secs(300));
    /// assert_eq!(rate.to_string(), "500/300s");
    /// ```
    pub const fn new(count: u32, period: Duration) -> Self {
        Self { count, period }
    }

    /// `count` requests per second.
    ///
    /// ```
    /// assert_eq!(mcp_oauth::Rate::per_second(10).to_string(), "10/second");
    /// ```
    pub const fn per_second(count: u32) -> Self {
        Self::new(count, Duration::from_secs(1))
    }

    /// `count` requests per minute.
    ///
    /// ```
    /// assert_eq!(mcp_oauth::Rate::per_minute(60).to_string(), "60/minute");
    /// ```
    pub const fn per_minute(count: u32) -> Self {
        Self::new(count, Duration::from_secs(60))
    }

    /// `count` requests per hour.
    ///
    /// ```
    /// assert_eq!(mcp_oauth::Rate::per_hour(3).to_string(), "3/hour");
    /// ```
    pub const fn per_hour(count: u32) -> Self {
        Self::new(count, Duration::from_secs(3600))
    }

    /// How many requests per [`period`](Self::period) (and at once).
    ///
    /// ```
    /// assert_eq!(mcp_oauth::Rate::per_hour(3).count(), 3);
    /// ```
    pub const fn count(&self) -> u32 {
        self.count
    }

    /// The period the [`count`](Self::count) is spread over.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(mcp_oauth::Rate::per_hour(3).period(), Duration::from_secs(3600));
    /// ```
    pub const fn period(&self) -> Duration {
        self.period
    }

    /// The `governor` quota: a burst of `count`, one cell back every `period / count`;
    /// why not, when the rate cannot be one.
    pub(crate) fn quota(&self) -> Result<Quota, String> {
        let count = NonZeroU32::new(self.count).ok_or("the count must be at least 1")?;
        if self.period.is_zero() {
            return Err("the period must be longer than zero".to_owned());
        }
        let interval = self.period / self.count;
        Quota::with_period(interval)
            .map(|q| q.allow_burst(count))
            .ok_or_else(|| "more than one request per nanosecond".to_owned())
    }
}

/// The units [`Rate`] reads, with their length; the first spelling is the one it writes.
const UNITS: &[(&[&str], u64)] = &[
    (&["second", "seconds", "sec", "s"], 1),
    (&["minute", "minutes", "min", "m"], 60),
    (&["hour", "hours", "h"], 3600),
    (&["day", "days", "d"], 86_400),
];

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || {
            format!(
                "`{s}` is not a rate: write <count>/<unit>, e.g. 120/minute, 10/second, 3/hour, or `off`"
            )
        };
        let (count, unit) = s.trim().split_once('/').ok_or_else(usage)?;
        let count: u32 = count.trim().parse().map_err(|_| usage())?;
        let unit = unit.trim().to_ascii_lowercase();
        let digits = unit.len() - unit.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (times, name) = unit.split_at(digits);
        let times: u64 = if times.is_empty() {
            1
        } else {
            times.parse().map_err(|_| usage())?
        };
        let secs = UNITS
            .iter()
            .find(|(names, _)| names.contains(&name.trim()))
            .and_then(|(_, secs)| secs.checked_mul(times))
            .ok_or_else(usage)?;
        let rate = Self::new(count, Duration::from_secs(secs));
        rate.quota().map_err(|why| format!("`{s}`: {why}"))?;
        Ok(rate)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = UNITS
            .iter()
            .find(|(_, secs)| Duration::from_secs(*secs) == self.period);
        match unit {
            Some((names, _)) => write!(f, "{}/{}", self.count, names[0]),
            None if self.period.subsec_nanos() == 0 => {
                write!(f, "{}/{}s", self.count, self.period.as_secs())
            }
            None => write!(f, "{}/{:?}", self.count, self.period),
        }
    }
}

/// A rate setting as the variables write it: a [`Rate`], or `off`.
pub(crate) fn parse_setting(value: &str) -> Result<Option<Rate>, String> {
    if value.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    value.parse().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_spellings() {
        for (text, rate) in [
            ("10/second", Rate::per_second(10)),
            ("10/s", Rate::per_second(10)),
            (" 60 / Min ", Rate::per_minute(60)),
            ("3/hours", Rate::per_hour(3)),
            ("2/d", Rate::new(2, Duration::from_secs(86_400))),
            ("100/5min", Rate::new(100, Duration::from_secs(300))),
            ("500/300s", Rate::new(500, Duration::from_secs(300))),
        ] {
            assert_eq!(text.parse::<Rate>(), Ok(rate), "{text}");
        }
        assert_eq!(parse_setting("OFF"), Ok(None));
    }

    #[test]
    fn bad_rates_say_what_is_accepted() {
        for bad in [
            "",
            "10",
            "10/fortnight",
            "-1/second",
            "x/second",
            "0/hour",
            "1/0s",
            "1/5",
        ] {
            let err = bad.parse::<Rate>().unwrap_err();
            assert!(err.contains(&format!("`{bad}`")), "{bad}: {err}");
        }
        assert!(Rate::per_second(0).quota().is_err());
        assert!(Rate::new(5, Duration::ZERO).quota().is_err());
    }

    #[test]
    fn the_quota_allows_the_whole_count_at_once() {
        let quota = Rate::per_hour(3).quota().unwrap();
        assert_eq!(quota.burst_size().get(), 3);
        assert_eq!(quota.replenish_interval(), Duration::from_secs(1200));
    }
}
