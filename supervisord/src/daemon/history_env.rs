//! The run history's settings from the daemon's environment:
//! `DEVCTL_HISTORY=off` keeps none (run ids and live usage remain),
//! `DEVCTL_HISTORY_RUNS=N` keeps the newest N runs of each unit,
//! `DEVCTL_HISTORY_MAX_AGE=DURATION` drops runs that ended longer ago.

use std::time::Duration;

use crate::runs::RunRetention;

pub const HISTORY_VAR: &str = "DEVCTL_HISTORY";
pub const RUNS_VAR: &str = "DEVCTL_HISTORY_RUNS";
pub const AGE_VAR: &str = "DEVCTL_HISTORY_MAX_AGE";

/// A history variable with a value the daemon cannot use.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{var}={value} is not usable: {reason}")]
#[diagnostic(
    code(devctld::history_setting),
    help(
        "DEVCTL_HISTORY takes on or off, DEVCTL_HISTORY_RUNS a count of at least 1, DEVCTL_HISTORY_MAX_AGE a duration such as `7d`; unset them for the defaults (on, 200 runs, 30 days)"
    )
)]
pub struct HistorySettingError {
    pub var: &'static str,
    pub value: String,
    pub reason: String,
}

/// Whether to keep history, and how much, from `get` (the environment).
pub fn history_settings(
    get: impl Fn(&str) -> Option<String>,
) -> Result<(bool, RunRetention), HistorySettingError> {
    let bad = |var: &'static str, value: &str, reason: &str| HistorySettingError {
        var,
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let on = match get(HISTORY_VAR).as_deref().map(str::trim) {
        None | Some("on" | "1" | "true") => true,
        Some("off" | "0" | "false") => false,
        Some(v) => return Err(bad(HISTORY_VAR, v, "expected on or off")),
    };
    let mut retention = RunRetention::default();
    if let Some(v) = get(RUNS_VAR) {
        retention.per_unit = match v.trim().parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => return Err(bad(RUNS_VAR, &v, "expected a count of at least 1")),
        };
    }
    if let Some(v) = get(AGE_VAR) {
        retention.max_age = match humantime::parse_duration(v.trim()) {
            Ok(d) if d > Duration::ZERO => d,
            Ok(_) => return Err(bad(AGE_VAR, &v, "it must be longer than zero")),
            Err(e) => return Err(bad(AGE_VAR, &v, &e.to_string())),
        };
    }
    Ok((on, retention))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<(bool, RunRetention), HistorySettingError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        history_settings(|k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_overrides_and_bad_values() {
        assert_eq!(from(&[]).unwrap(), (true, RunRetention::default()));
        let (on, r) = from(&[(HISTORY_VAR, "off"), (RUNS_VAR, "5"), (AGE_VAR, "2h")]).unwrap();
        assert!(!on);
        assert_eq!(r.per_unit, 5);
        assert_eq!(r.max_age, Duration::from_secs(7200));
        for (var, value) in [
            (HISTORY_VAR, "maybe"),
            (RUNS_VAR, "0"),
            (RUNS_VAR, "many"),
            (AGE_VAR, "0s"),
            (AGE_VAR, "soon"),
        ] {
            let e = from(&[(var, value)]).unwrap_err();
            assert_eq!(e.var, var);
            assert!(e.to_string().contains(value), "{e}");
        }
    }
}
