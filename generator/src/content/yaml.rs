//! YAML parsing for content files, with bounded resources and positions.
//!
//! Two parsers, each where it is best:
//! - Typed parsing, the hot path of every `pave check` and `pave build`, goes
//!   through `serde_norway` (the maintained fork of `serde_yaml`, on a
//!   fuzzed Rust port of libyaml): it parses front matter about 2.3 times
//!   faster than `serde-saphyr`, which halved the CPU time of `pave check` on
//!   the 10,000-project corpus (`benches/run`). It
//!   limits recursion depth and alias expansion (billion laughs), and content
//!   files are size-limited before they get here.
//! - Positions of values (for rules checked after parsing) come from a second,
//!   lazy pass with `serde-saphyr`'s spanned nodes (panic-free, with budgets),
//!   only for the files that have problems.
//!
//! Unknown fields are collected with `serde_ignored` instead of failing on the
//! first one, so every typo in a file is reported at once.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Budget, Options, Spanned};

/// One step of a path into a YAML document: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(key: &str) -> Self {
        Seg::Key(key.to_owned())
    }
}

impl From<usize> for Seg {
    fn from(index: usize) -> Self {
        Seg::Index(index)
    }
}

/// A path into a document, such as `rewards[1].min`.
pub type YamlPath = Vec<Seg>;

/// Builds a path from keys and indices: `path!["rewards", 1, "min"]`.
#[macro_export]
macro_rules! path {
    ($($seg:expr),* $(,)?) => {
        ::std::vec::Vec::<$crate::content::yaml::Seg>::from([$($crate::content::yaml::Seg::from($seg)),*])
    };
}

/// Formats a path the way an editor reads it: `rewards[1].min`.
pub fn display_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// A field that is not part of the format, found while parsing.
#[derive(Debug, Clone)]
pub struct UnknownField {
    pub path: YamlPath,
}

/// What kind of mistake a YAML error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlErrorKind {
    /// The text is not YAML (quoting, indentation, an unclosed bracket).
    Syntax,
    /// Nesting or aliases beyond what front matter needs.
    TooComplex,
    /// Valid YAML that does not fit the format (a missing field, a wrong type).
    Data,
}

/// A YAML error located in the YAML text (1-based).
#[derive(Debug, Clone)]
pub struct YamlError {
    pub kind: YamlErrorKind,
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// Limits that keep a hostile or broken file from exhausting the machine
/// while its positions are indexed. Front matter is a few hundred nodes;
/// these are generous for it.
fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_events = 200_000;
    budget.max_aliases = 200;
    budget.max_anchors = 200;
    budget.max_depth = 32;
    budget.max_nodes = 100_000;
    budget.max_total_scalar_bytes = 2 * 1024 * 1024;
    budget.max_documents = 1;
    let mut options = Options::default();
    options.budget = Some(budget);
    // Duplicate keys are reported by the typed parse; the index keeps the
    // position of the last one, which is the one to point at.
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    options
}

/// Flow collections (`[`, `{`) nested deeper than this are refused before
/// parsing: libyaml's time grows with the square of the nesting (100,000
/// nested `[` took 33 s), and front matter needs two or three levels.
const MAX_FLOW_DEPTH: usize = 32;

/// Where flow collections first nest deeper than [`MAX_FLOW_DEPTH`], as a
/// (line, column), 1-based. Brackets inside quoted text are counted too: no
/// real field holds 32 unclosed brackets.
fn too_deep(yaml: &str) -> Option<(usize, usize)> {
    let (mut depth, mut line, mut line_start) = (0usize, 1, 0);
    for (i, b) in yaml.bytes().enumerate() {
        match b {
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Some((line, yaml[line_start..i].chars().count() + 1));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Parses YAML into `T`, collecting unknown fields rather than failing on them.
/// Unknown fields met before a hard error are returned with it.
pub fn parse<T: DeserializeOwned>(
    yaml: &str,
) -> Result<(T, Vec<UnknownField>), (YamlError, Vec<UnknownField>)> {
    if let Some((line, column)) = too_deep(yaml) {
        let error = YamlError {
            kind: YamlErrorKind::TooComplex,
            message: format!("lists or mappings nested more than {MAX_FLOW_DEPTH} levels deep"),
            line,
            column,
        };
        return Err((error, Vec::new()));
    }
    let mut unknown = Vec::new();
    let result = {
        let mut on_ignored = |path: serde_ignored::Path| {
            unknown.push(UnknownField {
                path: ignored_path(&path),
            })
        };
        let de = serde_norway::Deserializer::from_str(yaml);
        T::deserialize(serde_ignored::Deserializer::new(de, &mut on_ignored))
    };
    match result {
        Ok(value) => Ok((value, unknown)),
        Err(e) => {
            let mut error = yaml_error(&e, yaml);
            if error.message.starts_with("missing field") {
                // The parser points a missing field at the end of its mapping;
                // the mapping's own key reads better. Finding which mapping takes
                // a second, path-tracking parse, only on this error path.
                let path = error_path::<T>(yaml);
                let (line, column) = if path.is_empty() {
                    (1, 1)
                } else {
                    error.message = format!("{} in `{}`", error.message, display_path(&path));
                    SpanIndex::build(yaml).key(&path)
                };
                error.line = line;
                error.column = column;
            } else if let Some(name) = duplicate_field(&error.message) {
                // Point at the second occurrence (the index keeps the last one).
                let mut path = error_path::<T>(yaml);
                path.push(Seg::Key(name.to_string()));
                (error.line, error.column) = SpanIndex::build(yaml).key(&path);
            }
            Err((error, unknown))
        }
    }
}

/// The field named by serde's "duplicate field `x`" error.
fn duplicate_field(message: &str) -> Option<&str> {
    message.strip_prefix("duplicate field `")?.strip_suffix('`')
}

/// The path of the mapping where deserializing `T` fails.
fn error_path<T: DeserializeOwned>(yaml: &str) -> YamlPath {
    let de = serde_norway::Deserializer::from_str(yaml);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(_) => YamlPath::new(),
        Err(e) => tracked_path(e.path()),
    }
}

fn tracked_path(path: &serde_path_to_error::Path) -> YamlPath {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|seg| match seg {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            Segment::Unknown => None,
        })
        .collect()
}

fn ignored_path(path: &serde_ignored::Path) -> YamlPath {
    use serde_ignored::Path;
    match path {
        Path::Root => Vec::new(),
        Path::Seq { parent, index } => {
            let mut p = ignored_path(parent);
            p.push(Seg::Index(*index));
            p
        }
        Path::Map { parent, key } => {
            let mut p = ignored_path(parent);
            p.push(Seg::Key(key.clone()));
            p
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

fn yaml_error(e: &serde_norway::Error, yaml: &str) -> YamlError {
    let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    let message = plain_message(e);
    let kind = if message.contains("recursion limit exceeded")
        || message.contains("repetition limit exceeded")
    {
        YamlErrorKind::TooComplex
    } else if serde_norway::from_str::<de::IgnoredAny>(yaml).is_err() {
        // It fails whatever the expected shape: the text itself is broken.
        YamlErrorKind::Syntax
    } else {
        YamlErrorKind::Data
    };
    YamlError {
        kind,
        message,
        line: line.max(1),
        column: column.max(1),
    }
}

/// The error's message without the position and the path the parser adds
/// (`rewards[1]: missing field ... at line 5 column 5`): our diagnostics
/// carry the position themselves.
fn plain_message(e: &serde_norway::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    let cut = first
        .find(" at line ")
        .or_else(|| first.find(", line "))
        .unwrap_or(first.len());
    let mut msg = first[..cut].trim();
    // A path never holds spaces or backticks; a message's own words do.
    if let Some((path, rest)) = msg.split_once(": ")
        && !path.contains([' ', '`'])
    {
        msg = rest.trim();
    }
    if msg.is_empty() {
        text
    } else {
        msg.to_string()
    }
}

/// Positions of every node of a document, by path.
#[derive(Debug, Default)]
pub struct SpanIndex {
    /// (line, column) of each value, 1-based, relative to the YAML text.
    values: HashMap<YamlPath, (usize, usize)>,
    /// (line, column) of each mapping key.
    keys: HashMap<YamlPath, (usize, usize)>,
}

impl SpanIndex {
    /// Indexes the positions of a YAML text. A text that does not parse gives an empty index.
    pub fn build(yaml: &str) -> SpanIndex {
        let mut index = SpanIndex::default();
        if let Ok(root) = serde_saphyr::from_str_with_options::<Spanned<Node>>(yaml, options()) {
            index.walk(Vec::new(), &root);
        }
        index
    }

    fn walk(&mut self, path: YamlPath, node: &Spanned<Node>) {
        self.values.insert(path.clone(), position(&node.referenced));
        match &node.value {
            Node::Map(entries) => {
                for (key, value) in entries {
                    let mut child = path.clone();
                    child.push(Seg::Key(key.value.clone()));
                    self.keys.insert(child.clone(), position(&key.referenced));
                    self.walk(child, value);
                }
            }
            Node::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let mut child = path.clone();
                    child.push(Seg::Index(i));
                    self.walk(child, item);
                }
            }
            Node::Scalar => {}
        }
    }

    /// Position of the value at `path`, or of its nearest ancestor that exists.
    pub fn value(&self, path: &[Seg]) -> (usize, usize) {
        let mut p = path;
        loop {
            if let Some(pos) = self.values.get(p) {
                return *pos;
            }
            match p.split_last() {
                Some((_, parent)) => p = parent,
                None => return (1, 1),
            }
        }
    }

    /// Position of the key that introduces `path` (falls back to the value's position).
    pub fn key(&self, path: &[Seg]) -> (usize, usize) {
        self.keys
            .get(path)
            .copied()
            .unwrap_or_else(|| self.value(path))
    }
}

fn position(location: &serde_saphyr::Location) -> (usize, usize) {
    (
        (location.line() as usize).max(1),
        (location.column() as usize).max(1),
    )
}

/// An untyped YAML node, only used to learn positions.
#[derive(Debug)]
enum Node {
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Scalar,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

macro_rules! scalar_visit {
    ($($name:ident: $ty:ty),*) => {
        $(fn $name<E: de::Error>(self, _: $ty) -> Result<Node, E> { Ok(Node::Scalar) })*
    };
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    scalar_visit!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str, visit_bytes: &[u8]);

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            let key = Spanned::new(key.value.0, key.referenced, key.defined);
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

/// A mapping key of any scalar type, as text (`1: x` has the key "1").
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyText, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".into()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The field names a derived struct accepts, learned from serde itself so the
/// list never drifts from the model: a deserializer that only records the
/// names `deserialize_struct` is called with.
pub fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Introspect<'a>(&'a mut &'static [&'static str]);

    #[derive(Debug)]
    struct Stop;
    impl fmt::Display for Stop {
        fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("introspection")
        }
    }
    impl std::error::Error for Stop {}
    impl de::Error for Stop {
        fn custom<M: fmt::Display>(_: M) -> Self {
            Stop
        }
    }

    impl<'de> Deserializer<'de> for Introspect<'_> {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            *self.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Introspect(&mut fields));
    fields
}

/// The accepted field closest to a misspelt one, if any is close enough.
pub fn did_you_mean<'a>(unknown: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(unknown, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ProjectMeta, Reward};

    #[test]
    fn introspection_lists_the_model_fields() {
        let fields = fields_of::<Reward>();
        assert_eq!(fields, &["min", "title", "description", "limit"]);
        assert!(fields_of::<ProjectMeta>().contains(&"funding"));
    }

    #[test]
    fn unknown_fields_are_all_collected() {
        let (r, unknown): (Reward, _) = parse("min: 5\ntitle: A\ntitel: B\nlimt: 3\n").unwrap();
        assert_eq!(r.min, rust_decimal::Decimal::from(5));
        let paths: Vec<_> = unknown.iter().map(|u| display_path(&u.path)).collect();
        assert_eq!(paths, ["titel", "limt"]);
    }

    #[test]
    fn missing_fields_point_at_their_mapping() {
        let yaml = "goal: 100\nrewards:\n  - min: 5\n    title: A\n  - min: 10\n    titel: B\n";
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct P {
            goal: u32,
            rewards: Vec<Reward>,
        }
        let (err, unknown) = parse::<P>(yaml).unwrap_err();
        assert_eq!(err.message, "missing field `title` in `rewards[1]`");
        assert_eq!(err.line, 5);
        assert_eq!(display_path(&unknown[0].path), "rewards[1].titel");
    }

    #[test]
    fn span_index_locates_nested_values() {
        let idx = SpanIndex::build(
            "goal: 100\nrewards:\n  - min: 5\n    title: A\n  - { min: 10, title: B }\n",
        );
        assert_eq!(idx.value(&crate::path!["goal"]), (1, 7));
        assert_eq!(idx.value(&crate::path!["rewards", 0, "title"]).0, 4);
        assert_eq!(idx.value(&crate::path!["rewards", 1, "min"]), (5, 12));
        assert_eq!(idx.key(&crate::path!["rewards", 1, "min"]), (5, 7));
        // A missing path falls back to its parent.
        assert_eq!(idx.value(&crate::path!["rewards", 1, "limit"]).0, 5);
    }

    #[test]
    fn floats_become_exact_decimals() {
        let (r, _): (Reward, _) = parse("min: 12.345\ntitle: A\n").unwrap();
        assert_eq!(r.min.to_string(), "12.345");
        let (r, _): (Reward, _) = parse("min: 0.1\ntitle: A\n").unwrap();
        assert_eq!(r.min.to_string(), "0.1");
    }

    #[test]
    fn syntax_errors_have_positions() {
        let (err, _) = parse::<Reward>("min: 5\ntitle: [unclosed\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
        assert_eq!(err.kind, YamlErrorKind::Syntax);
        let (err, _) = parse::<Reward>("min: five\ntitle: A\n").unwrap_err();
        assert_eq!((err.kind, err.line), (YamlErrorKind::Data, 1), "{err:?}");
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            bomb.push_str(&format!(
                "b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        bomb.push_str("min: 5\ntitle: A\n");
        // Expanding the aliases is refused...
        let (err, _) = parse::<serde_json::Value>(&bomb).unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::TooComplex);
        // ...and unknown fields are skipped without expanding them.
        let (_, unknown) = parse::<Reward>(&bomb).unwrap();
        assert_eq!(unknown.len(), 13);
        let deep = format!(
            "min: 5\ntitle: A\nx: {}{}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let (err, _) = parse::<Reward>(&deep).unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::TooComplex, "{err:?}");
        assert_eq!((err.line, err.column), (3, 36));
    }
}
