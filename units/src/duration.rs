//! Durations in unit files: written canonically as one integer and the
//! largest unit that represents them exactly (`10s`, `200ms`, `1500us`,
//! `10min`, `0`), read in every systemd time-span form (`1min 30s`, `90`,
//! `1.5s`, `2h`, `500 msec`), exactly to the nanosecond.

use std::time::Duration;

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum DurationError {
    #[error("empty duration")]
    #[diagnostic(
        code(devctl::duration::empty),
        help("write a duration such as `10s` or `200ms`")
    )]
    Empty,
    #[error("expected a number at byte {offset}")]
    #[diagnostic(
        code(devctl::duration::number),
        help("a duration is numbers with units: `1min 30s`, `1.5s`, `200ms`")
    )]
    BadNumber { offset: usize },
    #[error("unknown time unit `{unit}`")]
    #[diagnostic(
        code(devctl::duration::unit),
        help("units: ns, us, ms, s, min (or m), h, d, w, M (month), y")
    )]
    UnknownUnit { unit: String },
    #[error("duration is too long")]
    #[diagnostic(
        code(devctl::duration::overflow),
        help("durations must fit in 2^64 seconds")
    )]
    Overflow,
    #[error("`infinity` is not a duration devctl accepts")]
    #[diagnostic(
        code(devctl::duration::infinite),
        help("leave the setting out for no limit")
    )]
    Infinite,
}

const NS_PER_SEC: u128 = 1_000_000_000;

/// Units written by [`format`], largest first.
const CANONICAL: [(&str, u128); 7] = [
    ("d", 86_400 * NS_PER_SEC),
    ("h", 3_600 * NS_PER_SEC),
    ("min", 60 * NS_PER_SEC),
    ("s", NS_PER_SEC),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
];

/// Nanoseconds per unit, for every spelling systemd accepts.
fn unit_ns(unit: &str) -> Option<u128> {
    let ns = match unit {
        "" | "s" | "sec" | "second" | "seconds" => NS_PER_SEC,
        "m" | "min" | "minute" | "minutes" => 60 * NS_PER_SEC,
        "h" | "hr" | "hour" | "hours" => 3_600 * NS_PER_SEC,
        "d" | "day" | "days" => 86_400 * NS_PER_SEC,
        "w" | "week" | "weeks" => 7 * 86_400 * NS_PER_SEC,
        "M" | "month" | "months" => 2_629_800 * NS_PER_SEC,
        "y" | "year" | "years" => 31_557_600 * NS_PER_SEC,
        "ms" | "msec" => 1_000_000,
        "us" | "usec" | "µs" | "μs" => 1_000,
        "ns" | "nsec" => 1,
        _ => return None,
    };
    Some(ns)
}

/// The canonical spelling: one integer and the largest exact unit.
pub fn format(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0".to_string();
    }
    let (unit, per) = CANONICAL
        .into_iter()
        .find(|(_, per)| ns.is_multiple_of(*per))
        .unwrap_or(("ns", 1));
    format!("{}{unit}", ns / per)
}

/// Read a systemd time span; a bare number is seconds.
pub fn parse(s: &str) -> Result<Duration, DurationError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if matches!(s, "infinity" | "inf") {
        return Err(DurationError::Infinite);
    }
    let mut total: u128 = 0;
    let mut pos = 0;
    while pos < s.len() {
        let rest = &s[pos..];
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let after_int = &rest[int_len..];
        let frac_len = match after_int.strip_prefix('.') {
            Some(f) => f.bytes().take_while(u8::is_ascii_digit).count(),
            None => 0,
        };
        if int_len == 0 && frac_len == 0 {
            return Err(DurationError::BadNumber { offset: pos });
        }
        let int: u128 = if int_len == 0 {
            0
        } else {
            rest[..int_len]
                .parse()
                .map_err(|_| DurationError::Overflow)?
        };
        let frac_digits = if frac_len > 0 {
            &after_int[1..1 + frac_len]
        } else {
            ""
        };
        pos += int_len
            + if after_int.starts_with('.') {
                1 + frac_len
            } else {
                0
            };
        pos += s[pos..].len() - s[pos..].trim_start().len();
        let unit_len: usize = s[pos..]
            .chars()
            .take_while(|c| c.is_alphabetic())
            .map(char::len_utf8)
            .sum();
        let unit = &s[pos..pos + unit_len];
        let per = unit_ns(unit).ok_or_else(|| DurationError::UnknownUnit {
            unit: unit.to_string(),
        })?;
        pos += unit_len;
        pos += s[pos..].len() - s[pos..].trim_start().len();
        // Digits past the 18th change the result by less than a nanosecond
        // for every unit, and 18 digits keep the u128 math in range.
        let kept = &frac_digits[..frac_digits.len().min(18)];
        let frac_ns = if kept.is_empty() {
            0
        } else {
            let f: u128 = kept.parse().map_err(|_| DurationError::Overflow)?;
            f * per / 10u128.pow(kept.len() as u32)
        };
        let part = int
            .checked_mul(per)
            .and_then(|v| v.checked_add(frac_ns))
            .ok_or(DurationError::Overflow)?;
        total = total.checked_add(part).ok_or(DurationError::Overflow)?;
    }
    let secs = u64::try_from(total / NS_PER_SEC).map_err(|_| DurationError::Overflow)?;
    Ok(Duration::new(secs, (total % NS_PER_SEC) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn canonical_forms() {
        let cases = [
            (Duration::ZERO, "0"),
            (Duration::from_secs(10), "10s"),
            (Duration::from_millis(200), "200ms"),
            (Duration::from_micros(1500), "1500us"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(600), "10min"),
            (Duration::from_secs(7200), "2h"),
            (Duration::from_secs(86_400), "1d"),
            (Duration::new(1, 1), "1000000001ns"),
        ];
        for (d, s) in cases {
            assert_eq!(format(d), s);
            assert_eq!(parse(s).unwrap(), d);
        }
    }

    #[test]
    fn systemd_forms() {
        assert_eq!(parse("1min 30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("1min30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse(".5 s").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("2 hours 5m").unwrap(), Duration::from_secs(7500));
        assert_eq!(parse("500 msec").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("3µs").unwrap(), Duration::from_micros(3));
        assert_eq!(parse("1w").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse("1M").unwrap(), Duration::from_secs(2_629_800));
        assert_eq!(parse("1y").unwrap(), Duration::from_secs(31_557_600));
        assert_eq!(parse(" 7 ").unwrap(), Duration::from_secs(7));
    }

    #[test]
    fn errors() {
        assert_eq!(parse("").unwrap_err(), DurationError::Empty);
        assert_eq!(parse("  ").unwrap_err(), DurationError::Empty);
        assert_eq!(parse("infinity").unwrap_err(), DurationError::Infinite);
        assert_eq!(
            parse("s").unwrap_err(),
            DurationError::BadNumber { offset: 0 }
        );
        assert_eq!(
            parse("1s x").unwrap_err(),
            DurationError::BadNumber { offset: 3 }
        );
        assert_eq!(
            parse("-1s").unwrap_err(),
            DurationError::BadNumber { offset: 0 }
        );
        assert_eq!(
            parse("5 fortnights").unwrap_err(),
            DurationError::UnknownUnit {
                unit: "fortnights".into()
            }
        );
        assert_eq!(parse("1.s").unwrap(), Duration::from_secs(1));
        assert_eq!(
            parse(".s").unwrap_err(),
            DurationError::BadNumber { offset: 0 }
        );
        assert_eq!(
            parse("99999999999999999999999y").unwrap_err(),
            DurationError::Overflow
        );
        assert_eq!(parse(&"9".repeat(60)).unwrap_err(), DurationError::Overflow);
        assert_eq!(
            parse("18446744073709551616s").unwrap_err(),
            DurationError::Overflow
        );
    }

    proptest! {
        #[test]
        fn format_parse_round_trip(secs in any::<u64>(), nanos in 0u32..1_000_000_000) {
            let d = Duration::new(secs, nanos);
            prop_assert_eq!(parse(&format(d)).unwrap(), d);
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = parse(&s);
        }
    }
}
