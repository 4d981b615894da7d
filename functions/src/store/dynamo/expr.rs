//! DynamoDB expressions and transaction writes as plain data: what to write
//! and under which condition, built and tested without the SDK. `dynamo.rs`
//! turns a [`Write`] into the SDK's `TransactWriteItem`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{Item, Key};

/// An inclusive range of whole numbers (cents or counts) a counter must be
/// in when a transaction commits. A missing attribute counts as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Range {
    pub lo: Option<i64>,
    pub hi: Option<i64>,
}

impl Range {
    pub fn exactly(v: i64) -> Range {
        Range {
            lo: Some(v),
            hi: Some(v),
        }
    }

    pub fn at_least(v: i64) -> Range {
        Range {
            lo: Some(v),
            hi: None,
        }
    }

    pub fn at_most(v: i64) -> Range {
        Range {
            lo: None,
            hi: Some(v),
        }
    }

    /// Both ranges at once.
    pub fn and(self, other: Range) -> Range {
        let max = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let min = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Range {
            lo: max(self.lo, other.lo),
            hi: min(self.hi, other.hi),
        }
    }

    pub fn contains(&self, v: i64) -> bool {
        self.lo.is_none_or(|lo| lo <= v) && self.hi.is_none_or(|hi| v <= hi)
    }
}

/// An update and/or condition expression with its placeholders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expr {
    set: Vec<String>,
    add: Vec<String>,
    conditions: Vec<String>,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl Expr {
    pub fn new() -> Expr {
        Expr::default()
    }

    /// The placeholder of an attribute name (any characters allowed).
    fn name(&mut self, attr: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, a)| a.as_str() == attr) {
            return placeholder.clone();
        }
        let placeholder = format!("#a{}", self.names.len());
        self.names.insert(placeholder.clone(), attr.to_string());
        placeholder
    }

    fn value(&mut self, v: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), v);
        placeholder
    }

    /// `SET attr = v`.
    pub fn set(mut self, attr: &str, v: AttributeValue) -> Expr {
        let (n, v) = (self.name(attr), self.value(v));
        self.set.push(format!("{n} = {v}"));
        self
    }

    /// `ADD attr delta` (a number; created at 0 when missing). A zero delta
    /// writes nothing.
    pub fn add(mut self, attr: &str, delta: i64) -> Expr {
        if delta != 0 {
            let (n, v) = (
                self.name(attr),
                self.value(AttributeValue::N(delta.to_string())),
            );
            self.add.push(format!("{n} {v}"));
        }
        self
    }

    /// Condition: the item does not exist.
    pub fn item_absent(mut self) -> Expr {
        let n = self.name("pk");
        self.conditions.push(format!("attribute_not_exists({n})"));
        self
    }

    /// Condition: `attr = v`.
    pub fn equals(mut self, attr: &str, v: AttributeValue) -> Expr {
        let (n, v) = (self.name(attr), self.value(v));
        self.conditions.push(format!("{n} = {v}"));
        self
    }

    /// Condition: the attribute is missing.
    pub fn absent(mut self, attr: &str) -> Expr {
        let n = self.name(attr);
        self.conditions.push(format!("attribute_not_exists({n})"));
        self
    }

    /// Condition: the counter `attr` (missing = 0) is within `range`.
    pub fn within(mut self, attr: &str, range: Range) -> Expr {
        let n = self.name(attr);
        let num = |v: i64| AttributeValue::N(v.to_string());
        let test = match (range.lo, range.hi) {
            (None, None) => return self,
            (Some(lo), Some(hi)) if lo == hi => format!("{n} = {}", self.value(num(lo))),
            (Some(lo), Some(hi)) => {
                let (lo, hi) = (self.value(num(lo)), self.value(num(hi)));
                format!("{n} BETWEEN {lo} AND {hi}")
            }
            (Some(lo), None) => format!("{n} >= {}", self.value(num(lo))),
            (None, Some(hi)) => format!("{n} <= {}", self.value(num(hi))),
        };
        let condition = if range.contains(0) {
            format!("(attribute_not_exists({n}) OR {test})")
        } else {
            test
        };
        self.conditions.push(condition);
        self
    }

    /// `SET … ADD …`, or `None` when there is nothing to update.
    pub fn update_expression(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.set.is_empty() {
            parts.push(format!("SET {}", self.set.join(", ")));
        }
        if !self.add.is_empty() {
            parts.push(format!("ADD {}", self.add.join(", ")));
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// The conditions joined by `AND`, or `None`.
    pub fn condition_expression(&self) -> Option<String> {
        (!self.conditions.is_empty()).then(|| self.conditions.join(" AND "))
    }
}

/// One write of a `TransactWriteItems`.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Puts `item` (the key's attributes are added) under the condition in `expr`.
    Put {
        key: Key,
        item: Item,
        expr: Expr,
    },
    /// Updates the item (created if missing) under the condition in `expr`.
    Update {
        key: Key,
        expr: Expr,
    },
    Delete {
        key: Key,
    },
    /// Deletes the item under the condition in `expr`.
    DeleteIf {
        key: Key,
        expr: Expr,
    },
    /// Only checks a condition.
    Check {
        key: Key,
        expr: Expr,
    },
}

impl Write {
    #[cfg(test)]
    pub fn key(&self) -> &Key {
        match self {
            Write::Put { key, .. }
            | Write::Update { key, .. }
            | Write::Delete { key }
            | Write::DeleteIf { key, .. }
            | Write::Check { key, .. } => key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_render_with_missing_as_zero() {
        let e = Expr::new()
            .within("raised", Range::at_most(500))
            .within("m:a/b", Range::at_least(3))
            .within("total", Range::exactly(0))
            .within("backers", Range::default());
        assert_eq!(
            e.condition_expression().unwrap(),
            "(attribute_not_exists(#a0) OR #a0 <= :v0) AND #a1 >= :v1 AND (attribute_not_exists(#a2) OR #a2 = :v2)"
        );
        assert_eq!(e.names["#a1"], "m:a/b");
        assert_eq!(e.values[":v1"], AttributeValue::N("3".into()));
    }

    #[test]
    fn updates_join_set_and_add_and_skip_zero() {
        let e = Expr::new()
            .set("status", AttributeValue::S("paid".into()))
            .add("raised", 1234)
            .add("backers", 0)
            .add("pledges", 1)
            .equals("status", AttributeValue::S("pending".into()));
        assert_eq!(
            e.update_expression().unwrap(),
            "SET #a0 = :v0 ADD #a1 :v1, #a2 :v2"
        );
        assert_eq!(e.condition_expression().unwrap(), "#a0 = :v3");
        assert_eq!(Expr::new().update_expression(), None);
    }

    #[test]
    fn ranges_intersect() {
        let r = Range::at_least(5)
            .and(Range::at_most(9))
            .and(Range::at_least(7));
        assert_eq!(
            r,
            Range {
                lo: Some(7),
                hi: Some(9)
            }
        );
        assert!(r.contains(7) && r.contains(9) && !r.contains(6) && !r.contains(10));
    }
}
