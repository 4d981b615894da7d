//! Which projects a DynamoDB Stream batch says changed (pure).
//!
//! The stream is the table's (`NEW_IMAGE`); the event source mapping of the
//! template filters it to the project totals items (`pk` = `TOTALS`,
//! INSERT and MODIFY) and batches a burst of payments into one invocation
//! (`MaximumBatchingWindowInSeconds`). A totals item changes on every
//! payment, refund and offer of its project, and only then, so its key
//! names the project whose figures changed. The filter is applied here too:
//! a record of another item, or one that cannot be read, is skipped and
//! reported (retrying it could never succeed), never an error.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

/// The partition of the project totals items, and their sort key prefix.
pub const TOTALS_PK: &str = "TOTALS";
pub const PROJECT_PREFIX: &str = "PROJECT#";

/// A DynamoDB Stream event, as Lambda delivers it (only what is read).
#[derive(Debug, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Record {
    #[serde(rename = "eventName")]
    event_name: String,
    dynamodb: StreamRecord,
}

#[derive(Debug, Deserialize)]
struct StreamRecord {
    #[serde(rename = "Keys")]
    keys: BTreeMap<String, AttributeValue>,
}

/// A key attribute: only strings are used by the table.
#[derive(Debug, Deserialize)]
struct AttributeValue {
    #[serde(rename = "S")]
    s: Option<String>,
}

/// The projects of a batch, and the records skipped (with why).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub projects: BTreeSet<String>,
    pub skipped: Vec<String>,
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The projects whose totals were inserted or modified in `event`.
pub fn changed_projects(event: &StreamEvent) -> Changes {
    let mut changes = Changes::default();
    for (i, raw) in event.records.iter().enumerate() {
        let record: Record = match serde_json::from_value(raw.clone()) {
            Ok(r) => r,
            Err(e) => {
                changes
                    .skipped
                    .push(format!("record {i}: not a DynamoDB stream record: {e}"));
                continue;
            }
        };
        if !matches!(record.event_name.as_str(), "INSERT" | "MODIFY") {
            changes
                .skipped
                .push(format!("record {i}: {} ignored", record.event_name));
            continue;
        }
        let key = |name: &str| record.dynamodb.keys.get(name).and_then(|v| v.s.as_deref());
        match (
            key("pk"),
            key("sk").and_then(|sk| sk.strip_prefix(PROJECT_PREFIX)),
        ) {
            (Some(TOTALS_PK), Some(slug)) if is_slug(slug) => {
                changes.projects.insert(slug.to_string());
            }
            (pk, _) => changes.skipped.push(format!(
                "record {i}: not a project totals item (pk {:?})",
                pk.unwrap_or("?")
            )),
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(name: &str, pk: &str, sk: &str) -> serde_json::Value {
        json!({
            "eventID": "c81e728d9d4c2f636f067f89cc14862c",
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "eu-west-3",
            "dynamodb": {
                "ApproximateCreationDateTime": 1763900000,
                "Keys": { "pk": { "S": pk }, "sk": { "S": sk } },
                "NewImage": { "pk": { "S": pk }, "sk": { "S": sk }, "raised": { "N": "2000" } },
                "SequenceNumber": "111",
                "SizeBytes": 59,
                "StreamViewType": "NEW_IMAGE"
            },
            "eventSourceARN": "arn:aws:dynamodb:eu-west-3:123456789012:table/pave/stream/2026-11-23T00:00:00.000"
        })
    }

    #[test]
    fn totals_inserted_or_modified_name_their_projects_once() {
        let event: StreamEvent = serde_json::from_value(json!({ "Records": [
            record("MODIFY", "TOTALS", "PROJECT#cafe-du-coin"),
            record("INSERT", "TOTALS", "PROJECT#jardin"),
            record("MODIFY", "TOTALS", "PROJECT#cafe-du-coin"),
        ]}))
        .unwrap();
        let changes = changed_projects(&event);
        assert_eq!(
            changes.projects,
            BTreeSet::from(["cafe-du-coin".to_string(), "jardin".to_string()])
        );
        assert!(changes.skipped.is_empty());
    }

    #[test]
    fn other_items_removals_and_garbage_are_skipped_not_errors() {
        let event: StreamEvent = serde_json::from_value(json!({ "Records": [
            record("MODIFY", "POOL#a/b", "POOL"),
            record("REMOVE", "TOTALS", "PROJECT#x"),
            record("MODIFY", "TOTALS", "PROJECT#../../etc"),
            record("MODIFY", "TOTALS", "SOMETHING"),
            { "eventName": "MODIFY" },
            42,
        ]}))
        .unwrap();
        let changes = changed_projects(&event);
        assert!(changes.projects.is_empty());
        assert_eq!(changes.skipped.len(), 6);
        let empty: StreamEvent = serde_json::from_value(json!({})).unwrap();
        assert_eq!(changed_projects(&empty), Changes::default());
    }
}
