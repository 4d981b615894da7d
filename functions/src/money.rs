//! Money: euros as [`Decimal`] with at most two decimals, and the exact
//! conversion to and from Stripe's integer cents. Never a float.

use rust_decimal::Decimal;

/// Why an amount cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Amounts of money here are never negative.
    #[error("{0} is negative; an amount of money must be zero or more")]
    Negative(Decimal),
    /// A fraction of a cent cannot be charged or paid.
    #[error("{0} has more than two decimals; amounts are whole cents")]
    SubCent(Decimal),
    /// Does not fit in Stripe's 64-bit integer cents.
    #[error("{0} is too large to be expressed in cents")]
    Overflow(Decimal),
    /// A negative number of cents.
    #[error("{0} cents is negative; an amount of money must be zero or more")]
    NegativeCents(i64),
}

/// Euros → integer cents, exactly: `12.3` → `1230`. Refuses a negative
/// amount, a fraction of a cent (`0.001`; trailing zeros such as `1.500` are
/// fine) and an amount beyond `i64` cents.
pub fn to_cents(euros: Decimal) -> Result<i64, MoneyError> {
    if euros.is_sign_negative() && !euros.is_zero() {
        return Err(MoneyError::Negative(euros));
    }
    if euros.normalize().scale() > 2 {
        return Err(MoneyError::SubCent(euros));
    }
    euros
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|cents| i64::try_from(cents).ok())
        .ok_or(MoneyError::Overflow(euros))
}

/// Integer cents → euros, exactly, with two decimals: `1230` → `12.30`.
/// Refuses a negative number of cents.
pub fn from_cents(cents: i64) -> Result<Decimal, MoneyError> {
    if cents < 0 {
        return Err(MoneyError::NegativeCents(cents));
    }
    Ok(Decimal::new(cents, 2))
}

/// Rounds down to the cent (`pave_contract::matching::floor_cents`).
pub use pave_contract::matching::floor_cents;

/// Whether `amount` is a non-negative whole number of cents.
pub fn is_cents(amount: Decimal) -> bool {
    !amount.is_sign_negative() && amount.normalize().scale() <= 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn converts_exactly() {
        assert_eq!(to_cents(d("12.3")), Ok(1230));
        assert_eq!(to_cents(d("0.01")), Ok(1));
        assert_eq!(to_cents(d("500")), Ok(50_000));
        assert_eq!(to_cents(d("1.500")), Ok(150));
        assert_eq!(to_cents(Decimal::ZERO), Ok(0));
        assert_eq!(to_cents(d("-0.00")), Ok(0));
        assert_eq!(from_cents(1230), Ok(d("12.30")));
        assert_eq!(from_cents(1230).unwrap().to_string(), "12.30");
        assert_eq!(from_cents(0), Ok(Decimal::ZERO));
    }

    #[test]
    fn refuses_what_is_not_whole_cents() {
        assert_eq!(to_cents(d("0.001")), Err(MoneyError::SubCent(d("0.001"))));
        assert_eq!(to_cents(d("-1")), Err(MoneyError::Negative(d("-1"))));
        assert_eq!(from_cents(-1), Err(MoneyError::NegativeCents(-1)));
        let huge = d("92233720368547758.08"); // i64::MAX + 1 cents
        assert_eq!(to_cents(huge), Err(MoneyError::Overflow(huge)));
        assert_eq!(to_cents(d("92233720368547758.07")), Ok(i64::MAX));
        assert_eq!(
            to_cents(Decimal::MAX),
            Err(MoneyError::Overflow(Decimal::MAX))
        );
    }

    #[test]
    fn floors_to_the_cent() {
        assert_eq!(floor_cents(d("16.665")), d("16.66"));
        assert_eq!(floor_cents(d("10.005")), d("10.00"));
        assert_eq!(floor_cents(d("0.009")), Decimal::ZERO);
        assert_eq!(floor_cents(d("100")), d("100"));
        assert_eq!(floor_cents(d("-3")), Decimal::ZERO);
        assert_eq!(floor_cents(d("-0.001")), Decimal::ZERO);
        assert!(is_cents(d("1.10")) && is_cents(d("1.100")) && !is_cents(d("1.101")));
    }

    proptest! {
        #[test]
        fn cents_round_trip(cents in 0i64..=i64::MAX) {
            let euros = from_cents(cents).unwrap();
            prop_assert_eq!(to_cents(euros), Ok(cents));
        }

        #[test]
        fn floor_is_the_largest_cent_below(mantissa in any::<i64>(), scale in 0u32..8) {
            let x = Decimal::new(mantissa, scale);
            let f = floor_cents(x);
            prop_assert!(is_cents(f));
            prop_assert!(f <= x.max(Decimal::ZERO));
            prop_assert!(x < Decimal::ZERO || x - f < d("0.01"));
        }
    }
}
