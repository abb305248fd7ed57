//! The daemon's default log retention from its environment, for every
//! unit whose `logs { }` leaves a setting out: `DEVCTL_LOGS_MAX_SIZE=SIZE`
//! (per file, `16MiB`), `DEVCTL_LOGS_FILES=N` (files kept, the current one
//! included), `DEVCTL_LOGS_MAX_AGE=DURATION` (unset: no age limit).

use std::time::Duration;

use devctl_units::{LogSpec, size};

use crate::logs::LogRetention;

pub const MAX_SIZE_VAR: &str = "DEVCTL_LOGS_MAX_SIZE";
pub const FILES_VAR: &str = "DEVCTL_LOGS_FILES";
pub const MAX_AGE_VAR: &str = "DEVCTL_LOGS_MAX_AGE";

/// A log retention variable with a value the daemon cannot use.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{var}={value} is not usable: {reason}")]
#[diagnostic(
    code(devctld::log_retention),
    help(
        "DEVCTL_LOGS_MAX_SIZE takes a size from 4KiB to 64GiB such as `16MiB`, DEVCTL_LOGS_FILES a count from 1 to 1000, DEVCTL_LOGS_MAX_AGE a duration such as `7d`; unset them for the defaults (8MiB, 4 files, no age limit)"
    )
)]
pub struct LogSettingError {
    pub var: &'static str,
    pub value: String,
    pub reason: String,
}

/// The default retention, from `get` (the environment).
pub fn log_settings(get: impl Fn(&str) -> Option<String>) -> Result<LogRetention, LogSettingError> {
    let bad = |var: &'static str, value: &str, reason: String| LogSettingError {
        var,
        value: value.to_owned(),
        reason,
    };
    let mut r = LogRetention::default();
    if let Some(v) = get(MAX_SIZE_VAR) {
        let (min, max) = (LogSpec::MIN_SIZE, LogSpec::MAX_SIZE);
        r.max_file_bytes = match size::parse(&v) {
            Ok(b) if (min..=max).contains(&b) => b,
            Ok(_) => {
                let reason = format!("expected {} to {}", size::format(min), size::format(max));
                return Err(bad(MAX_SIZE_VAR, &v, reason));
            }
            Err(e) => return Err(bad(MAX_SIZE_VAR, &v, e.to_string())),
        };
    }
    if let Some(v) = get(FILES_VAR) {
        r.files = match v.trim().parse::<u32>() {
            Ok(n) if (1..=LogSpec::MAX_FILES).contains(&n) => n,
            _ => {
                let reason = format!("expected a count from 1 to {}", LogSpec::MAX_FILES);
                return Err(bad(FILES_VAR, &v, reason));
            }
        };
    }
    if let Some(v) = get(MAX_AGE_VAR) {
        r.max_age = match humantime::parse_duration(v.trim()) {
            Ok(d) if d > Duration::ZERO => Some(d),
            Ok(_) => return Err(bad(MAX_AGE_VAR, &v, "it must be longer than zero".into())),
            Err(e) => return Err(bad(MAX_AGE_VAR, &v, e.to_string())),
        };
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<LogRetention, LogSettingError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        log_settings(|k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_overrides_and_bad_values() {
        assert_eq!(from(&[]).unwrap(), LogRetention::default());
        let r = from(&[
            (MAX_SIZE_VAR, "64KiB"),
            (FILES_VAR, "2"),
            (MAX_AGE_VAR, "7d"),
        ])
        .unwrap();
        assert_eq!(r.max_file_bytes, 64 << 10);
        assert_eq!(r.files, 2);
        assert_eq!(r.max_age, Some(Duration::from_secs(7 * 86_400)));
        for (var, value, why) in [
            (MAX_SIZE_VAR, "lots", "expected a number"),
            (MAX_SIZE_VAR, "4096", "has no unit"),
            (MAX_SIZE_VAR, "1KiB", "expected 4KiB to 64GiB"),
            (MAX_SIZE_VAR, "1TiB", "expected 4KiB to 64GiB"),
            (FILES_VAR, "0", "from 1 to 1000"),
            (FILES_VAR, "-3", "from 1 to 1000"),
            (FILES_VAR, "many", "from 1 to 1000"),
            (MAX_AGE_VAR, "0s", "longer than zero"),
            (MAX_AGE_VAR, "-1d", ""),
            (MAX_AGE_VAR, "soon", ""),
        ] {
            let e = from(&[(var, value)]).unwrap_err();
            assert_eq!(e.var, var);
            let text = e.to_string();
            assert!(text.contains(value) && text.contains(why), "{text}");
        }
    }
}
