//! The enums both halves name, in content, in `catalog.json`, in the store
//! and on the pages: each is written once, with its one `as_str` (the JSON
//! and YAML spelling).

use serde::{Deserialize, Serialize};

/// Writes `as_str`, `parse` and `ALL` for a unit enum from its spellings.
macro_rules! spelled {
    ($name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The spelling in content, JSON and the store.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),*
                }
            }

            /// The value a spelling names.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

/// A project's status; only `live` projects take pledges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Review,
    Live,
    Closed,
}

spelled!(Status { Draft => "draft", Review => "review", Live => "live", Closed => "closed" });

/// What happens at the end of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Funding {
    /// Below the goal at the end, every paid pledge is refunded and every
    /// match released.
    AllOrNothing,
    /// The project keeps what was raised.
    KeepItAll,
}

spelled!(Funding { AllOrNothing => "all_or_nothing", KeepItAll => "keep_it_all" });

/// The three ways a sponsor matches citizens' money (see DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolMode {
    /// Each paid pledge gets `amount × ratio`, within limits.
    PerPledge,
    /// Up to an amount (or a share of the goal) if, and only if, citizens
    /// reach the goal; paid at the close.
    OnSuccess,
    /// A fixed amount once a project reaches a share of its goal and a
    /// number of donors.
    LumpSum,
}

spelled!(PoolMode { PerPledge => "per_pledge", OnSuccess => "on_success", LumpSum => "lump_sum" });

/// Who carries a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolderKind {
    Individual,
    Collective,
    Association,
    Company,
}

spelled!(HolderKind {
    Individual => "individual",
    Collective => "collective",
    Association => "association",
    Company => "company",
});

/// The outcome of a campaign ([`crate::outcome::outcome`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Funded,
    NotFunded,
}

spelled!(Outcome { Funded => "funded", NotFunded => "not_funded" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_spelling_is_the_serde_one_and_parses_back() {
        fn check<T: Serialize + Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            as_str: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &v in all {
                assert_eq!(
                    serde_json::to_string(&v).unwrap(),
                    format!("\"{}\"", as_str(v))
                );
                assert_eq!(parse(as_str(v)), Some(v));
            }
        }
        check(Status::ALL, Status::as_str, Status::parse);
        check(Funding::ALL, Funding::as_str, Funding::parse);
        check(PoolMode::ALL, PoolMode::as_str, PoolMode::parse);
        check(HolderKind::ALL, HolderKind::as_str, HolderKind::parse);
        check(Outcome::ALL, Outcome::as_str, Outcome::parse);
        assert_eq!(Status::parse("Live"), None);
    }
}
