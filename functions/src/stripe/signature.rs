//! Verification of Stripe's `Stripe-Signature` webhook header (pure, no I/O).
//!
//! Stripe signs each webhook delivery with the endpoint's secret:
//! `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
//! The header may carry several `v1` values (during a secret rotation Stripe signs
//! with every active secret) and other schemes (`v0`, test-mode only) that are
//! ignored. A delivery is accepted when any `v1` value matches and its timestamp is
//! within the tolerance of the current time, which bounds replays.
//!
//! Rules, in the order they are applied:
//! 1. the secret is not empty (a missing configuration fails closed);
//! 2. the header is at most [`MAX_HEADER_LEN`] bytes and every comma-separated
//!    part is `key=value`; exactly one `t`, made of ASCII digits;
//! 3. at least one `v1` value;
//! 4. the HMAC of `"{t}.{payload}"` equals one of the `v1` values, compared in
//!    constant time against every value (the loop does not stop at a match);
//! 5. `|now - t| <= tolerance` (both stale and future timestamps are refused).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

/// Stripe's own default tolerance between the signed timestamp and now.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Longest `Stripe-Signature` header accepted, in bytes. A real one is ~150
/// bytes; a few rotated secrets stay far below this.
pub const MAX_HEADER_LEN: usize = 4096;

/// Length of a SHA-256 MAC in bytes.
const MAC_LEN: usize = 32;

/// Why a webhook delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The webhook secret is empty: configuration is missing.
    #[error("the webhook signing secret is empty")]
    EmptySecret,
    /// The header is longer than [`MAX_HEADER_LEN`].
    #[error("the Stripe-Signature header is longer than {MAX_HEADER_LEN} bytes")]
    HeaderTooLong,
    /// A part of the header is not `key=value`.
    #[error("the Stripe-Signature header has a part that is not `key=value`")]
    MalformedHeader,
    /// The header has no `t=` part.
    #[error("the Stripe-Signature header has no timestamp (`t=`)")]
    MissingTimestamp,
    /// The `t=` part is not a Unix time in seconds, or appears twice.
    #[error("the Stripe-Signature timestamp is not a single Unix time in seconds")]
    BadTimestamp,
    /// The header has no `v1=` part.
    #[error("the Stripe-Signature header has no `v1` signature")]
    NoV1Signature,
    /// No `v1` value matches the payload and secret.
    #[error("no `v1` signature matches the payload")]
    Mismatch,
    /// The signature is authentic but its timestamp is too far from now
    /// (a replay, or a clock out of sync).
    #[error(
        "the signed timestamp {timestamp} is more than {tolerance_secs} s away from now ({now})"
    )]
    OutsideTolerance {
        /// The signed timestamp (`t=`).
        timestamp: i64,
        /// The time the delivery was checked at.
        now: i64,
        /// The tolerance that was applied.
        tolerance_secs: i64,
    },
}

/// The parts of a `Stripe-Signature` header that matter.
#[derive(Debug, PartialEq, Eq)]
struct Header<'a> {
    timestamp: i64,
    v1: Vec<&'a str>,
}

/// Splits the header into its timestamp and `v1` values; unknown schemes are ignored.
fn parse_header(header: &str) -> Result<Header<'_>, SignatureError> {
    if header.len() > MAX_HEADER_LEN {
        return Err(SignatureError::HeaderTooLong);
    }
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::MalformedHeader)?;
        match key {
            "t" => {
                if timestamp.is_some()
                    || value.is_empty()
                    || !value.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(SignatureError::BadTimestamp);
                }
                timestamp = Some(value.parse().map_err(|_| SignatureError::BadTimestamp)?);
            }
            "v1" => v1.push(value),
            _ => {} // v0 and future schemes
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::MissingTimestamp)?;
    if v1.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }
    Ok(Header { timestamp, v1 })
}

/// HMAC-SHA256 of `"{timestamp}.{payload}"` under `secret`.
fn mac(payload: &[u8], secret: &str, timestamp: i64) -> [u8; MAC_LEN] {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

/// Checks a webhook delivery: `payload` is the raw request body, `header` the
/// `Stripe-Signature` value, `now` the current Unix time in seconds and
/// `tolerance_secs` the largest accepted distance between `now` and the signed
/// timestamp ([`DEFAULT_TOLERANCE_SECS`] in production; negative counts as 0).
///
/// # Errors
/// The first rule of the module documentation that the delivery breaks.
pub fn verify(
    payload: &[u8],
    header: &str,
    secret: &str,
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::EmptySecret);
    }
    let parsed = parse_header(header)?;
    let expected = mac(payload, secret, parsed.timestamp);
    // Compare against every value, without stopping at the first match, so the
    // time taken does not say which one matched. Values that are not 64 hex
    // digits cannot match; their length is public anyway.
    let mut matched = Choice::from(0);
    for candidate in &parsed.v1 {
        let mut bytes = [0u8; MAC_LEN];
        if hex::decode_to_slice(candidate, &mut bytes).is_ok() {
            matched |= expected.ct_eq(&bytes);
        }
    }
    if !bool::from(matched) {
        return Err(SignatureError::Mismatch);
    }
    let tolerance_secs = tolerance_secs.max(0);
    if now.abs_diff(parsed.timestamp) > tolerance_secs.unsigned_abs() {
        return Err(SignatureError::OutsideTolerance {
            timestamp: parsed.timestamp,
            now,
            tolerance_secs,
        });
    }
    Ok(())
}

/// Signs `payload` as Stripe does at time `timestamp`, returning the header value
/// `t=<timestamp>,v1=<hex>` (for tests and the local test payment provider).
#[must_use]
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(payload, secret, timestamp))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event","type":"checkout.session.completed"}"#;
    const T: i64 = 1_767_225_600;

    fn v1(payload: &[u8], secret: &str, t: i64) -> String {
        hex::encode(mac(payload, secret, t))
    }

    #[test]
    fn accepts_its_own_signature() {
        let header = sign(BODY, SECRET, T);
        assert_eq!(
            verify(BODY, &header, SECRET, T, DEFAULT_TOLERANCE_SECS),
            Ok(())
        );
    }

    #[test]
    fn sign_produces_stripes_header_format() {
        let header = sign(BODY, SECRET, T);
        let (t, sig) = header.split_once(",v1=").unwrap();
        assert_eq!(t, format!("t={T}"));
        assert_eq!(sig.len(), 64);
        assert!(
            sig.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    #[test]
    fn matches_an_independent_computation() {
        // `printf '1492774577.payload' | openssl dgst -sha256 -hmac secret`
        assert_eq!(
            sign(b"payload", "secret", 1_492_774_577),
            "t=1492774577,v1=e0c2871529e0b98ab0ddf08603bc8e7869caa12caf1a092ff5e87db4c439a949"
        );
    }

    #[test]
    fn parts_in_any_order_and_unknown_schemes_are_ignored() {
        let sig = v1(BODY, SECRET, T);
        let header = format!("v0=deadbeef,v1={sig},t={T},v9=future");
        assert_eq!(verify(BODY, &header, SECRET, T, 300), Ok(()));
        let spaced = format!("t={T}, v1={sig}");
        assert_eq!(verify(BODY, &spaced, SECRET, T, 300), Ok(()));
    }

    #[test]
    fn accepts_when_only_the_second_v1_matches() {
        let old = v1(BODY, "whsec_old_secret", T);
        let good = v1(BODY, SECRET, T);
        let header = format!("t={T},v1={old},v1={good}");
        assert_eq!(verify(BODY, &header, SECRET, T, 300), Ok(()));
        // And the other way round: the old secret's value alone does not pass.
        let header = format!("t={T},v1={old}");
        assert_eq!(
            verify(BODY, &header, SECRET, T, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn refuses_a_tampered_payload() {
        let header = sign(BODY, SECRET, T);
        let tampered = br#"{"id":"evt_1","object":"event","type":"checkout.session.expired"}"#;
        assert_eq!(
            verify(tampered, &header, SECRET, T, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn refuses_a_wrong_secret() {
        let header = sign(BODY, "whsec_other", T);
        assert_eq!(
            verify(BODY, &header, SECRET, T, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn refuses_a_changed_timestamp() {
        // The timestamp is part of what is signed: moving it breaks the MAC.
        let sig = v1(BODY, SECRET, T);
        let header = format!("t={},v1={sig}", T + 1);
        assert_eq!(
            verify(BODY, &header, SECRET, T, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn refuses_v1_values_that_are_not_hex_or_not_32_bytes() {
        let sig = v1(BODY, SECRET, T);
        for bad in [
            &sig[..62],
            "zz",
            "",
            &format!("{sig}00"),
            &sig.replace('a', "g"),
        ] {
            let header = format!("t={T},v1={bad}");
            assert_eq!(
                verify(BODY, &header, SECRET, T, 300),
                Err(SignatureError::Mismatch),
                "{bad}"
            );
        }
        // Uppercase hex is the same bytes.
        let header = format!("t={T},v1={}", sig.to_uppercase());
        assert_eq!(verify(BODY, &header, SECRET, T, 300), Ok(()));
    }

    #[test]
    fn tolerance_edges_are_inclusive_and_off_by_one_refused() {
        let header = sign(BODY, SECRET, T);
        assert_eq!(verify(BODY, &header, SECRET, T + 300, 300), Ok(()));
        assert_eq!(verify(BODY, &header, SECRET, T - 300, 300), Ok(()));
        assert_eq!(
            verify(BODY, &header, SECRET, T + 301, 300),
            Err(SignatureError::OutsideTolerance {
                timestamp: T,
                now: T + 301,
                tolerance_secs: 300
            })
        );
        // A timestamp from the future beyond the tolerance is refused too.
        assert_eq!(
            verify(BODY, &header, SECRET, T - 301, 300),
            Err(SignatureError::OutsideTolerance {
                timestamp: T,
                now: T - 301,
                tolerance_secs: 300
            })
        );
    }

    #[test]
    fn zero_or_negative_tolerance_means_exact_second() {
        let header = sign(BODY, SECRET, T);
        assert_eq!(verify(BODY, &header, SECRET, T, 0), Ok(()));
        assert!(verify(BODY, &header, SECRET, T + 1, 0).is_err());
        assert!(verify(BODY, &header, SECRET, T + 1, -5).is_err());
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let header = sign(BODY, SECRET, 0);
        assert!(matches!(
            verify(BODY, &header, SECRET, i64::MIN, i64::MAX),
            Ok(()) | Err(SignatureError::OutsideTolerance { .. })
        ));
        assert!(verify(BODY, &header, SECRET, i64::MAX, 300).is_err());
        let big = format!("t={},v1={}", i64::MAX, v1(BODY, SECRET, i64::MAX));
        assert_eq!(verify(BODY, &big, SECRET, i64::MAX, 300), Ok(()));
    }

    #[test]
    fn missing_header_parts() {
        let sig = v1(BODY, SECRET, T);
        let cases: &[(&str, SignatureError)] = &[
            ("", SignatureError::MalformedHeader),
            ("garbage", SignatureError::MalformedHeader),
            (&format!("t={T},v1"), SignatureError::MalformedHeader),
            (&format!("v1={sig}"), SignatureError::MissingTimestamp),
            (&format!("t={T}"), SignatureError::NoV1Signature),
            (&format!("t={T},v0={sig}"), SignatureError::NoV1Signature),
        ];
        for (header, want) in cases {
            assert_eq!(
                verify(BODY, header, SECRET, T, 300).as_ref(),
                Err(want),
                "{header:?}"
            );
        }
    }

    #[test]
    fn bad_timestamps() {
        let sig = v1(BODY, SECRET, T);
        for t in ["", "abc", "-5", "+5", "1.5", "99999999999999999999", " 12"] {
            let header = format!("t={t},v1={sig}");
            let got = verify(BODY, &header, SECRET, T, 300);
            assert!(
                matches!(got, Err(SignatureError::BadTimestamp)),
                "t={t:?} gave {got:?}"
            );
        }
        let twice = format!("t={T},t={T},v1={sig}");
        assert_eq!(
            verify(BODY, &twice, SECRET, T, 300),
            Err(SignatureError::BadTimestamp)
        );
    }

    #[test]
    fn empty_secret_fails_closed() {
        let header = sign(BODY, "", T);
        assert_eq!(
            verify(BODY, &header, "", T, 300),
            Err(SignatureError::EmptySecret)
        );
    }

    #[test]
    fn overlong_header_is_refused_before_parsing() {
        let header = format!("t={T},{}", "v1=00,".repeat(MAX_HEADER_LEN / 6 + 1));
        assert_eq!(
            verify(BODY, &header, SECRET, T, 300),
            Err(SignatureError::HeaderTooLong)
        );
    }

    #[test]
    fn empty_payload_is_signed_like_any_other() {
        let header = sign(b"", SECRET, T);
        assert_eq!(verify(b"", &header, SECRET, T, 300), Ok(()));
        assert_eq!(
            verify(b" ", &header, SECRET, T, 300),
            Err(SignatureError::Mismatch)
        );
    }
}
