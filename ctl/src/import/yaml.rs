//! YAML as a tree that remembers lines. The importers read foreign files
//! leniently (anything unknown is a warning, not an error), so they walk a
//! generic tree rather than typed structs; serde-saphyr's `Spanned` gives
//! each node the line it is written on (anchors, aliases and `<<` merges
//! resolved). A mapping's value carries the line of its key, which is what
//! a warning about a setting should point at.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// One node and the 1-based line it is on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: usize,
    pub value: Value,
}

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order.
    Map(Vec<(String, Node)>),
}

/// A syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    /// Byte offset in the text.
    pub offset: usize,
}

impl Node {
    /// The entries of a mapping.
    pub fn map(&self) -> Option<&[(String, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items of a sequence.
    pub fn seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.map()?.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// A scalar as text (numbers and booleans as written); `None` for
    /// null and collections.
    pub fn scalar(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A boolean (or the strings `true`/`false`).
    pub fn bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            Value::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// A number (or a string holding one).
    pub fn number(&self) -> Option<f64> {
        match &self.value {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// The value without its location (what `Spanned` wraps).
struct Raw(Value);

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor).map(Raw)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        let s = Spanned::<Raw>::deserialize(d)?;
        Ok(Node {
            line: s.referenced.line() as usize,
            value: s.value.0,
        })
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(RawVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            items.push(n);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(String, Node)> = Vec::new();
        // Keys as written: `n:` or `on:` are names, not YAML 1.1 booleans.
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let mut value = map.next_value::<Node>()?;
            if key.referenced.line() > 0 {
                value.line = key.referenced.line() as usize;
            }
            let name = key.value;
            // A later duplicate wins, as in most YAML loaders.
            entries.retain(|(k, _)| *k != name);
            entries.push((name, value));
        }
        Ok(Value::Map(entries))
    }
}

/// Parse one YAML document.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    if text.trim().is_empty() {
        return Ok(Node {
            line: 1,
            value: Value::Null,
        });
    }
    serde_saphyr::from_str::<Node>(text).map_err(|e| {
        let offset = e
            .location()
            .map(|l| {
                l.span()
                    .byte_offset()
                    .map_or_else(|| line_offset(text, l.line() as usize), |o| o as usize)
            })
            .unwrap_or(0);
        YamlError {
            message: e
                .to_string()
                .lines()
                .next()
                .unwrap_or("invalid YAML")
                .to_owned(),
            offset,
        }
    })
}

/// Byte offset of the start of 1-based `line`.
fn line_offset(text: &str, line: usize) -> usize {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_know_their_lines() {
        let doc = parse(
            "x-base: &base\n  image: redis\nservices:\n  web:\n    <<: *base\n    ports:\n      - \"80:80\"\n    n: 3\n    ok: true\n    none:\n",
        )
        .unwrap();
        let web = doc.get("services").unwrap().get("web").unwrap();
        assert_eq!(web.line, 4);
        assert_eq!(
            web.get("image").and_then(Node::scalar).as_deref(),
            Some("redis")
        );
        let ports = web.get("ports").unwrap();
        assert_eq!(ports.line, 6, "a value carries its key's line");
        assert_eq!(ports.seq().unwrap()[0].line, 7);
        assert_eq!(web.get("n").and_then(Node::number), Some(3.0));
        assert_eq!(web.get("ok").and_then(Node::bool), Some(true));
        assert_eq!(web.get("none").map(|n| &n.value), Some(&Value::Null));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let text = "services:\n  web:\n    image: [unclosed\n";
        let e = parse(text).unwrap_err();
        assert!(e.offset > 0 && e.offset <= text.len(), "{e:?}");
        assert!(!e.message.is_empty());
    }
}
