//! Money and ratios in content files: exact decimals, never floats.
//!
//! YAML numbers reach serde as integers or floats. A float is turned back into
//! the shortest decimal text that reads as the same number (what the editor
//! typed, for any amount a human writes) and parsed exactly from that text.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};

struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number such as 1500 or 12.50")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::custom("expected a finite number such as 1500 or 12.50"));
        }
        Decimal::from_str(&v.to_string())
            .or_else(|_| Decimal::from_scientific(&format!("{v:e}")))
            .map_err(|_| E::custom(format!("{v} is out of range for an amount")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        let trimmed = v.trim();
        Decimal::from_str(trimmed).map_err(|_| {
            if trimmed.contains(',') {
                E::custom(format!(
                    "`{v}` is not a number: write decimals with a dot (12.50), without thousands separators"
                ))
            } else {
                E::custom(format!("`{v}` is not a number such as 1500 or 12.50"))
            }
        })
    }
}

/// Deserializes an exact decimal from a YAML number.
pub fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecimalVisitor)
}

/// Deserializes an optional exact decimal.
pub fn de_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    struct OptVisitor;
    impl<'de> Visitor<'de> for OptVisitor {
        type Value = Option<Decimal>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number such as 1500 or 12.50")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            de(d).map(Some)
        }
    }
    d.deserialize_option(OptVisitor)
}

/// Whether an amount has at most two decimals (whole cents).
pub fn is_whole_cents(amount: Decimal) -> bool {
    amount.normalize().scale() <= 2
}
