//! Byte sizes as people write them: `16MiB`, `512 KiB`, `8M`, `1.5GiB`,
//! `10MB`. Binary units (`KiB`, `MiB`, `GiB`, `TiB`, and systemd's bare
//! `K`, `M`, `G`, `T`) are powers of 1024, decimal ones (`kB`, `MB`, `GB`,
//! `TB`) powers of 1000; `B` is bytes. Units are case-insensitive; a bare
//! number is refused, as a duration without a unit is. Written back
//! canonically as an integer and the largest binary unit that represents
//! the size exactly (`8MiB`, `1536KiB`, `1000B`).

/// Why a size could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum SizeError {
    #[error("empty size")]
    #[diagnostic(code(devctl::size::empty), help("write a size such as `16MiB`"))]
    Empty,
    #[error("expected a number")]
    #[diagnostic(
        code(devctl::size::number),
        help("a size is a number and a unit: `16MiB`, `512KiB`, `1.5GiB`")
    )]
    BadNumber,
    #[error("`{0}` has no unit")]
    #[diagnostic(
        code(devctl::size::no_unit),
        help("add a unit: B, KiB, MiB, GiB (or kB, MB, GB for powers of 1000)")
    )]
    NoUnit(String),
    #[error("unknown size unit `{0}`")]
    #[diagnostic(
        code(devctl::size::unit),
        help("units: B, KiB, MiB, GiB, TiB (K, M, G, T alike), kB, MB, GB, TB")
    )]
    UnknownUnit(String),
    #[error("size is too large")]
    #[diagnostic(code(devctl::size::overflow), help("sizes must fit in 2^64 bytes"))]
    Overflow,
}

const UNITS: &[(&str, u64)] = &[
    ("b", 1),
    ("k", 1 << 10),
    ("kib", 1 << 10),
    ("kb", 1_000),
    ("m", 1 << 20),
    ("mib", 1 << 20),
    ("mb", 1_000_000),
    ("g", 1 << 30),
    ("gib", 1 << 30),
    ("gb", 1_000_000_000),
    ("t", 1 << 40),
    ("tib", 1 << 40),
    ("tb", 1_000_000_000_000),
];

/// Parse a size into bytes (a fraction of a byte is dropped).
pub fn parse(s: &str) -> Result<u64, SizeError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(SizeError::Empty);
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = (&s[..split], s[split..].trim_start());
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 9
    {
        return Err(SizeError::BadNumber);
    }
    if unit.is_empty() {
        return Err(SizeError::NoUnit(s.to_owned()));
    }
    let lower = unit.to_ascii_lowercase();
    let mult = UNITS
        .iter()
        .find(|(u, _)| *u == lower)
        .map(|(_, m)| u128::from(*m))
        .ok_or_else(|| SizeError::UnknownUnit(unit.to_owned()))?;
    let int: u128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| SizeError::Overflow)?
    };
    let frac_part = if frac.is_empty() {
        0
    } else {
        // At most nine digits: fits in u128 with any multiplier.
        let digits: u128 = frac.parse().map_err(|_| SizeError::BadNumber)?;
        digits * mult / 10u128.pow(frac.len() as u32)
    };
    let bytes = int
        .checked_mul(mult)
        .and_then(|b| b.checked_add(frac_part))
        .ok_or(SizeError::Overflow)?;
    u64::try_from(bytes).map_err(|_| SizeError::Overflow)
}

/// The canonical form: an integer and the largest exact binary unit.
pub fn format(bytes: u64) -> String {
    const BINARY: &[(&str, u64)] = &[
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, m) in BINARY {
        if bytes != 0 && bytes.is_multiple_of(*m) {
            return format!("{}{unit}", bytes / m);
        }
    }
    format!("{bytes}B")
}

/// For people: `8 MiB`, `1.5 GiB`, `900 B` (one decimal at most).
pub fn human(bytes: u64) -> String {
    const STEPS: &[(&str, u64)] = &[
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, m) in STEPS {
        if bytes >= *m {
            let tenths = (u128::from(bytes) * 10 / u128::from(*m)) as u64;
            return if tenths.is_multiple_of(10) {
                format!("{} {unit}", tenths / 10)
            } else {
                format!("{}.{} {unit}", tenths / 10, tenths % 10)
            };
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_decimal_and_fractions() {
        assert_eq!(parse("16MiB"), Ok(16 << 20));
        assert_eq!(parse("16 mib"), Ok(16 << 20));
        assert_eq!(parse("8M"), Ok(8 << 20));
        assert_eq!(parse("64KiB"), Ok(64 << 10));
        assert_eq!(parse("10MB"), Ok(10_000_000));
        assert_eq!(parse("1kB"), Ok(1000));
        assert_eq!(parse("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse(".5K"), Ok(512));
        assert_eq!(parse("4096B"), Ok(4096));
        assert_eq!(parse("2TiB"), Ok(2 << 40));
    }

    #[test]
    fn bad_sizes_say_why() {
        assert_eq!(parse(""), Err(SizeError::Empty));
        assert_eq!(parse("  "), Err(SizeError::Empty));
        assert_eq!(parse("4096"), Err(SizeError::NoUnit("4096".into())));
        assert_eq!(parse("lots"), Err(SizeError::BadNumber));
        assert_eq!(parse("-1MiB"), Err(SizeError::BadNumber));
        assert_eq!(parse("1.2.3MiB"), Err(SizeError::BadNumber));
        assert_eq!(parse("."), Err(SizeError::BadNumber));
        assert_eq!(
            parse("3 parsecs"),
            Err(SizeError::UnknownUnit("parsecs".into()))
        );
        assert_eq!(parse("99999999999TiB"), Err(SizeError::Overflow));
        assert_eq!(
            parse("99999999999999999999999999999999999999999B"),
            Err(SizeError::Overflow)
        );
    }

    #[test]
    fn canonical_form_round_trips() {
        for (bytes, text) in [
            (8u64 << 20, "8MiB"),
            (1536 << 10, "1536KiB"),
            (1000, "1000B"),
            (0, "0B"),
            (3 << 30, "3GiB"),
            (1 << 40, "1TiB"),
        ] {
            assert_eq!(format(bytes), text);
            assert_eq!(parse(text), Ok(bytes));
        }
        assert_eq!(human(8 << 20), "8 MiB");
        assert_eq!(human(3 << 29), "1.5 GiB");
        assert_eq!(human(64 << 10), "64 KiB");
        assert_eq!(human(900), "900 B");
    }
}
