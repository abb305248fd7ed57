//! Timing helpers shared by scenarios: repeat a closure, report the
//! median, minimum and maximum.

use std::time::{Duration, Instant};

/// Median, minimum and maximum of a set of timings.
pub struct Summary {
    pub median: Duration,
    pub min: Duration,
    pub max: Duration,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "median {:>9.2?}  min {:>9.2?}  max {:>9.2?}",
            self.median, self.min, self.max
        )
    }
}

/// Run `f` `reps` times (at least once) and summarise.
pub fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> Summary {
    let mut samples: Vec<Duration> = (0..reps.max(1))
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    samples.sort();
    Summary {
        median: samples[samples.len() / 2],
        min: samples[0],
        max: samples[samples.len() - 1],
    }
}

/// Parse `--name N` from scenario arguments.
pub fn flag(args: &[String], name: &str, default: usize) -> Result<usize, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} needs a number")),
    }
}
