//! The DynamoDB store: one table, single-table design (ARCHITECTURE.md,
//! "DynamoDB single-table design", lists every item). Amounts are integer
//! cents in DynamoDB numbers.
//!
//! Each operation reads what it needs with consistent reads, decides with
//! the same pure code as the SQLite store (the matching engine), and writes
//! everything in ONE `TransactWriteItems` whose conditions make it valid only
//! on the state it was decided on: the event id not yet recorded, the pledge
//! still in the status read, each counter the decision read still within its
//! guard ([`guards`]), a limited reward's places unchanged. When a concurrent
//! writer got there first the transaction is cancelled as a whole and the
//! operation starts again from a fresh read, after a jittered back-off, a
//! bounded number of times. Never half-applied; idempotency comes from the
//! conditions alone (no client request token).
//!
//! The pure parts live beside this file: [`items`] (keys, item ↔ values),
//! [`expr`] (expressions and writes as data), [`guards`] and [`plan`] (what
//! each operation writes).

mod erase;
mod expr;
mod guards;
mod items;
mod outbox;
mod plan;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::aws::required_env;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_get_items::TransactGetItemsError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, Get,
    KeySchemaElement, KeyType, Put, ScalarAttributeType, TimeToLiveSpecification, TransactGetItem,
    TransactWriteItem, Update,
};
use rust_decimal::Decimal;

use self::expr::{Expr, Write};
use self::items::{Donor, Item, Key, MatchItem, PledgeItem, Reservation, Totals};
use self::plan::{Cancelled, HoldCheck, PaidRead, RefundRead, RewardCheck};
use super::{
    Applied, CloseRecord, CloseState, Erased, LedgerEntry, LedgerPledge, NewPledge, Offer, Outcome,
    PledgeContact, PledgeStatus, ProjectLedger, RefundExtent, RefundReason, RefundResult, Store,
    StoreError,
};
use crate::catalog::{Catalog, CatalogProject};
use crate::clock::Clock;
use crate::contacts::Contacts;
use crate::mail::outbox::{Claimed, Outgoing, Settle};
use crate::matching::Match;
use crate::money::{from_cents, to_cents};
use crate::payment::Payment;
use crate::progress::{Figures, SNAPSHOT_VERSION, Snapshot};
use crate::store::{NewsReader, WallEntry};

/// How many times an operation is tried when concurrent writers keep
/// cancelling it, and its back-off (full jitter, doubling, capped).
const MAX_ATTEMPTS: u32 = 40;
const BACKOFF_BASE: Duration = Duration::from_millis(4);
const BACKOFF_CAP: Duration = Duration::from_millis(250);

fn backend(op: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("DynamoDB {op}: {e}"))
}

/// A readable message: the service's code and message, or the transport's
/// error chain (timeouts, refused connections).
fn sdk_error<E, R>(op: &str, e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &e {
        SdkError::ServiceError(service) => {
            let err = service.err();
            backend(
                op,
                format!(
                    "{}: {}",
                    err.code().unwrap_or("service error"),
                    err.message().unwrap_or("no message")
                ),
            )
        }
        _ => backend(op, DisplayErrorContext(&e)),
    }
}

/// DynamoDB refuses empty placeholder maps: `None` instead.
fn non_empty<V>(map: HashMap<String, V>) -> Option<HashMap<String, V>> {
    (!map.is_empty()).then_some(map)
}

/// How to reach AWS (`crate::aws`), re-exported where the store is built.
pub use crate::aws::Connection;

/// The DynamoDB store. Cheap to clone (the client is shared).
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Clock,
}

/// The result of one try of an operation.
enum Step<T> {
    Done(T),
    /// A concurrent writer changed what was read: read again.
    Retry,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoStore {
        DynamoStore {
            client,
            table: table.into(),
            clock: Clock::system(),
        }
    }

    /// The same store, seeing the time through `clock` (`crate::clock`).
    pub fn with_clock(mut self, clock: Clock) -> DynamoStore {
        self.clock = clock;
        self
    }

    /// The table named by `PAVE_TABLE`, reached as [`Connection::from_env`] says.
    pub async fn from_env() -> Result<DynamoStore, StoreError> {
        let table = required_env("PAVE_TABLE", "the DynamoDB table of the store")?;
        Ok(DynamoStore::new(Connection::from_env()?.client(), table))
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Takes the lease `name` for `holder` for `seconds`, unless another
    /// holder has it and it has not run out (one conditional `PutItem` on
    /// `LEASE#<name>`, the same rule as the embedded store's): one publish
    /// of a content release at a time. True when `holder` has it.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        seconds: i64,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(items::PK, items::s(&format!("LEASE#{name}")))
            .item(items::SK, items::s("LEASE"))
            .item("holder", items::s(holder))
            .item("until", AttributeValue::N((now + seconds).to_string()))
            // Gone by itself a day after it ran out (the table's TTL).
            .item(
                "ttl",
                AttributeValue::N((now + seconds + 86_400).to_string()),
            )
            .condition_expression(
                "attribute_not_exists(#pk) OR #until <= :now OR #holder = :holder",
            )
            .expression_attribute_names("#pk", items::PK)
            .expression_attribute_names("#until", "until")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":holder", items::s(holder))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(false)
            }
            Err(e) => Err(sdk_error("PutItem", e)),
        }
    }

    /// Gives the lease back (if `holder` still has it).
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(items::PK, items::s(&format!("LEASE#{name}")))
            .key(items::SK, items::s("LEASE"))
            .condition_expression("#holder = :holder")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_values(":holder", items::s(holder))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(())
            }
            Err(e) => Err(sdk_error("DeleteItem", e)),
        }
    }

    /// Creates the table (tests, local use; the SAM template does it on
    /// AWS): `pk` (S) and `sk` (S), on demand, TTL on `ttl`. No index.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| backend("CreateTable", e))
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| backend("CreateTable", e))
        };
        self.client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute(items::PK)?)
            .attribute_definitions(attribute(items::SK)?)
            .key_schema(key(items::PK, KeyType::Hash)?)
            .key_schema(key(items::SK, KeyType::Range)?)
            .send()
            .await
            .map_err(|e| sdk_error("CreateTable", e))?;
        let ttl = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(items::TTL)
            .build()
            .map_err(|e| backend("UpdateTimeToLive", e))?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| sdk_error("UpdateTimeToLive", e))?;
        Ok(())
    }

    /// A pool's spending: the sum of its active matches (test support too).
    pub async fn pool_spent(&self, pool: &str) -> Result<Decimal, StoreError> {
        let item = self.get(&Key::pool(pool)).await?.unwrap_or_default();
        Ok(from_cents(items::num(&item, "spent")?)?)
    }

    // ------------------------------------------------------------ reading

    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        Ok(out.item)
    }

    /// Several items at once, from one serialisable snapshot (`None` for a
    /// missing one), or `Step::Retry` when a write to them is in flight.
    async fn get_all(&self, keys: &[Key]) -> Result<Step<Vec<Option<Item>>>, StoreError> {
        let mut request = self.client.transact_get_items();
        for key in keys {
            let get = Get::builder()
                .table_name(&self.table)
                .set_key(Some(key.to_item()))
                .build()
                .map_err(|e| backend("TransactGetItems", e))?;
            request = request.transact_items(TransactGetItem::builder().get(get).build());
        }
        match request.send().await {
            Ok(out) => {
                let mut found: Vec<Option<Item>> = out
                    .responses
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| r.item)
                    .collect();
                found.resize(keys.len(), None);
                Ok(Step::Done(found))
            }
            Err(SdkError::ServiceError(e))
                if matches!(
                    e.err(),
                    TransactGetItemsError::TransactionCanceledException(_)
                ) =>
            {
                Ok(Step::Retry)
            }
            Err(e) => Err(sdk_error("TransactGetItems", e)),
        }
    }

    /// A ledger entry written before the statements (no donor, payment time
    /// nor matches on it): completed from its pledge's partition (the
    /// pledge and its match records), one more query.
    /// A pledge's item and its active matches, in one consistent query of
    /// its partition; `None` when the store does not have it.
    pub(crate) async fn pledge_with_matches(
        &self,
        pledge_id: &str,
    ) -> Result<Option<(Item, Vec<Match>)>, StoreError> {
        let found = self.query(&Key::pledge(pledge_id).pk, "", None).await?;
        let sk = |i: &Item| items::opt_string(i, items::SK).ok().flatten();
        let Some(pledge) = found.iter().find(|i| sk(i).as_deref() == Some("PLEDGE")) else {
            return Ok(None);
        };
        let mut matches = Vec::new();
        for m in found
            .iter()
            .filter(|i| sk(i).is_some_and(|sk| sk.starts_with(items::MATCH_PREFIX)))
        {
            let m = MatchItem::from_item(m)?;
            if m.active {
                matches.push(Match {
                    pool_id: m.pool,
                    amount: crate::money::from_cents(m.amount)?,
                });
            }
        }
        Ok(Some((pledge.clone(), matches)))
    }

    /// The pledge items of a project's paid pledges (from its ledger
    /// entries), with their ids.
    async fn paid_pledge_items(&self, project: &str) -> Result<Vec<(String, Item)>, StoreError> {
        let partition = Key::ledger(project, "").pk;
        let mut found = Vec::new();
        for entry in self.query(&partition, items::LEDGER_PREFIX, None).await? {
            let base = items::ledger_pledge(&entry)?;
            if base.status != PledgeStatus::Paid {
                continue;
            }
            if let Some(item) = self.get(&Key::pledge(&base.id)).await? {
                found.push((base.id, item));
            }
        }
        Ok(found)
    }

    async fn legacy_ledger_entry(&self, entry: &Item) -> Result<LedgerEntry, StoreError> {
        let base = items::ledger_pledge(entry)?;
        let (pledge, matches) = self
            .pledge_with_matches(&base.id)
            .await?
            .ok_or_else(|| StoreError::UnknownPledge(base.id.clone()))?;
        let item = PledgeItem::from_item(&base.id, &pledge)?;
        Ok(LedgerEntry {
            amount: base.amount,
            reward: item.reward,
            status: base.status,
            refund_reason: base.refund_reason,
            paid_at: items::opt_num(&pledge, "paid_at")?.unwrap_or_default(),
            refunded_at: items::opt_num(&pledge, "refunded_at")?,
            donor: item.donor,
            contact: item.contact,
            matches,
            id: base.id,
        })
    }

    /// Every item of a partition whose sort key starts with `prefix` (the
    /// whole partition for ""), consistent, all pages; optionally only those
    /// with `expires_at > live_after`.
    async fn query(
        &self,
        pk: &str,
        prefix: &str,
        live_after: Option<i64>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .expression_attribute_names("#pk", items::PK)
                .expression_attribute_values(":pk", items::s(pk))
                .set_exclusive_start_key(start.take());
            request = if prefix.is_empty() {
                request.key_condition_expression("#pk = :pk")
            } else {
                request
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#sk", items::SK)
                    .expression_attribute_values(":prefix", items::s(prefix))
            };
            if let Some(after) = live_after {
                request = request
                    .filter_expression("#exp > :after")
                    .expression_attribute_names("#exp", "expires_at")
                    .expression_attribute_values(":after", items::n(after));
            }
            let out = request.send().await.map_err(|e| sdk_error("Query", e))?;
            found.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(found),
            }
        }
    }

    async fn totals(&self, project: &str) -> Result<Totals, StoreError> {
        match self.get(&Key::totals(project)).await? {
            Some(item) => Totals::from_item(&item),
            None => Ok(Totals::default()),
        }
    }

    /// Live reservations per project and reward (of one project, or all).
    async fn live_reservations(
        &self,
        project: Option<&str>,
        now: i64,
    ) -> Result<BTreeMap<String, BTreeMap<usize, u32>>, StoreError> {
        let prefix = project.map_or(String::new(), |p| items::reservation_prefix(p, None));
        let found = self
            .query(items::RESERVATIONS_PARTITION, &prefix, Some(now))
            .await?;
        let reservations = found
            .iter()
            .map(Reservation::from_item)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(items::live_reservations(&reservations, now))
    }

    // ------------------------------------------------------------ writing

    /// Sends one transaction; `Err(Cancelled)` tells why it was cancelled.
    async fn transact(&self, writes: Vec<Write>) -> Result<Result<(), Cancelled>, StoreError> {
        let mut request = self.client.transact_write_items();
        for write in writes {
            request = request.transact_items(self.transact_item(write)?);
        }
        match request.send().await {
            Ok(_) => Ok(Ok(())),
            Err(SdkError::ServiceError(e)) => match e.err() {
                TransactWriteItemsError::TransactionCanceledException(c) => {
                    let reasons: Vec<Option<String>> = c
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code().map(str::to_string))
                        .collect();
                    Ok(Err(plan::classify(&reasons)))
                }
                TransactWriteItemsError::TransactionInProgressException(_) => {
                    Ok(Err(Cancelled::Conflict))
                }
                _ => Err(sdk_error("TransactWriteItems", SdkError::ServiceError(e))),
            },
            Err(e) => Err(sdk_error("TransactWriteItems", e)),
        }
    }

    /// A [`Write`] as the SDK's transaction item.
    fn transact_item(&self, write: Write) -> Result<TransactWriteItem, StoreError> {
        let op = "TransactWriteItems";
        Ok(match write {
            Write::Put {
                key,
                mut item,
                expr,
            } => {
                item.extend(key.to_item());
                let condition = expr.condition_expression();
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(non_empty(expr.names))
                    .set_expression_attribute_values(non_empty(expr.values))
                    .build()
                    .map_err(|e| backend(op, e))?;
                TransactWriteItem::builder().put(put).build()
            }
            Write::Update { key, expr } => {
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key.to_item()))
                    .set_update_expression(expr.update_expression())
                    .set_condition_expression(expr.condition_expression())
                    .set_expression_attribute_names(non_empty(expr.names))
                    .set_expression_attribute_values(non_empty(expr.values))
                    .build()
                    .map_err(|e| backend(op, e))?;
                TransactWriteItem::builder().update(update).build()
            }
            Write::Delete { key } => self.transact_item(Write::DeleteIf {
                key,
                expr: Expr::new(),
            })?,
            Write::DeleteIf { key, expr } => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key.to_item()))
                    .set_condition_expression(expr.condition_expression())
                    .set_expression_attribute_names(non_empty(expr.names))
                    .set_expression_attribute_values(non_empty(expr.values))
                    .build()
                    .map_err(|e| backend(op, e))?;
                TransactWriteItem::builder().delete(delete).build()
            }
            Write::Check { key, expr } => {
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key.to_item()))
                    .set_condition_expression(expr.condition_expression())
                    .set_expression_attribute_names(non_empty(expr.names))
                    .set_expression_attribute_values(non_empty(expr.values))
                    .build()
                    .map_err(|e| backend(op, e))?;
                TransactWriteItem::builder().condition_check(check).build()
            }
        })
    }

    /// Waits before try `attempt + 1`, or gives up.
    async fn back_off(&self, op: &str, attempt: u32) -> Result<(), StoreError> {
        if attempt + 1 >= MAX_ATTEMPTS {
            return Err(StoreError::Backend(format!(
                "DynamoDB {op}: still cancelled by concurrent writers after {MAX_ATTEMPTS} attempts"
            )));
        }
        let ceiling = BACKOFF_BASE
            .saturating_mul(1 << attempt.min(16))
            .min(BACKOFF_CAP);
        let jitter = getrandom::u64().unwrap_or(u64::from(attempt) * 7919);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        tokio::time::sleep(Duration::from_nanos(jitter % nanos.max(1))).await;
        Ok(())
    }

    /// A webhook's first read: whether the event was applied, and the pledge.
    async fn event_and_pledge(
        &self,
        event_id: &str,
        pledge_id: &str,
    ) -> Result<Step<(bool, PledgeItem)>, StoreError> {
        let found = match self
            .get_all(&[Key::event(event_id), Key::pledge(pledge_id)])
            .await?
        {
            Step::Done(found) => found,
            Step::Retry => return Ok(Step::Retry),
        };
        let seen = found[0].is_some();
        match &found[1] {
            Some(item) => Ok(Step::Done((seen, PledgeItem::from_item(pledge_id, item)?))),
            None if seen => Ok(Step::Done((
                true,
                // Never used: a seen event is a duplicate.
                PledgeItem {
                    id: pledge_id.to_string(),
                    project: String::new(),
                    amount: 0,
                    reward: None,
                    donor: String::new(),
                    status: PledgeStatus::Pending,
                    expires_at: 0,
                    contact: None,
                    display_name: None,
                    message: None,
                },
            ))),
            None => Err(StoreError::UnknownPledge(pledge_id.to_string())),
        }
    }

    /// Sends a webhook's writes: `Duplicate` when the event id was recorded
    /// meanwhile, `Retry` on a concurrent writer.
    async fn commit_event(
        &self,
        writes: Vec<Write>,
        applied: Applied,
    ) -> Result<Step<Applied>, StoreError> {
        match self.transact(writes).await? {
            Ok(()) => Ok(Step::Done(applied)),
            Err(Cancelled::FirstCondition) => Ok(Step::Done(Applied::Duplicate)),
            Err(Cancelled::Conflict) => Ok(Step::Retry),
            Err(Cancelled::Fatal(why)) => Err(backend("TransactWriteItems", why)),
        }
    }

    /// The first read of a payment: whether its event was applied, and its
    /// pledge. On a retry (`hint`: a pledge's project and donor never
    /// change) one read gets the event, the pledge and the counters at once,
    /// the counters returned as `prefetched`.
    async fn paid_first_read(
        &self,
        catalog: &Catalog,
        event_id: &str,
        pledge_id: &str,
        hint: Option<PledgeItem>,
    ) -> Result<Step<(bool, PledgeItem, Option<Vec<Option<Item>>>)>, StoreError> {
        let Some(hint) = hint else {
            return Ok(match self.event_and_pledge(event_id, pledge_id).await? {
                Step::Done((seen, pledge)) => Step::Done((seen, pledge, None)),
                Step::Retry => Step::Retry,
            });
        };
        let mut keys = vec![Key::event(event_id), Key::pledge(pledge_id)];
        keys.extend(counter_keys(catalog, &hint));
        let found = match self.get_all(&keys).await? {
            Step::Done(found) => found,
            Step::Retry => return Ok(Step::Retry),
        };
        let seen = found[0].is_some();
        let pledge = match &found[1] {
            Some(item) => PledgeItem::from_item(pledge_id, item)?,
            None if seen => hint,
            None => return Err(StoreError::UnknownPledge(pledge_id.to_string())),
        };
        Ok(Step::Done((seen, pledge, Some(found[2..].to_vec()))))
    }

    /// For a limited reward whose reservation no longer holds its place,
    /// the places taken by others and the version they were counted at
    /// (read after the totals: a place taken in between bumps the version
    /// the payment is conditioned on).
    async fn reward_recheck(
        &self,
        project: &CatalogProject,
        pledge: &PledgeItem,
        totals: &Totals,
        paid_at: i64,
    ) -> Result<Option<(u32, RewardCheck)>, StoreError> {
        let limited = pledge
            .reward
            .and_then(|i| project.rewards.iter().find(|r| r.index == i))
            .is_some_and(|r| r.limit.is_some());
        let held = crate::payment::place_held(
            pledge.status == PledgeStatus::Pending,
            pledge.expires_at,
            paid_at,
        );
        let Some(reward) = pledge.reward.filter(|_| limited && !held) else {
            return Ok(None);
        };
        let reserved = self
            .query(
                items::RESERVATIONS_PARTITION,
                &items::reservation_prefix(&pledge.project, Some(reward)),
                Some(paid_at),
            )
            .await?
            .len();
        let taken = totals.reward_paid(reward) + reserved as i64;
        Ok(Some((
            u32::try_from(taken).unwrap_or(u32::MAX),
            RewardCheck {
                version: totals.reward_versions.get(&reward).copied(),
            },
        )))
    }

    async fn try_paid(
        &self,
        catalog: &Catalog,
        event_id: &str,
        pledge_id: &str,
        paid: &Payment<'_>,
        paid_at: i64,
        known: &mut Option<PledgeItem>,
    ) -> Result<Step<Applied>, StoreError> {
        let payment_intent = paid.intent;
        const KIND: &str = "checkout.session.completed";
        let (seen, pledge, prefetched) = match self
            .paid_first_read(catalog, event_id, pledge_id, known.take())
            .await?
        {
            Step::Done(read) => read,
            Step::Retry => return Ok(Step::Retry),
        };
        if seen {
            return Ok(Step::Done(Applied::Duplicate));
        }
        if !matches!(pledge.status, PledgeStatus::Pending | PledgeStatus::Expired) {
            let writes = plan::no_effect(event_id, KIND, self.clock.now(), &pledge);
            let settled = Applied::NoEffect {
                reason: "pledge already settled",
            };
            return self.commit_event(writes, settled).await;
        }
        let project = catalog
            .projects
            .get(&pledge.project)
            .ok_or_else(|| StoreError::UnknownProject(pledge.project.clone()))?;
        let pools = catalog.pools_of(project);
        *known = Some(pledge.clone());
        let found = match prefetched {
            Some(found) => found,
            None => match self.get_all(&counter_keys(catalog, &pledge)).await? {
                Step::Done(found) => found,
                Step::Retry => return Ok(Step::Retry),
            },
        };
        let mut spent = BTreeMap::new();
        for ((id, _), item) in pools.iter().zip(&found[2..]) {
            let cents = item.as_ref().map_or(Ok(0), |i| items::num(i, "spent"))?;
            spent.insert(id.to_string(), cents);
        }
        let totals = found[0]
            .as_ref()
            .map_or(Ok(Totals::default()), Totals::from_item)?;
        let reward_recheck = self
            .reward_recheck(project, &pledge, &totals, paid_at)
            .await?;
        let read = PaidRead {
            totals,
            donor: found[1]
                .as_ref()
                .map_or(Ok(Donor::default()), Donor::from_item)?,
            spent,
            pledge,
            reward_recheck,
        };
        let facts = plan::facts(project, &read, paid_at)?;
        if let Err(reason) = crate::payment::decide(project, &facts, paid, paid_at) {
            let writes = plan::refused(
                project,
                &read,
                reason,
                event_id,
                payment_intent,
                paid_at,
                self.clock.now(),
            )?;
            let refused = Applied::Refused {
                project: read.pledge.project.clone(),
                reason,
            };
            return self.commit_event(writes, refused).await;
        }
        let (writes, matches) = plan::paid(
            catalog,
            project,
            &read,
            event_id,
            payment_intent,
            paid_at,
            self.clock.now(),
        )?;
        let changed = Applied::Changed {
            project: read.pledge.project.clone(),
            matches,
        };
        self.commit_event(writes, changed).await
    }

    async fn try_expired(
        &self,
        event_id: &str,
        pledge_id: &str,
    ) -> Result<Step<Applied>, StoreError> {
        const KIND: &str = "checkout.session.expired";
        let (seen, pledge) = match self.event_and_pledge(event_id, pledge_id).await? {
            Step::Done(read) => read,
            Step::Retry => return Ok(Step::Retry),
        };
        if seen {
            return Ok(Step::Done(Applied::Duplicate));
        }
        if pledge.status != PledgeStatus::Pending {
            let writes = plan::no_effect(event_id, KIND, self.clock.now(), &pledge);
            let reason = "pledge not pending";
            return self
                .commit_event(writes, Applied::NoEffect { reason })
                .await;
        }
        let writes = plan::expired(event_id, &pledge, self.clock.now());
        let changed = Applied::Changed {
            project: pledge.project,
            matches: Vec::new(),
        };
        self.commit_event(writes, changed).await
    }

    async fn try_refunded(
        &self,
        event_id: &str,
        pledge_id: &str,
        extent: RefundExtent,
        payment_intent: Option<&str>,
        at: i64,
    ) -> Result<Step<Applied>, StoreError> {
        const KIND: &str = "charge.refunded";
        let (seen, pledge) = match self.event_and_pledge(event_id, pledge_id).await? {
            Step::Done(read) => read,
            Step::Retry => return Ok(Step::Retry),
        };
        if seen {
            return Ok(Step::Done(Applied::Duplicate));
        }
        let partial = extent == RefundExtent::Partial;
        let recorded = Applied::NoEffect {
            reason: "refund already recorded",
        };
        match pledge.status {
            PledgeStatus::Refunding if !partial => {
                let writes = plan::refund_completed(event_id, &pledge, self.clock.now());
                self.commit_event(writes, recorded).await
            }
            PledgeStatus::Refunding | PledgeStatus::Refunded => {
                let writes = plan::no_effect(event_id, KIND, self.clock.now(), &pledge);
                self.commit_event(writes, recorded).await
            }
            PledgeStatus::Pending | PledgeStatus::Expired => {
                let reason = partial.then_some(RefundReason::PartialRefund);
                let writes = plan::refunded_before_paid(
                    event_id,
                    &pledge,
                    reason,
                    payment_intent,
                    at,
                    self.clock.now(),
                );
                let applied = match reason {
                    Some(reason) => Applied::Refused {
                        project: pledge.project.clone(),
                        reason,
                    },
                    None => Applied::Changed {
                        project: pledge.project.clone(),
                        matches: Vec::new(),
                    },
                };
                self.commit_event(writes, applied).await
            }
            PledgeStatus::Paid => {
                let read = match self.refund_read(pledge).await? {
                    Step::Done(read) => read,
                    Step::Retry => return Ok(Step::Retry),
                };
                let project = read.pledge.project.clone();
                if partial {
                    let (writes, _) = plan::partly_refunded(&read, event_id, at, self.clock.now())?;
                    let refused = Applied::Refused {
                        project,
                        reason: RefundReason::PartialRefund,
                    };
                    return self.commit_event(writes, refused).await;
                }
                let (writes, cancelled) = plan::refunded(&read, event_id, at, self.clock.now())?;
                let changed = Applied::Changed {
                    project,
                    matches: cancelled,
                };
                self.commit_event(writes, changed).await
            }
        }
    }

    /// What taking a paid pledge out of the figures reads: the totals, the
    /// donor, and the pledge's match records.
    async fn refund_read(&self, pledge: PledgeItem) -> Result<Step<RefundRead>, StoreError> {
        let keys = [
            Key::totals(&pledge.project),
            Key::donor(&pledge.project, &pledge.donor),
        ];
        let found = match self.get_all(&keys).await? {
            Step::Done(found) => found,
            Step::Retry => return Ok(Step::Retry),
        };
        let matches = self
            .query(&Key::pledge(&pledge.id).pk, items::MATCH_PREFIX, None)
            .await?
            .iter()
            .map(MatchItem::from_item)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Step::Done(RefundRead {
            totals: found[0]
                .as_ref()
                .map_or(Ok(Totals::default()), Totals::from_item)?,
            donor: found[1]
                .as_ref()
                .map_or(Ok(Donor::default()), Donor::from_item)?,
            matches,
            pledge,
        }))
    }

    async fn pledge(&self, pledge_id: &str) -> Result<PledgeItem, StoreError> {
        match self.get(&Key::pledge(pledge_id)).await? {
            Some(item) => PledgeItem::from_item(pledge_id, &item),
            None => Err(StoreError::UnknownPledge(pledge_id.to_string())),
        }
    }

    /// Sends writes whose failed conditions all mean "read again".
    async fn commit(&self, writes: Vec<Write>) -> Result<Step<()>, StoreError> {
        match self.transact(writes).await? {
            Ok(()) => Ok(Step::Done(())),
            Err(Cancelled::FirstCondition | Cancelled::Conflict) => Ok(Step::Retry),
            Err(Cancelled::Fatal(why)) => Err(backend("TransactWriteItems", why)),
        }
    }

    async fn try_start_refund(
        &self,
        pledge_id: &str,
        reason: RefundReason,
        at: i64,
    ) -> Result<Step<Applied>, StoreError> {
        let pledge = self.pledge(pledge_id).await?;
        if pledge.status != PledgeStatus::Paid {
            return Ok(Step::Done(Applied::NoEffect {
                reason: "pledge not paid",
            }));
        }
        let read = match self.refund_read(pledge).await? {
            Step::Done(read) => read,
            Step::Retry => return Ok(Step::Retry),
        };
        let (writes, cancelled) = plan::start_refund(&read, reason, at)?;
        Ok(match self.commit(writes).await? {
            Step::Done(()) => Step::Done(Applied::Changed {
                project: read.pledge.project,
                matches: cancelled,
            }),
            Step::Retry => Step::Retry,
        })
    }

    async fn try_finish_refund(
        &self,
        pledge_id: &str,
        issued: bool,
        text: &str,
    ) -> Result<Step<()>, StoreError> {
        let pledge = self.pledge(pledge_id).await?;
        if !matches!(
            pledge.status,
            PledgeStatus::Refunding | PledgeStatus::Refunded
        ) {
            return Err(StoreError::Backend(format!(
                "pledge {pledge_id} is {}, not being refunded",
                pledge.status.as_str()
            )));
        }
        let writes = plan::finish_refund(&pledge, issued, text);
        if writes.is_empty() {
            return Ok(Step::Done(()));
        }
        self.commit(writes).await
    }

    async fn try_close_funded(
        &self,
        catalog: &Catalog,
        slug: &str,
        at: i64,
    ) -> Result<Step<Vec<Match>>, StoreError> {
        let project = catalog
            .projects
            .get(slug)
            .ok_or_else(|| StoreError::UnknownProject(slug.to_string()))?;
        let pools = catalog.pools_of(project);
        let mut keys = vec![Key::totals(slug)];
        keys.extend(pools.iter().map(|(id, _)| Key::pool(id)));
        let found = match self.get_all(&keys).await? {
            Step::Done(found) => found,
            Step::Retry => return Ok(Step::Retry),
        };
        let totals = found[0]
            .as_ref()
            .map_or(Ok(Totals::default()), Totals::from_item)?;
        if totals.close.as_ref().map(|c| c.state) != Some(CloseState::Closing) {
            return Ok(Step::Done(Vec::new()));
        }
        let mut spent = BTreeMap::new();
        for ((id, _), item) in pools.iter().zip(&found[1..]) {
            let cents = item.as_ref().map_or(Ok(0), |i| items::num(i, "spent"))?;
            spent.insert(id.to_string(), cents);
        }
        let (writes, matches) = plan::close_funded(catalog, project, slug, &totals, &spent, at)?;
        Ok(match self.commit(writes).await? {
            Step::Done(()) => Step::Done(matches),
            Step::Retry => Step::Retry,
        })
    }

    /// One conditional update of a project's close attributes (on its
    /// totals item); `false` when the condition failed.
    async fn close_update(&self, project: &str, expr: Expr) -> Result<Step<bool>, StoreError> {
        let write = Write::Update {
            key: Key::totals(project),
            expr: expr.set("project", items::s(project)),
        };
        match self.transact(vec![write]).await? {
            Ok(()) => Ok(Step::Done(true)),
            Err(Cancelled::FirstCondition) => Ok(Step::Done(false)),
            Err(Cancelled::Conflict) => Ok(Step::Retry),
            Err(Cancelled::Fatal(why)) => Err(backend("TransactWriteItems", why)),
        }
    }

    async fn try_create(
        &self,
        pledge: &NewPledge,
        amount: i64,
        limit: Option<u32>,
    ) -> Result<Step<()>, StoreError> {
        let check = match (pledge.reward, limit) {
            (Some(reward), Some(limit)) => {
                // Taken places: paid pledges with the reward, then live
                // reservations (read second: a reservation turned into a
                // payment in between bumps the version and cancels us).
                let totals = self.totals(&pledge.project).await?;
                let reserved = self
                    .query(
                        items::RESERVATIONS_PARTITION,
                        &items::reservation_prefix(&pledge.project, Some(reward)),
                        Some(pledge.created_at),
                    )
                    .await?
                    .len();
                let taken = totals.reward_paid(reward) + reserved as i64;
                if taken >= i64::from(limit) {
                    return Err(StoreError::RewardSoldOut);
                }
                Some(RewardCheck {
                    version: totals.reward_versions.get(&reward).copied(),
                })
            }
            _ => None,
        };
        // The places of the project's limited rewards this donor or this
        // client holds (read after the donor item: the same donor taking a
        // place in between moves its version and cancels this one).
        let hold = match check {
            Some(_) => {
                let donor = self
                    .get(&Key::donor(&pledge.project, &pledge.donor))
                    .await?
                    .as_ref()
                    .map_or(Ok(Donor::default()), Donor::from_item)?;
                let held = self
                    .query(
                        items::RESERVATIONS_PARTITION,
                        &items::reservation_prefix(&pledge.project, None),
                        Some(pledge.created_at),
                    )
                    .await?
                    .iter()
                    .filter(|r| items::held_by(r, &pledge.donor, pledge.client.as_deref()))
                    .count();
                if held >= super::MAX_PLACES_HELD as usize {
                    return Err(StoreError::TooManyPlacesHeld);
                }
                Some(HoldCheck { donor })
            }
            None => None,
        };
        match self
            .transact(plan::create(pledge, amount, check, hold.as_ref()))
            .await?
        {
            Ok(()) => Ok(Step::Done(())),
            Err(Cancelled::FirstCondition) => Err(StoreError::Backend(format!(
                "a pledge with id {} exists already",
                pledge.id
            ))),
            Err(Cancelled::Conflict) => Ok(Step::Retry),
            Err(Cancelled::Fatal(why)) => Err(backend("TransactWriteItems", why)),
        }
    }
}

/// What `apply_paid` reads besides the event and the pledge: the project's
/// totals, the donor, and each of the project's pools (in the catalog's
/// order). Nothing for a project the catalog does not know.
fn counter_keys(catalog: &Catalog, pledge: &PledgeItem) -> Vec<Key> {
    let mut keys = vec![
        Key::totals(&pledge.project),
        Key::donor(&pledge.project, &pledge.donor),
    ];
    if let Some(project) = catalog.projects.get(&pledge.project) {
        keys.extend(
            catalog
                .pools_of(project)
                .iter()
                .map(|(id, _)| Key::pool(id)),
        );
    }
    keys
}

/// Runs `$try` (an expression giving `Result<Step<T>, StoreError>`) until it
/// is done, backing off between tries.
macro_rules! retrying {
    ($store:expr, $op:literal, $try:expr) => {{
        let mut attempt = 0;
        loop {
            match $try {
                Step::Done(value) => break Ok(value),
                Step::Retry => {
                    $store.back_off($op, attempt).await?;
                    attempt += 1;
                }
            }
        }
    }};
}

impl Store for DynamoStore {
    async fn create_pledge(&self, pledge: NewPledge, limit: Option<u32>) -> Result<(), StoreError> {
        let amount = to_cents(pledge.amount)?;
        retrying!(
            self,
            "create_pledge",
            self.try_create(&pledge, amount, limit).await?
        )
    }

    async fn attach_checkout(&self, pledge_id: &str, session_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::pledge(pledge_id).to_item()))
            .update_expression("SET #session = :session")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#session", "checkout_session")
            .expression_attribute_names("#pk", items::PK)
            .expression_attribute_values(":session", items::s(session_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Err(StoreError::UnknownPledge(pledge_id.to_string()))
            }
            Err(e) => Err(sdk_error("UpdateItem", e)),
        }
    }

    async fn apply_paid(
        &self,
        catalog: &Catalog,
        event_id: &str,
        pledge_id: &str,
        paid: &Payment<'_>,
        paid_at: i64,
    ) -> Result<Applied, StoreError> {
        let mut known = None;
        retrying!(
            self,
            "apply_paid",
            self.try_paid(catalog, event_id, pledge_id, paid, paid_at, &mut known)
                .await?
        )
    }

    async fn apply_expired(&self, event_id: &str, pledge_id: &str) -> Result<Applied, StoreError> {
        retrying!(
            self,
            "apply_expired",
            self.try_expired(event_id, pledge_id).await?
        )
    }

    async fn apply_refunded(
        &self,
        event_id: &str,
        pledge_id: &str,
        extent: RefundExtent,
        payment_intent: Option<&str>,
        at: i64,
    ) -> Result<Applied, StoreError> {
        retrying!(
            self,
            "apply_refunded",
            self.try_refunded(event_id, pledge_id, extent, payment_intent, at)
                .await?
        )
    }

    async fn collected(&self, project: &str) -> Result<Decimal, StoreError> {
        Ok(from_cents(self.totals(project).await?.collected())?)
    }

    async fn figures(&self, project: &str) -> Result<Figures, StoreError> {
        let now = self.clock.now();
        let totals = self.totals(project).await?;
        let live = self.live_reservations(Some(project), now).await?;
        totals.figures(live.get(project))
    }

    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let now = self.clock.now();
        let found = self
            .query(items::TOTALS_PARTITION, "PROJECT#", None)
            .await?;
        let live = self.live_reservations(None, now).await?;
        let mut projects = BTreeMap::new();
        for item in &found {
            let totals = Totals::from_item(item)?;
            let Some(slug) = totals.project.clone() else {
                continue;
            };
            let figures = totals.figures(live.get(&slug))?;
            projects.insert(slug, figures);
        }
        Ok(Snapshot {
            version: SNAPSHOT_VERSION,
            projects,
        })
    }

    async fn add_offer(&self, offer: Offer) -> Result<String, StoreError> {
        let nonce = getrandom::u64().map_err(|e| backend("add_offer", e))?;
        let added: Result<(), StoreError> = retrying!(self, "add_offer", {
            match self.transact(plan::offer(&offer, nonce)).await? {
                Ok(()) => Step::Done(()),
                Err(Cancelled::Conflict) => Step::Retry,
                Err(why) => return Err(backend("add_offer", format!("{why:?}"))),
            }
        });
        added?;
        Ok(format!("{}-{nonce:016x}", offer.created_at))
    }

    async fn contacts(&self) -> Result<Contacts, StoreError> {
        match self.get(&Key::settings("contacts")).await? {
            None => Ok(Contacts::default()),
            Some(item) => serde_json::from_str(&items::string(&item, "json")?)
                .map_err(|e| backend("contacts", e)),
        }
    }

    async fn set_contacts(&self, contacts: &Contacts) -> Result<(), StoreError> {
        let json = serde_json::to_string(contacts).map_err(|e| backend("set_contacts", e))?;
        let write = Write::Put {
            key: Key::settings("contacts"),
            item: [("json".to_string(), items::s(&json))].into(),
            expr: Expr::new(),
        };
        match self.transact(vec![write]).await? {
            Ok(()) => Ok(()),
            Err(why) => Err(backend("set_contacts", format!("{why:?}"))),
        }
    }

    async fn pledge_contact(&self, pledge_id: &str) -> Result<Option<PledgeContact>, StoreError> {
        self.read_contact(pledge_id).await
    }

    async fn erase_donor(&self, email: &str) -> Result<Erased, StoreError> {
        let mut erased = self.erase(email).await?;
        erased.emails = self.erase_mail(&email.trim().to_lowercase()).await?;
        Ok(erased)
    }

    async fn wall(
        &self,
        project: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<WallEntry>, u32), StoreError> {
        let partition = Key::ledger(project, "").pk;
        let mut paid = Vec::new();
        for entry in self.query(&partition, items::LEDGER_PREFIX, None).await? {
            if items::ledger_pledge(&entry)?.status != PledgeStatus::Paid {
                continue;
            }
            let sk = items::string(&entry, items::SK)?;
            paid.push((
                WallEntry {
                    display_name: items::opt_string(&entry, "shown_name")?,
                    message: items::opt_string(&entry, "shown_message")?,
                    paid_at: items::num(&entry, "paid_at")?,
                },
                sk,
            ));
        }
        paid.sort_by(|a, b| (b.0.paid_at, &b.1).cmp(&(a.0.paid_at, &a.1)));
        let total = u32::try_from(paid.len()).unwrap_or(u32::MAX);
        Ok((
            paid.into_iter()
                .skip(offset)
                .take(limit)
                .map(|(e, _)| e)
                .collect(),
            total,
        ))
    }

    async fn news_readers(&self, project: &str) -> Result<Vec<NewsReader>, StoreError> {
        let mut rows = Vec::new();
        for (id, pledge) in self.paid_pledge_items(project).await? {
            if !matches!(pledge.get("news"), Some(AttributeValue::Bool(true))) {
                continue;
            }
            let Some(email) = items::opt_string(&pledge, "email")?.filter(|e| !e.is_empty()) else {
                continue;
            };
            rows.push((
                items::opt_num(&pledge, "paid_at")?.unwrap_or_default(),
                NewsReader {
                    pledge_id: id,
                    email,
                    lang: items::opt_string(&pledge, "lang")?.unwrap_or_else(|| "fr".into()),
                    display_name: items::opt_string(&pledge, "display_name")?,
                },
                items::string(&pledge, "donor")?,
            ));
        }
        rows.sort_by(|a, b| (b.0, &a.1.pledge_id).cmp(&(a.0, &b.1.pledge_id)));
        Ok(super::one_per_donor(
            rows.into_iter().map(|(_, r, donor)| (r, donor)).collect(),
        ))
    }

    async fn stop_news(&self, pledge_id: &str) -> Result<Option<String>, StoreError> {
        let Some(pledge) = self.get(&Key::pledge(pledge_id)).await? else {
            return Ok(None);
        };
        let project = items::string(&pledge, "project")?;
        let donor = items::string(&pledge, "donor")?;
        let mut ids = vec![pledge_id.to_string()];
        for (id, item) in self.paid_pledge_items(&project).await? {
            if items::opt_string(&item, "donor")?.as_deref() == Some(donor.as_str()) {
                ids.push(id);
            }
        }
        ids.sort();
        ids.dedup();
        for id in ids {
            let write = Write::Update {
                key: Key::pledge(&id),
                expr: Expr::new()
                    .set("news", AttributeValue::Bool(false))
                    .equals("donor", items::s(&donor)),
            };
            match self.transact(vec![write]).await? {
                // Erased meanwhile (another donor key): nothing to stop.
                Ok(()) | Err(Cancelled::FirstCondition) => {}
                Err(why) => return Err(backend("stop_news", format!("{why:?}"))),
            }
        }
        Ok(Some(project))
    }

    async fn announced(&self, project: &str, news: &str) -> Result<bool, StoreError> {
        Ok(self.get(&Key::announced(project, news)).await?.is_some())
    }

    async fn mark_announced(&self, project: &str, news: &str, at: i64) -> Result<(), StoreError> {
        let write = Write::Put {
            key: Key::announced(project, news),
            item: [("at".to_string(), items::n(at))].into(),
            expr: Expr::new(),
        };
        match self.transact(vec![write]).await? {
            Ok(()) => Ok(()),
            Err(why) => Err(backend("mark_announced", format!("{why:?}"))),
        }
    }

    async fn mail_secret(&self) -> Result<Vec<u8>, StoreError> {
        let key = Key::settings("mail_secret");
        if self.get(&key).await?.is_none() {
            let write = Write::Put {
                key: key.clone(),
                item: [(
                    "secret".to_string(),
                    items::s(&hex::encode(super::random_secret()?)),
                )]
                .into(),
                expr: Expr::new().item_absent(),
            };
            match self.transact(vec![write]).await? {
                // Another process made it first: theirs is the one.
                Ok(()) | Err(Cancelled::FirstCondition) => {}
                Err(why) => return Err(backend("mail_secret", format!("{why:?}"))),
            }
        }
        let item = self
            .get(&key)
            .await?
            .ok_or_else(|| backend("mail_secret", "the secret vanished"))?;
        hex::decode(items::string(&item, "secret")?).map_err(|e| backend("mail_secret", e))
    }

    async fn enqueue_mail(&self, mail: Outgoing) -> Result<bool, StoreError> {
        let at = self.clock.now();
        retrying!(
            self,
            "enqueue_mail",
            self.try_enqueue_mail(&mail, at).await?
        )
    }

    async fn claim_mail(
        &self,
        now: i64,
        lease: i64,
        limit: usize,
    ) -> Result<Vec<Claimed>, StoreError> {
        self.claim_due_mail(now, lease, limit).await
    }

    async fn settle_mail(
        &self,
        key: &str,
        attempt: u32,
        outcome: Settle,
        now: i64,
    ) -> Result<(), StoreError> {
        self.settle_claimed_mail(key, attempt, outcome, now).await
    }

    async fn close_record(&self, project: &str) -> Result<Option<CloseRecord>, StoreError> {
        Ok(self.totals(project).await?.close)
    }

    async fn begin_close(&self, project: &str, at: i64) -> Result<CloseRecord, StoreError> {
        let expr = Expr::new()
            .set("close_state", items::s(CloseState::Closing.as_str()))
            .set("close_started_at", items::n(at))
            .absent("close_state");
        let started: Result<bool, StoreError> = retrying!(
            self,
            "begin_close",
            self.close_update(project, expr.clone()).await?
        );
        started?;
        self.totals(project)
            .await?
            .close
            .ok_or_else(|| backend("begin_close", "the close record vanished"))
    }

    async fn project_ledger(&self, project: &str) -> Result<ProjectLedger, StoreError> {
        let partition = Key::ledger(project, "").pk;
        let mut pledges = Vec::new();
        for item in self.query(&partition, items::LEDGER_PREFIX, None).await? {
            pledges.push(if items::ledger_entry_is_complete(&item) {
                items::ledger_entry(&item)?
            } else {
                self.legacy_ledger_entry(&item).await?
            });
        }
        pledges.sort_by(|a, b| (a.paid_at, &a.id).cmp(&(b.paid_at, &b.id)));
        let mut close_matches = Vec::new();
        for item in self
            .query(&Key::close_match(project, 0).pk, items::MATCH_PREFIX, None)
            .await?
        {
            let m = MatchItem::from_item(&item)?;
            if m.active {
                close_matches.push(Match {
                    pool_id: m.pool,
                    amount: crate::money::from_cents(m.amount)?,
                });
            }
        }
        let mut offers = Vec::new();
        for item in self.query(&partition, items::OFFER_PREFIX, None).await? {
            offers.push(items::offer(project, &item)?);
        }
        Ok(ProjectLedger {
            pledges,
            close_matches,
            offers,
        })
    }

    async fn ledger_pledges(&self, project: &str) -> Result<Vec<LedgerPledge>, StoreError> {
        let partition = Key::ledger(project, "").pk;
        self.query(&partition, items::LEDGER_PREFIX, None)
            .await?
            .iter()
            .map(items::ledger_pledge)
            .collect()
    }

    async fn pending_refunds(&self) -> Result<Vec<(String, LedgerPledge)>, StoreError> {
        let markers = self.query(items::REFUNDING_PARTITION, "", None).await?;
        let mut pending = Vec::with_capacity(markers.len());
        for marker in &markers {
            let project = items::string(marker, "project")?;
            let pledge = items::string(marker, "pledge")?;
            if let Some(item) = self.get(&Key::ledger(&project, &pledge)).await? {
                let entry = items::ledger_pledge(&item)?;
                if entry.status == PledgeStatus::Refunding {
                    pending.push((project, entry));
                }
            }
        }
        Ok(pending)
    }

    async fn close_funded(
        &self,
        catalog: &Catalog,
        project: &str,
        at: i64,
    ) -> Result<Vec<Match>, StoreError> {
        retrying!(
            self,
            "close_funded",
            self.try_close_funded(catalog, project, at).await?
        )
    }

    async fn close_not_funded(&self, project: &str, _at: i64) -> Result<(), StoreError> {
        let expr = Expr::new()
            .set("close_state", items::s(CloseState::Refunding.as_str()))
            .set("outcome", items::s(Outcome::NotFunded.as_str()))
            .equals("close_state", items::s(CloseState::Closing.as_str()));
        let updated: Result<bool, StoreError> = retrying!(
            self,
            "close_not_funded",
            self.close_update(project, expr.clone()).await?
        );
        updated.map(|_| ())
    }

    async fn complete_close(&self, project: &str, at: i64) -> Result<bool, StoreError> {
        let waiting = self
            .query(items::REFUNDING_PARTITION, &format!("{project}#"), None)
            .await?;
        if waiting.is_empty() {
            let expr = Expr::new()
                .set("close_state", items::s(CloseState::Closed.as_str()))
                .set("closed_at", items::n(at))
                .equals("close_state", items::s(CloseState::Refunding.as_str()));
            let updated: Result<bool, StoreError> = retrying!(
                self,
                "complete_close",
                self.close_update(project, expr.clone()).await?
            );
            updated?;
        }
        Ok(self
            .close_record(project)
            .await?
            .is_some_and(|c| c.state == CloseState::Closed))
    }

    async fn start_refund(
        &self,
        pledge_id: &str,
        reason: RefundReason,
        at: i64,
    ) -> Result<Applied, StoreError> {
        retrying!(
            self,
            "start_refund",
            self.try_start_refund(pledge_id, reason, at).await?
        )
    }

    async fn finish_refund(
        &self,
        pledge_id: &str,
        result: RefundResult<'_>,
        _at: i64,
    ) -> Result<(), StoreError> {
        let (issued, text) = match result {
            RefundResult::Issued(id) => (true, id),
            RefundResult::Failed(code) => (false, code),
        };
        retrying!(
            self,
            "finish_refund",
            self.try_finish_refund(pledge_id, issued, text).await?
        )
    }
}
