//! Places in a fixture's JSON text: paths (`.transaction.gasLimit[0]`), lines and columns, the
//! raw text of each member of an object, and a pass that rejects duplicate keys (serde_json
//! keeps the last copy of a key without a word).

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

/// One step of a [`JsonPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// An object member, by key.
    Key(String),
    /// An array element, by index from 0.
    Index(usize),
}

/// A path into a JSON document, shown jq-style: `.` is the root, `.post.Cancun[0].hash` a
/// field, `.["a key"]` a key that is not a plain word (quoted and escaped as a JSON string,
/// so control characters in keys show as `\u001b`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct JsonPath(pub Vec<Step>);

impl JsonPath {
    /// The document's root.
    pub fn root() -> JsonPath {
        JsonPath(Vec::new())
    }

    /// This path followed by the object member `key`.
    pub fn key(&self, key: impl Into<String>) -> JsonPath {
        let mut p = self.clone();
        p.0.push(Step::Key(key.into()));
        p
    }

    /// This path followed by the array element `index`.
    pub fn index(&self, index: usize) -> JsonPath {
        let mut p = self.clone();
        p.0.push(Step::Index(index));
        p
    }

    /// Whether `prefix` is this path or an ancestor of it.
    pub fn starts_with(&self, prefix: &JsonPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// The path serde_path_to_error recorded.
    pub fn from_tracked(path: &serde_path_to_error::Path) -> JsonPath {
        use serde_path_to_error::Segment;
        JsonPath(
            path.iter()
                .map(|s| match s {
                    Segment::Seq { index } => Some(Step::Index(*index)),
                    Segment::Map { key } => Some(Step::Key(key.clone())),
                    Segment::Enum { variant } => Some(Step::Key(variant.clone())),
                    // A key not read yet (the text ended first): the path stops at its object.
                    Segment::Unknown => None,
                })
                .map_while(|s| s)
                .collect(),
        )
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(".");
        }
        for step in &self.0 {
            match step {
                Step::Key(k) if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                    write!(f, ".{k}")?
                }
                Step::Key(k) => write!(f, ".[{}]", serde_json::Value::String(k.clone()))?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// Where in a file a problem is: the JSON path of the field and its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The field's path, from the test when the error names a test, else from the file's root.
    pub path: JsonPath,
    /// 1-based line of the field's value, or of where parsing stopped; 0 when not known.
    pub line: usize,
    /// 1-based column, in bytes, on that line; 0 when not known.
    pub column: usize,
}

impl Location {
    /// A field whose position is not known yet.
    pub fn at(path: JsonPath) -> Location {
        Location { path, line: 0, column: 0 }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.path)?;
        if self.line > 0 {
            write!(f, ", line {}, column {}", self.line, self.column)?;
        }
        Ok(())
    }
}

/// serde_json's position of an error, the column at least 1 (serde_json gives 0 for an
/// error at a line's first byte it has only peeked at).
pub fn error_position(e: &serde_json::Error) -> (usize, usize) {
    match e.line() {
        0 => (0, 0),
        line => (line, e.column().max(1)),
    }
}

/// The 1-based line and byte column of `offset` in `text`.
pub fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    (1 + before.iter().filter(|&&b| b == b'\n').count(), offset - line_start + 1)
}

/// A position serde_json gave inside `slice` (a part of `text` starting at byte `offset`), as
/// a position in `text`.
pub fn shift(text: &str, offset: usize, (line, column): (usize, usize)) -> (usize, usize) {
    let (base_line, base_column) = position(text, offset);
    match line {
        0 => (base_line, base_column),
        1 => (base_line, base_column + column.saturating_sub(1)),
        _ => (base_line + line - 1, column.max(1)),
    }
}

/// Where `part`, a slice borrowed from `text`, starts in it.
pub fn offset_in(text: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize).min(text.len())
}

/// serde_json's message without its ` at line L column C` (the caller gives the position in
/// the whole file instead).
pub fn message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match s.strip_suffix(&suffix) {
        Some(m) => m.to_string(),
        None => s,
    }
}

/// An object's members in file order, each as its raw text (a slice of the input).
pub struct Members<'a>(pub Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(V)
    }
}

/// The offset in `raw` of the value at `path`, or of its deepest ancestor that exists, and
/// `path` with each key found spelled as in the text. A key matches exactly or, for hex keys
/// (addresses, slots), as the same number (`0x0A` is `0xa`).
pub fn locate(raw: &str, path: &JsonPath) -> (usize, JsonPath) {
    let mut current = raw;
    let mut spelled = path.clone();
    for (n, step) in path.0.iter().enumerate() {
        let next = match step {
            Step::Key(k) => serde_json::from_str::<Members>(current).ok().and_then(|m| {
                let (key, v) = m.0.into_iter().find(|(key, _)| key == k || same_hex(key, k))?;
                spelled.0[n] = Step::Key(key);
                Some(v)
            }),
            Step::Index(i) => serde_json::from_str::<Vec<&RawValue>>(current).ok().and_then(|v| v.get(*i).copied()),
        };
        match next {
            Some(v) => current = v.get(),
            None => break,
        }
    }
    (offset_in(raw, current), spelled)
}

fn same_hex(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> Option<String> {
        let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
        digits.chars().all(|c| c.is_ascii_hexdigit()).then(|| digits.trim_start_matches('0').to_ascii_lowercase())
    };
    matches!((norm(a), norm(b)), (Some(x), Some(y)) if x == y)
}

/// Checks that no object in `raw` has a key twice. `Err`: the path of the second copy (from
/// `raw`'s root) and the error, whose position is relative to `raw`. Any other error
/// (nesting past serde_json's depth limit) comes back the same way, at the path it stopped.
pub fn check_duplicates(raw: &str) -> Result<(), (JsonPath, serde_json::Error)> {
    let duplicate = RefCell::new(None);
    let mut track = serde_path_to_error::Track::new();
    let mut de = serde_json::Deserializer::from_str(raw);
    let result = NoDuplicates(&duplicate).deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
    match result {
        Ok(()) => Ok(()),
        Err(e) => {
            let mut path = JsonPath::from_tracked(&track.path());
            if let Some(key) = duplicate.into_inner() {
                path.0.push(Step::Key(key));
            }
            Err((path, e))
        }
    }
}

/// Walks a value, failing on the first key an object repeats; records that key.
struct NoDuplicates<'c>(&'c RefCell<Option<String>>);

impl<'de> DeserializeSeed<'de> for NoDuplicates<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NoDuplicates<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(NoDuplicates(self.0))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                let shown = serde_json::Value::String(key.clone());
                *self.0.borrow_mut() = Some(key);
                return Err(de::Error::custom(format!(
                    "duplicate key {shown} (a JSON reader keeps one copy and drops the other)"
                )));
            }
            map.next_value_seed(NoDuplicates(self.0))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_show_jq_style() {
        let p = JsonPath::root().key("post").key("Cancun").index(0).key("a b").key("\u{1b}");
        assert_eq!(p.to_string(), r#".post.Cancun[0].["a b"].["\u001b"]"#);
        assert_eq!(JsonPath::root().to_string(), ".");
    }

    #[test]
    fn positions_are_one_based_and_shift_into_the_file() {
        let text = "{\n  \"t\": {\"a\": 1}\n}";
        assert_eq!(position(text, 0), (1, 1));
        let at = text.find("{\"a\"").unwrap();
        assert_eq!(position(text, at), (2, 8));
        assert_eq!(shift(text, at, (1, 6)), (2, 13));
        assert_eq!(shift(text, at, (2, 3)), (3, 3));
    }

    #[test]
    fn duplicates_are_found_with_their_path() {
        let (path, e) = check_duplicates(r#"{"a": [1, {"b": 1, "c": 2, "b": 3}]}"#).unwrap_err();
        assert_eq!(path.to_string(), ".a[1].b");
        assert!(message(&e).starts_with("duplicate key \"b\""), "{e}");
        assert!(check_duplicates(r#"{"a": {"b": 1}, "b": {"b": 2}}"#).is_ok());
    }

    #[test]
    fn locate_finds_values_and_hex_keys_by_number() {
        let raw = r#"{"pre": {"0x0A": {"nonce": "0x01"}}, "post": {"Cancun": [{"x": 1}, {"x": 2}]}}"#;
        let (at, spelled) = locate(raw, &JsonPath::root().key("pre").key("0xa").key("nonce"));
        assert!(raw[at..].starts_with("\"0x01\""), "{}", &raw[at..]);
        assert_eq!(spelled.to_string(), ".pre.0x0A.nonce");
        let (at, _) = locate(raw, &JsonPath::root().key("post").key("Cancun").index(1));
        assert!(raw[at..].starts_with("{\"x\": 2}"));
        // A path that does not exist stops at its deepest ancestor that does.
        let (at, _) = locate(raw, &JsonPath::root().key("post").key("Prague").index(0));
        assert!(raw[at..].starts_with("{\"Cancun\""));
    }
}
