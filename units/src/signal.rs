//! Signal names accepted in manifests and unit files (`SIGINT`, `INT`, `2`
//! all mean the same), with their Linux numbers.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! signals {
    ($($name:ident = $num:expr),* $(,)?) => {
        /// A catchable POSIX signal usable as a stop signal.
        #[allow(clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Signal { $($name),* }

        impl Signal {
            /// Every known signal.
            pub const ALL: &'static [Signal] = &[$(Signal::$name),*];

            /// Canonical name, `SIGTERM`.
            pub fn name(self) -> &'static str {
                match self { $(Signal::$name => stringify!($name)),* }
            }

            /// The Linux signal number.
            pub fn number(self) -> i32 {
                match self { $(Signal::$name => $num),* }
            }
        }
    };
}

signals! {
    SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGABRT = 6, SIGKILL = 9,
    SIGUSR1 = 10, SIGUSR2 = 12, SIGALRM = 14, SIGTERM = 15,
    SIGCONT = 18, SIGSTOP = 19, SIGWINCH = 28,
}

impl Signal {
    /// Parse `SIGINT`, `INT`, `sigint` or `2`.
    pub fn parse(s: &str) -> Option<Signal> {
        if let Ok(n) = s.parse::<i32>() {
            return Signal::ALL.iter().copied().find(|sig| sig.number() == n);
        }
        let upper = s.to_ascii_uppercase();
        let full = if upper.starts_with("SIG") {
            upper
        } else {
            format!("SIG{upper}")
        };
        Signal::ALL.iter().copied().find(|sig| sig.name() == full)
    }

    /// Names for `did you mean` suggestions.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Signal::ALL.iter().map(|s| s.name())
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Signal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Signal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Signal::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown signal {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spellings() {
        assert_eq!(Signal::parse("SIGINT"), Some(Signal::SIGINT));
        assert_eq!(Signal::parse("int"), Some(Signal::SIGINT));
        assert_eq!(Signal::parse("15"), Some(Signal::SIGTERM));
        assert_eq!(Signal::parse("SIGFOO"), None);
        assert_eq!(Signal::parse("99"), None);
    }

    #[test]
    fn numbers_match_libc() {
        assert_eq!(Signal::SIGTERM.number(), 15);
        assert_eq!(Signal::SIGKILL.number(), 9);
        assert_eq!(Signal::SIGUSR2.number(), 12);
    }
}
