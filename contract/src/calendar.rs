//! A campaign's calendar: its days are calendar days in its time zone
//! (Europe/Paris by default), both ends included, so a campaign ending on 30
//! April ends at 23:59:59 that day, local time. Time is always an input.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// The time zone named `timezone` (UTC when unknown: `pave check` refuses
/// unknown names, so this happens only with a hand-written catalog).
pub fn zone(timezone: &str) -> TimeZone {
    TimeZone::get(timezone).unwrap_or(TimeZone::UTC)
}

/// The calendar day of `at` in `timezone`.
pub fn day_of(at: Timestamp, timezone: &str) -> Date {
    at.to_zoned_datetime(zone(timezone)).date()
}

/// The calendar day of a unix time (seconds) in `timezone`.
pub fn day_in(at: i64, timezone: &str) -> Date {
    day_of(
        Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH),
        timezone,
    )
}

/// Whether a campaign whose last day is `end` is over at `now`: its last
/// day has passed in its time zone.
pub fn is_over(end: Date, timezone: &str, now: Timestamp) -> bool {
    day_of(now, timezone) > end
}

/// The first instant after a campaign whose last day is `end` (midnight
/// after it, local time).
pub fn closes_at(end: Date, timezone: &str) -> Timestamp {
    let next = end.tomorrow().unwrap_or(end);
    next.at(0, 0, 0, 0)
        .to_zoned_datetime(zone(timezone))
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MAX)
}

/// The first instant of a campaign whose first day is `start`.
pub fn opens_at(start: Date, timezone: &str) -> Timestamp {
    start
        .at(0, 0, 0, 0)
        .to_zoned_datetime(zone(timezone))
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_campaign_ends_at_midnight_after_its_last_day_local_time() {
        let end = date(2026, 4, 30);
        // 23:59:59 in Paris (UTC+2 in April) is 21:59:59 UTC.
        let last: Timestamp = "2026-04-30T21:59:59Z".parse().unwrap();
        assert_eq!(day_of(last, "Europe/Paris"), end);
        assert!(!is_over(end, "Europe/Paris", last));
        let after: Timestamp = "2026-04-30T22:00:00Z".parse().unwrap();
        assert!(is_over(end, "Europe/Paris", after));
        assert_eq!(closes_at(end, "Europe/Paris"), after);
        // In Cayenne (UTC−3) the same instant is still the 30th.
        assert!(!is_over(end, "America/Cayenne", after));
        assert_eq!(
            opens_at(date(2026, 3, 1), "Europe/Paris"),
            "2026-02-28T23:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(day_in(1_777_586_399, "Europe/Paris"), end);
        assert_eq!(day_in(1_777_586_400, "Europe/Paris"), date(2026, 5, 1));
        assert_eq!(day_in(0, "Nowhere/Unknown"), date(1970, 1, 1));
    }
}
