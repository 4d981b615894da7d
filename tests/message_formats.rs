//! The API's messages write money and dates exactly as the site does: the
//! functions' small formatter (`pave_functions::messages`) against the
//! generator's (`pave_generator::render::format`), which functions does not
//! depend on.

use jiff::civil::Date;
use pave_functions::messages::{self, Lang};
use pave_functions::money::from_cents;
use pave_generator::render::format;

const LANGS: [(Lang, format::Lang); 2] =
    [(Lang::Fr, format::Lang::Fr), (Lang::En, format::Lang::En)];

#[test]
fn money_is_written_as_the_site_writes_it() {
    let cents = [
        0,
        1,
        5,
        50,
        99,
        100,
        1_250,
        99_999,
        100_000,
        177_000,
        123_456_709,
        100_000_000,
        i64::MAX,
    ];
    for c in cents {
        let amount = from_cents(c).unwrap();
        for (ours, theirs) in LANGS {
            assert_eq!(
                messages::money(amount, ours),
                format::money(amount, theirs),
                "{c} cents in {ours:?}"
            );
        }
    }
}

#[test]
fn dates_are_written_as_the_site_writes_them() {
    for (year, month, day) in [
        (2026, 1, 1),
        (2026, 5, 16),
        (2026, 8, 1),
        (2027, 12, 31),
        (2026, 2, 28),
    ] {
        let d = Date::new(year, month, day).unwrap();
        for (ours, theirs) in LANGS {
            assert_eq!(
                messages::date(d, ours),
                format::date(d, theirs),
                "{d} in {ours:?}"
            );
        }
    }
}
