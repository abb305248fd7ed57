//! Validated names: unit names and project names share one grammar,
//! `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most 64 bytes, never `.`/`..`-like
//! path components, never a reserved unit-file suffix.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest accepted unit or project name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Why a string is not a valid name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("name is empty")]
    Empty,
    #[error("name is {0} bytes long; at most {MAX_NAME_LEN} are allowed")]
    TooLong(usize),
    #[error("name must start with a letter or a digit, not {0:?}")]
    BadStart(char),
    #[error("name contains {0:?}; only letters, digits, '_', '.' and '-' are allowed")]
    BadChar(char),
    #[error("name ends with the unit-file suffix {0:?}; give the bare name")]
    Suffix(&'static str),
}

/// Suffixes of unit files; a name may not end with one, so that
/// `name → file name` stays injective.
pub const UNIT_SUFFIXES: &[&str] = &[".service", ".target", ".container", ".kube", ".socket"];

/// Check a string against the name grammar.
pub fn validate_name(s: &str) -> Result<(), NameError> {
    let mut chars = s.chars();
    let first = chars.next().ok_or(NameError::Empty)?;
    if s.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong(s.len()));
    }
    if !first.is_ascii_alphanumeric() {
        return Err(NameError::BadStart(first));
    }
    if let Some(bad) = chars.find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(NameError::BadChar(bad));
    }
    if let Some(sfx) = UNIT_SUFFIXES.iter().find(|sfx| s.ends_with(*sfx)) {
        return Err(NameError::Suffix(sfx));
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $ty(String);

        impl $ty {
            /// Validate and wrap.
            pub fn new(s: impl Into<String>) -> Result<Self, NameError> {
                let s = s.into();
                validate_name(&s)?;
                Ok(Self(s))
            }
            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $ty {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, NameError> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

name_type!(
    /// The name of one unit inside a project (`paulie`, `db`, `codegen`).
    UnitName
);
name_type!(
    /// The name of a project (`pizzeria`); defaults to the manifest's directory name.
    ProjectName
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_grammar() {
        for ok in [
            "a",
            "web",
            "api-v2",
            "db_1",
            "x.y",
            "9lives",
            &"a".repeat(64),
        ] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_hostile() {
        let cases: &[(&str, NameError)] = &[
            ("", NameError::Empty),
            ("../../x", NameError::BadStart('.')),
            ("a/b", NameError::BadChar('/')),
            (".", NameError::BadStart('.')),
            ("-rf", NameError::BadStart('-')),
            ("x;rm", NameError::BadChar(';')),
            ("$(id)", NameError::BadStart('$')),
            ("a b", NameError::BadChar(' ')),
            ("a\nb", NameError::BadChar('\n')),
            ("foo.service", NameError::Suffix(".service")),
            ("foo@bar", NameError::BadChar('@')),
            ("%n", NameError::BadStart('%')),
            ("wеb", NameError::BadChar('е')),
        ];
        for (input, want) in cases {
            assert_eq!(validate_name(input).unwrap_err(), *want, "{input:?}");
        }
        assert_eq!(
            validate_name(&"a".repeat(65)).unwrap_err(),
            NameError::TooLong(65)
        );
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<UnitName>("\"ok\"").is_ok());
        assert!(serde_json::from_str::<UnitName>("\"../x\"").is_err());
    }
}
