//! The time as the stores see it: an input. The shell (`pave serve`, the
//! Lambdas, `pave close`) gives each store its clock when it builds it; the
//! stores never read the system time themselves, so a test can set the
//! time a reservation lapses or a campaign ends.

use std::sync::Arc;

/// A source of "now", in Unix seconds. Cheap to clone.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    /// The system's clock: what production runs on.
    pub fn system() -> Clock {
        Clock(Arc::new(|| jiff::Timestamp::now().as_second()))
    }

    /// A clock stopped at `at` (tests).
    pub fn fixed(at: i64) -> Clock {
        Clock(Arc::new(move || at))
    }

    /// A clock that reads `f` (tests that move time).
    pub fn from_fn(f: impl Fn() -> i64 + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(f))
    }

    /// The system's clock moved by whole days so that today, in
    /// `timezone`, is `day`: the time of day runs as usual. A preview's
    /// `pave serve --today` (a sample campaign tried on any date).
    pub fn on_day(day: jiff::civil::Date, timezone: &str) -> Clock {
        let now = jiff::Timestamp::now().to_zoned_datetime(pave_contract::calendar::zone(timezone));
        // The same wall-clock time on `day` (the zone's offset that day).
        let offset = now
            .with()
            .date(day)
            .build()
            .map(|there| there.timestamp().as_second() - now.timestamp().as_second())
            .unwrap_or_default();
        Clock(Arc::new(move || {
            jiff::Timestamp::now().as_second().saturating_add(offset)
        }))
    }

    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stays_and_a_function_clock_moves() {
        assert_eq!(Clock::fixed(1_800_000_000).now(), 1_800_000_000);
        let t = Arc::new(std::sync::atomic::AtomicI64::new(5));
        let read = t.clone();
        let clock = Clock::from_fn(move || read.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(clock.now(), 5);
        t.store(9, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(clock.now(), 9);
        assert!(Clock::system().now() > 1_700_000_000);
    }

    #[test]
    fn a_clock_on_another_day_is_that_day_there() {
        let day = jiff::civil::date(2026, 11, 23);
        let clock = Clock::on_day(day, "Europe/Paris");
        let at = jiff::Timestamp::from_second(clock.now()).unwrap();
        assert_eq!(
            pave_contract::calendar::day_of(at, "Europe/Paris"),
            day,
            "{at}"
        );
    }
}
