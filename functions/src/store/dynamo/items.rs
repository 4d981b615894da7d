//! The single table's items: their keys, attribute names, and the
//! conversions between items and this crate's values. Pure: no SDK calls.
//! ARCHITECTURE.md ("DynamoDB single-table design") lists every item type.
//!
//! Amounts are integer cents in DynamoDB numbers (`N`), never floats.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::matching::Match;
use crate::money::from_cents;
use crate::progress::{Amount, Figures};
use crate::store::{
    CloseRecord, CloseState, Contact, LedgerEntry, LedgerPledge, NewPledge, Outcome, PledgeStatus,
    RefundReason, StoreError,
};

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// The table's key attributes and TTL attribute.
pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const TTL: &str = "ttl";

/// The partition holding every project's totals item (read by `snapshot`).
pub const TOTALS_PARTITION: &str = "TOTALS";
/// The partition holding every live reward reservation.
pub const RESERVATIONS_PARTITION: &str = "RESERVATIONS";
/// Prefix of the sort keys of a pledge's matches.
pub const MATCH_PREFIX: &str = "MATCH#";

/// The partition of the pledges waiting for their refund (sort key
/// `<project>#<pledge id>`): what the next close run retries.
pub const REFUNDING_PARTITION: &str = "REFUNDING";

/// The sort-key prefix of a project's ledger entries (`PROJECT#<slug>`).
pub const LEDGER_PREFIX: &str = "PAID#";

/// The sort-key prefix of a project's offers of help (`PROJECT#<slug>`).
pub const OFFER_PREFIX: &str = "OFFER#";

/// An offer of help of `project`, as `plan::offer` wrote it.
pub fn offer(project: &str, item: &Item) -> Result<crate::store::Offer, StoreError> {
    Ok(crate::store::Offer {
        project: project.to_string(),
        need: opt_num(item, "need")?.and_then(|n| usize::try_from(n).ok()),
        name: string(item, "name")?,
        contact: string(item, "contact")?,
        message: string(item, "message")?,
        created_at: num(item, "created_at")?,
    })
}

/// How long a lapsed reservation stays before DynamoDB's TTL may delete it
/// (it stops counting at `expires_at` already).
pub const RESERVATION_GRACE: i64 = 3600;

/// An item's primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: String, sk: &str) -> Key {
        Key {
            pk,
            sk: sk.to_string(),
        }
    }

    pub fn pledge(id: &str) -> Key {
        Key::new(format!("PLEDGE#{id}"), "PLEDGE")
    }

    /// The `n`-th match of a pledge (in the order matching gave them).
    pub fn matched(pledge: &str, n: usize) -> Key {
        Key::new(format!("PLEDGE#{pledge}"), &format!("{MATCH_PREFIX}{n:03}"))
    }

    pub fn event(id: &str) -> Key {
        Key::new(format!("EVENT#{id}"), "EVENT")
    }

    pub fn totals(project: &str) -> Key {
        Key::new(TOTALS_PARTITION.to_string(), &format!("PROJECT#{project}"))
    }

    pub fn pool(id: &str) -> Key {
        Key::new(format!("POOL#{id}"), "POOL")
    }

    /// A project's ledger entry for a paid pledge (the close lists them).
    pub fn ledger(project: &str, pledge: &str) -> Key {
        Key::new(
            format!("PROJECT#{project}"),
            &format!("{LEDGER_PREFIX}{pledge}"),
        )
    }

    /// The marker of a pledge waiting for its refund.
    pub fn refunding(project: &str, pledge: &str) -> Key {
        Key::new(
            REFUNDING_PARTITION.to_string(),
            &format!("{project}#{pledge}"),
        )
    }

    /// The `n`-th on_success match paid at a project's close.
    pub fn close_match(project: &str, n: usize) -> Key {
        Key::new(format!("CLOSE#{project}"), &format!("{MATCH_PREFIX}{n:03}"))
    }

    pub fn donor(project: &str, donor: &str) -> Key {
        Key::new(format!("PROJECT#{project}"), &format!("DONOR#{donor}"))
    }

    pub fn reservation(project: &str, reward: usize, pledge: &str) -> Key {
        Key::new(
            RESERVATIONS_PARTITION.to_string(),
            &format!("{}{pledge}", reservation_prefix(project, Some(reward))),
        )
    }

    pub fn offer(project: &str, created_at: i64, nonce: u64) -> Key {
        Key::new(
            format!("PROJECT#{project}"),
            &format!("{OFFER_PREFIX}{created_at:020}#{nonce:016x}"),
        )
    }

    /// The mark of a project's news item announced.
    pub fn announced(project: &str, news: &str) -> Key {
        Key::new(format!("ANNOUNCED#{project}"), news)
    }

    /// A setting by name (`contacts`).
    pub fn settings(name: &str) -> Key {
        Key::new("SETTINGS".to_string(), name)
    }

    /// The key as attributes.
    pub fn to_item(&self) -> Item {
        HashMap::from([(PK.to_string(), s(&self.pk)), (SK.to_string(), s(&self.sk))])
    }
}

/// The sort-key prefix of a project's reservations (of one reward, or all).
/// Slugs are `[a-z0-9-]`, so `#` ends them unambiguously.
pub fn reservation_prefix(project: &str, reward: Option<usize>) -> String {
    match reward {
        Some(reward) => format!("{project}#{reward}#"),
        None => format!("{project}#"),
    }
}

// Attributes of the totals item that are per pool or per reward.

/// Sum of the active matches of `pool` for the project (cents).
pub fn matched_attr(pool: &str) -> String {
    format!("m:{pool}")
}

/// Active lump sums of `pool` for the project (0 or 1).
pub fn lump_attr(pool: &str) -> String {
    format!("l:{pool}")
}

/// Paid pledges with reward `index`.
pub fn reward_attr(index: usize) -> String {
    format!("r:{index}")
}

/// Version of reward `index`'s taken places, bumped whenever they grow.
pub fn reward_version_attr(index: usize) -> String {
    format!("rv:{index}")
}

/// On a donor item: sum of the donor's active matches by `pool` (cents).
pub fn donor_matched_attr(pool: &str) -> String {
    format!("d:{pool}")
}

pub fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

pub fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn bad(attr: &str, why: &str) -> StoreError {
    StoreError::Backend(format!("DynamoDB item attribute `{attr}` {why}"))
}

/// A whole number attribute; a missing one is 0.
pub fn num(item: &Item, attr: &str) -> Result<i64, StoreError> {
    Ok(opt_num(item, attr)?.unwrap_or(0))
}

pub fn opt_num(item: &Item, attr: &str) -> Result<Option<i64>, StoreError> {
    match item.get(attr) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(v)) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad(attr, &format!("is not a whole number: {v:?}"))),
        Some(_) => Err(bad(attr, "is not a number")),
    }
}

pub fn opt_string(item: &Item, attr: &str) -> Result<Option<String>, StoreError> {
    match item.get(attr) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
        Some(_) => Err(bad(attr, "is not a string")),
    }
}

pub fn string(item: &Item, attr: &str) -> Result<String, StoreError> {
    opt_string(item, attr)?.ok_or_else(|| bad(attr, "is missing"))
}

fn count(v: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| bad(what, &format!("is out of range: {v}")))
}

fn index(v: i64, what: &str) -> Result<usize, StoreError> {
    usize::try_from(v).map_err(|_| bad(what, &format!("is not an index: {v}")))
}

/// The attributes of a pledge the webhooks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PledgeItem {
    pub id: String,
    pub project: String,
    pub amount: i64,
    pub reward: Option<usize>,
    pub donor: String,
    pub status: PledgeStatus,
    /// When its checkout (and its reservation) expires.
    pub expires_at: i64,
    /// The name and email, only when the donor agreed to share them.
    pub contact: Option<Contact>,
    /// The name the donor chose to show (the wall of backers).
    pub display_name: Option<String>,
    /// Their public message for the wall.
    pub message: Option<String>,
}

/// The contact of a pledge or ledger item: only with `share_contact` true.
fn contact(item: &Item) -> Result<Option<Contact>, StoreError> {
    if !matches!(item.get("share_contact"), Some(AttributeValue::Bool(true))) {
        return Ok(None);
    }
    Ok(opt_string(item, "email")?.map(|email| Contact {
        name: opt_string(item, "display_name").ok().flatten(),
        email,
    }))
}

impl PledgeItem {
    pub fn from_item(id: &str, item: &Item) -> Result<PledgeItem, StoreError> {
        let status = string(item, "status")?;
        Ok(PledgeItem {
            id: id.to_string(),
            project: string(item, "project")?,
            amount: num(item, "amount")?,
            reward: opt_num(item, "reward")?
                .map(|r| index(r, "reward"))
                .transpose()?,
            donor: string(item, "donor")?,
            status: PledgeStatus::parse(&status)
                .ok_or_else(|| bad("status", &format!("is unknown: {status:?}")))?,
            expires_at: opt_num(item, "expires_at")?.unwrap_or(0),
            contact: contact(item)?,
            display_name: opt_string(item, "display_name")?,
            message: opt_string(item, "message")?,
        })
    }
}

/// A new pending pledge's attributes (key excluded).
pub fn new_pledge_item(p: &NewPledge, amount: i64) -> Item {
    let mut item = HashMap::from([
        ("project".to_string(), s(&p.project)),
        ("amount".to_string(), n(amount)),
        ("email".to_string(), s(&p.email)),
        ("donor".to_string(), s(&p.donor)),
        ("lang".to_string(), s(&p.lang)),
        ("status".to_string(), s(PledgeStatus::Pending.as_str())),
        ("created_at".to_string(), n(p.created_at)),
        ("expires_at".to_string(), n(p.expires_at)),
    ]);
    if let Some(reward) = p.reward {
        item.insert("reward".to_string(), n(reward as i64));
    }
    if let Some(name) = &p.display_name {
        item.insert("display_name".to_string(), s(name));
    }
    item.insert(
        "share_contact".to_string(),
        AttributeValue::Bool(p.share_contact),
    );
    if p.news {
        item.insert("news".to_string(), AttributeValue::Bool(true));
    }
    if let Some(message) = &p.message {
        item.insert("message".to_string(), s(message));
    }
    if let Some(client) = &p.client {
        item.insert("client".to_string(), s(client));
    }
    item
}

/// A reward reservation's attributes (key excluded): who holds it (donor
/// key, client key) and whether it holds a place of a limited reward, for
/// the cap on places held ([`crate::store::MAX_PLACES_HELD`]).
pub fn reservation_item(p: &NewPledge, reward: usize, holds_place: bool) -> Item {
    let (project, expires_at) = (&p.project, p.expires_at);
    let mut item = HashMap::from([
        ("donor".to_string(), s(&p.donor)),
        ("holds_place".to_string(), AttributeValue::Bool(holds_place)),
        ("project".to_string(), s(project)),
        ("reward".to_string(), n(reward as i64)),
        ("expires_at".to_string(), n(expires_at)),
        (
            TTL.to_string(),
            n(expires_at.saturating_add(RESERVATION_GRACE)),
        ),
    ]);
    if let Some(client) = &p.client {
        item.insert("client".to_string(), s(client));
    }
    item
}

/// Whether a live reservation is a place held by this donor or this client.
pub fn held_by(item: &Item, donor: &str, client: Option<&str>) -> bool {
    let holds = matches!(item.get("holds_place"), Some(AttributeValue::Bool(true)));
    let same_donor = item
        .get("donor")
        .and_then(|v| v.as_s().ok())
        .is_some_and(|d| d == donor);
    let same_client = client.is_some_and(|c| {
        item.get("client")
            .and_then(|v| v.as_s().ok())
            .is_some_and(|k| k == c)
    });
    holds && (same_donor || same_client)
}

/// A reservation as counted by the figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub project: String,
    pub reward: usize,
    pub expires_at: i64,
}

impl Reservation {
    pub fn from_item(item: &Item) -> Result<Reservation, StoreError> {
        Ok(Reservation {
            project: string(item, "project")?,
            reward: index(num(item, "reward")?, "reward")?,
            expires_at: num(item, "expires_at")?,
        })
    }
}

/// Live reservations (`expires_at > now`) per project and reward.
pub fn live_reservations(
    reservations: &[Reservation],
    now: i64,
) -> BTreeMap<String, BTreeMap<usize, u32>> {
    let mut live: BTreeMap<String, BTreeMap<usize, u32>> = BTreeMap::new();
    for r in reservations.iter().filter(|r| r.expires_at > now) {
        *live
            .entry(r.project.clone())
            .or_default()
            .entry(r.reward)
            .or_default() += 1;
    }
    live
}

/// One project's counters (the totals item). Missing counters are 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub project: Option<String>,
    /// Citizens' paid pledges (cents).
    pub raised: i64,
    /// `raised` plus every active match (cents).
    pub total: i64,
    pub pledges: i64,
    pub backers: i64,
    pub offers: i64,
    /// Latest payment or refund time (unix seconds).
    pub updated_at: Option<i64>,
    /// Per pool: active matches (cents).
    pub matched: BTreeMap<String, i64>,
    /// Per pool: active lump sums.
    pub lump: BTreeMap<String, i64>,
    /// Per reward: paid pledges.
    pub rewards_paid: BTreeMap<usize, i64>,
    /// Per reward: version of its taken places.
    pub reward_versions: BTreeMap<usize, i64>,
    /// The campaign's close, once started.
    pub close: Option<CloseRecord>,
    /// Paid pledges refunded or being refunded.
    pub refunds: i64,
}

impl Totals {
    pub fn from_item(item: &Item) -> Result<Totals, StoreError> {
        let mut totals = Totals {
            project: opt_string(item, "project")?,
            raised: num(item, "raised")?,
            total: num(item, "total")?,
            pledges: num(item, "pledges")?,
            backers: num(item, "backers")?,
            offers: num(item, "offers")?,
            updated_at: opt_num(item, "updated_at")?,
            refunds: num(item, "refunds")?,
            close: close_record(item)?,
            ..Totals::default()
        };
        for attr in item.keys() {
            let value = || num(item, attr);
            if let Some(pool) = attr.strip_prefix("m:") {
                totals.matched.insert(pool.to_string(), value()?);
            } else if let Some(pool) = attr.strip_prefix("l:") {
                totals.lump.insert(pool.to_string(), value()?);
            } else if let Some(i) = attr.strip_prefix("rv:") {
                let i = i.parse().map_err(|_| bad(attr, "has a bad reward index"))?;
                totals.reward_versions.insert(i, value()?);
            } else if let Some(i) = attr.strip_prefix("r:") {
                let i = i.parse().map_err(|_| bad(attr, "has a bad reward index"))?;
                totals.rewards_paid.insert(i, value()?);
            }
        }
        Ok(totals)
    }

    pub fn matched_for(&self, pool: &str) -> i64 {
        self.matched.get(pool).copied().unwrap_or(0)
    }

    pub fn lump_for(&self, pool: &str) -> i64 {
        self.lump.get(pool).copied().unwrap_or(0)
    }

    pub fn reward_paid(&self, reward: usize) -> i64 {
        self.rewards_paid.get(&reward).copied().unwrap_or(0)
    }

    /// Citizens' money plus active matches (cents), as the figures add it.
    pub fn collected(&self) -> i64 {
        self.raised + self.matched.values().sum::<i64>()
    }

    /// The project's figures, with its live reservations per reward.
    pub fn figures(&self, live: Option<&BTreeMap<usize, u32>>) -> Result<Figures, StoreError> {
        let mut matched = BTreeMap::new();
        for (pool, &cents) in self.matched.iter().filter(|(_, c)| **c != 0) {
            matched.insert(pool.clone(), Amount(from_cents(cents)?));
        }
        let mut rewards: BTreeMap<usize, u32> = BTreeMap::new();
        for (&reward, &paid) in &self.rewards_paid {
            rewards.insert(reward, count(paid, "r:")?);
        }
        for (&reward, &reserved) in live.into_iter().flatten() {
            *rewards.entry(reward).or_default() += reserved;
        }
        rewards.retain(|_, c| *c > 0);
        let outcome = self.close.as_ref().and_then(|c| c.outcome);
        Ok(Figures {
            raised: from_cents(self.raised)?,
            matched,
            backers: count(self.backers, "backers")?,
            pledges: count(self.pledges, "pledges")?,
            rewards,
            offers: count(self.offers, "offers")?,
            refunded: outcome == Some(Outcome::NotFunded),
            updated_at: self
                .updated_at
                .and_then(|t| jiff::Timestamp::from_second(t).ok())
                .map(|t| t.to_string()),
            outcome: outcome.map(|o| o.as_str().to_string()),
            refunds: count(self.refunds, "refunds")?,
        })
    }
}

/// The close attributes of a totals item (`close_state`, `outcome`,
/// `close_started_at`, `closed_at`), if the close started.
pub fn close_record(item: &Item) -> Result<Option<CloseRecord>, StoreError> {
    let Some(state) = opt_string(item, "close_state")? else {
        return Ok(None);
    };
    let outcome = match opt_string(item, "outcome")? {
        Some(o) => Some(Outcome::parse(&o).ok_or_else(|| bad("outcome", "is unknown"))?),
        None => None,
    };
    Ok(Some(CloseRecord {
        state: CloseState::parse(&state).ok_or_else(|| bad("close_state", "is unknown"))?,
        outcome,
        started_at: num(item, "close_started_at")?,
        closed_at: opt_num(item, "closed_at")?,
    }))
}

/// A project's ledger entry (`PROJECT#<slug>` / `PAID#<id>`): a copy of
/// what the close needs of a paid pledge, written in the same transactions
/// as the pledge.
pub fn ledger_pledge(item: &Item) -> Result<LedgerPledge, StoreError> {
    let sk = string(item, SK)?;
    let id = sk
        .strip_prefix(LEDGER_PREFIX)
        .ok_or_else(|| bad(SK, "is not a ledger entry"))?
        .to_string();
    let status = string(item, "status")?;
    Ok(LedgerPledge {
        amount: from_cents(num(item, "amount")?)?,
        status: PledgeStatus::parse(&status)
            .ok_or_else(|| bad("status", &format!("is unknown: {status:?}")))?,
        payment_intent: opt_string(item, "payment_intent")?,
        refund_reason: opt_string(item, "refund_reason")?
            .as_deref()
            .and_then(RefundReason::parse),
        refund_id: opt_string(item, "refund_id")?,
        refund_error: opt_string(item, "refund_error")?,
        refund_attempts: count(num(item, "refund_attempts")?, "refund_attempts")?,
        id,
    })
}

/// Prefix of a ledger entry's per-pool match attributes (`m:<pool>`, cents).
pub const LEDGER_MATCH_PREFIX: &str = "m:";

/// Whether a ledger entry carries what the statements need (entries
/// written before the statements lack `donor`, `paid_at` and the matches).
pub fn ledger_entry_is_complete(item: &Item) -> bool {
    item.contains_key("donor")
}

/// A project's ledger entry as the statements read it. Its matches are
/// those recorded at payment while it is `paid`; none once it left the
/// figures (its match records were cancelled in the same transaction).
pub fn ledger_entry(item: &Item) -> Result<LedgerEntry, StoreError> {
    let base = ledger_pledge(item)?;
    let mut matches = Vec::new();
    if base.status == PledgeStatus::Paid {
        for (attr, value) in item {
            if let Some(pool) = attr.strip_prefix(LEDGER_MATCH_PREFIX) {
                let AttributeValue::N(v) = value else {
                    return Err(bad(attr, "is not a number"));
                };
                let cents = v
                    .parse::<i64>()
                    .map_err(|_| bad(attr, "is not a whole number"))?;
                matches.push(Match {
                    pool_id: pool.to_string(),
                    amount: from_cents(cents)?,
                });
            }
        }
        matches.sort_by(|a, b| a.pool_id.cmp(&b.pool_id));
    }
    Ok(LedgerEntry {
        amount: base.amount,
        reward: opt_num(item, "reward")?
            .map(|r| index(r, "reward"))
            .transpose()?,
        status: base.status,
        refund_reason: base.refund_reason,
        paid_at: num(item, "paid_at")?,
        refunded_at: opt_num(item, "refunded_at")?,
        donor: string(item, "donor")?,
        contact: contact(item)?,
        matches,
        id: base.id,
    })
}

/// One donor's pledges on one project: how many are paid (a backer while
/// any is), the matches they caused per pool, and a version bumped on every
/// change (conditions on it make per-donor decisions exact).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Donor {
    pub paid: i64,
    pub version: Option<i64>,
    pub matched: BTreeMap<String, i64>,
}

impl Donor {
    pub fn from_item(item: &Item) -> Result<Donor, StoreError> {
        let mut donor = Donor {
            paid: num(item, "paid")?,
            version: opt_num(item, "v")?,
            matched: BTreeMap::new(),
        };
        for attr in item.keys() {
            if let Some(pool) = attr.strip_prefix("d:") {
                donor.matched.insert(pool.to_string(), num(item, attr)?);
            }
        }
        Ok(donor)
    }

    pub fn matched_for(&self, pool: &str) -> i64 {
        self.matched.get(pool).copied().unwrap_or(0)
    }
}

/// A match record of a pledge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchItem {
    pub key: Key,
    pub pool: String,
    pub amount: i64,
    pub mode: String,
    pub active: bool,
}

impl MatchItem {
    pub fn from_item(item: &Item) -> Result<MatchItem, StoreError> {
        Ok(MatchItem {
            key: Key {
                pk: string(item, PK)?,
                sk: string(item, SK)?,
            },
            pool: string(item, "pool")?,
            amount: num(item, "amount")?,
            mode: string(item, "mode")?,
            active: matches!(item.get("active"), Some(AttributeValue::Bool(true))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_item_kinds_apart() {
        assert_eq!(Key::totals("cafe").pk, TOTALS_PARTITION);
        assert_eq!(Key::totals("cafe").sk, "PROJECT#cafe");
        assert_eq!(Key::matched("p-1", 2).sk, "MATCH#002");
        assert_eq!(Key::reservation("cafe", 1, "p-1").sk, "cafe#1#p-1");
        assert!(
            !Key::reservation("cafe", 10, "p")
                .sk
                .starts_with(&reservation_prefix("cafe", Some(1)))
        );
        assert!(
            !Key::reservation("cafe-2", 1, "p")
                .sk
                .starts_with(&reservation_prefix("cafe", None))
        );
    }

    #[test]
    fn totals_round_trip_into_figures() {
        let item: Item = HashMap::from([
            ("raised".to_string(), n(22543)),
            ("total".to_string(), n(51357)),
            ("pledges".to_string(), n(3)),
            ("backers".to_string(), n(2)),
            ("m:a/b".to_string(), n(17543)),
            ("m:c/d".to_string(), n(0)),
            ("r:1".to_string(), n(1)),
            ("rv:1".to_string(), n(4)),
            ("updated_at".to_string(), n(1_800_000_000)),
        ]);
        let totals = Totals::from_item(&item).unwrap();
        assert_eq!(totals.reward_versions[&1], 4);
        assert_eq!(totals.collected(), 40086);
        let live = BTreeMap::from([(1, 1), (0, 2)]);
        let f = totals.figures(Some(&live)).unwrap();
        assert_eq!(f.raised.to_string(), "225.43");
        assert_eq!(f.matched.len(), 1, "zero matches are not shown");
        assert_eq!(f.rewards, BTreeMap::from([(0, 2), (1, 2)]));
        assert_eq!(f.updated_at.as_deref(), Some("2027-01-15T08:00:00Z"));
    }

    #[test]
    fn bad_items_are_errors_not_panics() {
        let item: Item = HashMap::from([("raised".to_string(), s("12"))]);
        assert!(Totals::from_item(&item).is_err());
        let item: Item = HashMap::from([("raised".to_string(), n(-5))]);
        assert!(Totals::from_item(&item).unwrap().figures(None).is_err());
        let item: Item = HashMap::from([("raised".to_string(), AttributeValue::N("1.5".into()))]);
        assert!(Totals::from_item(&item).is_err());
        assert!(PledgeItem::from_item("p", &HashMap::new()).is_err());
    }

    #[test]
    fn only_live_reservations_count() {
        let r = |project: &str, reward, expires_at| Reservation {
            project: project.to_string(),
            reward,
            expires_at,
        };
        let live = live_reservations(
            &[r("a", 0, 10), r("a", 0, 11), r("a", 1, 9), r("b", 2, 20)],
            10,
        );
        assert_eq!(live["a"], BTreeMap::from([(0, 1)]));
        assert_eq!(live["b"], BTreeMap::from([(2, 1)]));
    }
}
