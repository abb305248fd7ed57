//! Results: one [`Row`] per measured figure (devctl's median, systemd's
//! median, their ratio, the target), printed as they come and rendered as
//! the Markdown table of `bench/RESULTS.md`; plus the argument parsing the
//! side-by-side scenarios share.

use std::fmt::Write as _;

/// One figure, for both supervisors.
#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: &'static str,
    pub n: usize,
    pub metric: String,
    pub unit: &'static str,
    pub devctl: Option<f64>,
    pub systemd: Option<f64>,
    pub target: String,
}

impl Row {
    /// A row from two sample sets (medians taken here).
    pub fn of(
        scenario: &'static str,
        n: usize,
        metric: &str,
        unit: &'static str,
        d: &[f64],
        s: &[f64],
        target: &str,
    ) -> Row {
        Row {
            scenario,
            n,
            metric: metric.into(),
            unit,
            devctl: median(d),
            systemd: median(s),
            target: target.into(),
        }
    }

    /// devctl / systemd, when both exist and systemd's is not zero.
    pub fn ratio(&self) -> Option<f64> {
        match (self.devctl, self.systemd) {
            (Some(d), Some(s)) if s != 0.0 => Some(d / s),
            _ => None,
        }
    }

    /// Print the row on stdout as it is produced.
    pub fn print(&self) {
        println!(
            "  {:<9} N={:<5} {:<34} devctl {:>11} {:<5} systemd {:>11}  ratio {:>7}  target {}",
            self.scenario,
            self.n,
            self.metric,
            fmt_num(self.devctl),
            self.unit,
            fmt_num(self.systemd),
            self.ratio().map_or("-".into(), |r| format!("{r:.2}×")),
            self.target
        );
    }
}

/// The median of `xs` (the upper one for an even count); `None` if empty.
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// A figure with a precision that suits its size.
pub fn fmt_num(x: Option<f64>) -> String {
    match x {
        None => "-".into(),
        Some(x) if x.abs() >= 100.0 => format!("{x:.0}"),
        Some(x) if x.abs() >= 10.0 => format!("{x:.1}"),
        Some(x) => format!("{x:.2}"),
    }
}

/// The Markdown table of `rows`.
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| scenario | N | figure | devctl | systemd --user | devctl/systemd | target |\n|---|---:|---|---:|---:|---:|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} ({}) | {} | {} | {} | {} |",
            r.scenario,
            r.n,
            r.metric,
            r.unit,
            fmt_num(r.devctl),
            fmt_num(r.systemd),
            r.ratio().map_or("-".into(), |x| format!("{x:.2}")),
            r.target
        );
    }
    s
}

/// Parse `--NAME a,b,c` (numbers) from scenario arguments.
pub fn list_flag(args: &[String], name: &str, default: &[usize]) -> Result<Vec<usize>, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default.to_vec()),
        Some(i) => {
            let v = args
                .get(i + 1)
                .ok_or_else(|| format!("{name} needs a list such as 10,100"))?;
            v.split(',')
                .map(|x| {
                    x.trim()
                        .parse::<usize>()
                        .map_err(|_| format!("{name}: {x:?} is not a number"))
                })
                .collect()
        }
    }
}

/// Milliseconds between two `CLOCK_BOOTTIME` stamps (ns).
pub fn ms(from: u64, to: u64) -> f64 {
    (to as f64 - from as f64) / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(3.0));
        assert_eq!(median(&[f64::NAN, 2.0]), Some(2.0));
    }

    #[test]
    fn lists_and_ratios() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            list_flag(&a(&["--n", "10,100"]), "--n", &[1]).unwrap(),
            vec![10, 100]
        );
        assert_eq!(list_flag(&a(&[]), "--n", &[7]).unwrap(), vec![7]);
        assert!(list_flag(&a(&["--n", "x"]), "--n", &[1]).is_err());
        let r = Row::of(
            "start",
            10,
            "all exec'd",
            "ms",
            &[2.0, 4.0, 3.0],
            &[6.0],
            "≤ 0.5×",
        );
        assert_eq!(r.ratio(), Some(0.5));
        let md = markdown(&[r]);
        assert!(
            md.contains("| start | 10 | all exec'd (ms) | 3.00 | 6.00 | 0.50 | ≤ 0.5× |"),
            "{md}"
        );
        assert_eq!(ms(1_000_000, 3_500_000), 2.5);
    }
}
