//! Money, numbers, percentages and dates the way each language writes them:
//! "1 770 €", "12,50 €", "118 %" and "16 mai 2026" in French, "€1,770",
//! "€12.50", "118%" and "16 May 2026" in English.

use jiff::civil::Date;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::Lang;

/// U+202F NARROW NO-BREAK SPACE: French thousands separator and space before "€".
pub const NNBSP: char = '\u{202F}';

/// Groups the digits of a whole number with `sep` every three digits.
fn group(digits: &str, sep: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * sep.len_utf8());
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// An amount in euros: whole amounts without decimals, others with two
/// (sub-cent digits are dropped, never rounded up).
pub fn money(amount: Decimal, lang: Lang) -> String {
    let cents = amount.round_dp_with_strategy(2, RoundingStrategy::ToZero);
    let sign = if cents.is_sign_negative() && !cents.is_zero() {
        "-"
    } else {
        ""
    };
    let abs = cents.abs();
    let whole = abs.trunc().to_string();
    let fraction = ((abs - abs.trunc()) * Decimal::ONE_HUNDRED).trunc();
    match lang {
        Lang::Fr => {
            let mut s = format!("{sign}{}", group(&whole, NNBSP));
            if !fraction.is_zero() {
                s.push_str(&format!(",{fraction:0>2}"));
            }
            s.push(NNBSP);
            s.push('€');
            s
        }
        Lang::En => {
            let mut s = format!("{sign}€{}", group(&whole, ','));
            if !fraction.is_zero() {
                s.push_str(&format!(".{fraction:0>2}"));
            }
            s
        }
    }
}

/// A number with the language's digit grouping (no currency).
pub fn number(n: u64, lang: Lang) -> String {
    match lang {
        Lang::Fr => group(&n.to_string(), NNBSP),
        Lang::En => group(&n.to_string(), ','),
    }
}

/// A percentage: "118 %" in French (narrow no-break space), "118%" in English.
pub fn percent(p: u32, lang: Lang) -> String {
    match lang {
        Lang::Fr => format!("{p}{NNBSP}%"),
        Lang::En => format!("{p}%"),
    }
}

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A calendar date: "16 mai 2026" ("1er août 2026"), "16 May 2026".
pub fn date(d: Date, lang: Lang) -> String {
    let month = usize::try_from(d.month() - 1).unwrap_or(0).min(11);
    match lang {
        Lang::Fr if d.day() == 1 => format!("1er {} {}", MONTHS_FR[month], d.year()),
        Lang::Fr => format!("{} {} {}", d.day(), MONTHS_FR[month], d.year()),
        Lang::En => format!("{} {} {}", d.day(), MONTHS_EN[month], d.year()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn french_money() {
        assert_eq!(money(d("1770"), Lang::Fr), "1\u{202F}770\u{202F}€");
        assert_eq!(money(d("1770.00"), Lang::Fr), "1\u{202F}770\u{202F}€");
        assert_eq!(money(d("12.5"), Lang::Fr), "12,50\u{202F}€");
        assert_eq!(
            money(d("1234567.09"), Lang::Fr),
            "1\u{202F}234\u{202F}567,09\u{202F}€"
        );
        assert_eq!(money(d("0"), Lang::Fr), "0\u{202F}€");
        assert_eq!(money(d("999"), Lang::Fr), "999\u{202F}€");
        // Edges.
        assert_eq!(money(d("0.50"), Lang::Fr), "0,50\u{202F}€");
        assert_eq!(money(d("0.05"), Lang::Fr), "0,05\u{202F}€");
        assert_eq!(money(d("1000"), Lang::Fr), "1\u{202F}000\u{202F}€");
        assert_eq!(
            money(d("1000000"), Lang::Fr),
            "1\u{202F}000\u{202F}000\u{202F}€"
        );
        assert_eq!(money(d("12.509"), Lang::Fr), "12,50\u{202F}€");
        assert_eq!(money(d("-3.5"), Lang::Fr), "-3,50\u{202F}€");
        assert_eq!(money(d("-0.001"), Lang::Fr), "0\u{202F}€");
    }

    #[test]
    fn english_money() {
        assert_eq!(money(d("1770"), Lang::En), "€1,770");
        assert_eq!(money(d("12.5"), Lang::En), "€12.50");
        assert_eq!(money(d("1234567.09"), Lang::En), "€1,234,567.09");
        assert_eq!(money(d("0.50"), Lang::En), "€0.50");
        assert_eq!(money(d("1000000"), Lang::En), "€1,000,000");
        assert_eq!(money(d("100"), Lang::En), "€100");
    }

    #[test]
    fn money_never_panics_at_the_extremes() {
        for amount in [Decimal::MAX, Decimal::MIN, Decimal::new(1, 28)] {
            for lang in [Lang::Fr, Lang::En] {
                assert!(!money(amount, lang).is_empty());
            }
        }
    }

    #[test]
    fn percents_and_numbers() {
        assert_eq!(percent(118, Lang::Fr), "118\u{202F}%");
        assert_eq!(percent(118, Lang::En), "118%");
        assert_eq!(number(12345, Lang::Fr), "12\u{202F}345");
        assert_eq!(number(12345, Lang::En), "12,345");
    }

    #[test]
    fn dates() {
        let may16 = Date::new(2026, 5, 16).unwrap();
        assert_eq!(date(may16, Lang::Fr), "16 mai 2026");
        assert_eq!(date(may16, Lang::En), "16 May 2026");
        let aug1 = Date::new(2026, 8, 1).unwrap();
        assert_eq!(date(aug1, Lang::Fr), "1er août 2026");
        assert_eq!(date(aug1, Lang::En), "1 August 2026");
        assert_eq!(
            date(Date::new(2027, 1, 1).unwrap(), Lang::Fr),
            "1er janvier 2027"
        );
        assert_eq!(
            date(Date::new(2026, 12, 31).unwrap(), Lang::Fr),
            "31 décembre 2026"
        );
        assert_eq!(
            date(Date::new(2026, 2, 11).unwrap(), Lang::Fr),
            "11 février 2026"
        );
    }
}
