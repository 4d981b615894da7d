//! A donor's erasure on DynamoDB (`Store::erase_donor`) and the contact the
//! donor's emails need (`Store::pledge_contact`).
//!
//! There is no index on emails (none is kept for them on purpose): erasure
//! is a rare, operator-run request, so it scans the table for pledges and
//! offers, then rewrites each project's share in one transaction: the
//! pledges (name and email removed, donor key replaced by an anonymous one),
//! their match records (same key), and the donor item moved to the new key
//! with its counters unchanged. Each write is conditioned on what was read,
//! so a concurrent payment makes it start again from a fresh scan.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use super::items::{self, Item, Key, PK, SK};
use super::{DynamoStore, backend, sdk_error};
use crate::money::from_cents;
use crate::store::PledgeStatus;
use crate::store::{
    ERASED_TEXT, Erased, PledgeContact, StoreError, anonymous_donor_key, contact_names_email,
};

/// A transaction holds at most 100 writes; a project's share of one donor
/// beyond that is written in several (each still conditioned).
const MAX_WRITES: usize = 100;
/// Fresh scans after a concurrent change, at most.
const MAX_ROUNDS: u32 = 10;

struct Found {
    /// Per project: the donor key and the ids of the donor's pledges.
    pledges: BTreeMap<(String, String), Vec<(String, String)>>,
    /// Offers naming the email: their keys and the contact read.
    offers: Vec<(Key, String)>,
}

impl DynamoStore {
    pub(super) async fn read_contact(
        &self,
        pledge_id: &str,
    ) -> Result<Option<PledgeContact>, StoreError> {
        // The pledge and its matches read together: a page never shows a
        // paid pledge with matches already released, or the reverse.
        let Some((item, matches)) = self.pledge_with_matches(pledge_id).await? else {
            return Ok(None);
        };
        let reward = items::opt_num(&item, "reward")?.and_then(|r| usize::try_from(r).ok());
        Ok(Some(PledgeContact {
            project: items::string(&item, "project")?,
            amount: from_cents(items::num(&item, "amount")?)?,
            reward,
            display_name: items::opt_string(&item, "display_name")?,
            email: items::opt_string(&item, "email")?.filter(|e| !e.is_empty()),
            lang: items::opt_string(&item, "lang")?.unwrap_or_else(|| "fr".into()),
            status: PledgeStatus::parse(&items::string(&item, "status")?)
                .unwrap_or(PledgeStatus::Pending),
            checkout_session: items::opt_string(&item, "checkout_session")?,
            matches,
        }))
    }

    /// Every pledge made with `email` and every offer naming it (a scan).
    async fn find_donor(&self, email: &str) -> Result<Found, StoreError> {
        let mut found = Found {
            pledges: BTreeMap::new(),
            offers: Vec::new(),
        };
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .filter_expression(
                    "(begins_with(#pk, :pledge) AND attribute_exists(#email)) OR begins_with(#sk, :offer)",
                )
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_names("#email", "email")
                .expression_attribute_values(":pledge", items::s("PLEDGE#"))
                .expression_attribute_values(":offer", items::s(items::OFFER_PREFIX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Scan", e))?;
            for item in out.items.unwrap_or_default() {
                let key = Key {
                    pk: items::string(&item, PK)?,
                    sk: items::string(&item, SK)?,
                };
                if key.sk == "PLEDGE" {
                    let address = items::string(&item, "email")?;
                    if address.trim().to_lowercase() == email {
                        let id = key.pk.trim_start_matches("PLEDGE#").to_string();
                        let project = items::string(&item, "project")?;
                        let donor = items::string(&item, "donor")?;
                        found
                            .pledges
                            .entry((project, donor))
                            .or_default()
                            .push((id, address));
                    }
                } else if let Some(contact) = items::opt_string(&item, "contact")?
                    && contact != ERASED_TEXT
                    && contact_names_email(&contact, email)
                {
                    found.offers.push((key, contact));
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(found),
            }
        }
    }

    pub(super) async fn erase(&self, email: &str) -> Result<Erased, StoreError> {
        let email = email.trim().to_lowercase();
        let mut erased = Erased::default();
        if email.is_empty() {
            return Ok(erased);
        }
        for _ in 0..MAX_ROUNDS {
            let found = self.find_donor(&email).await?;
            if found.pledges.is_empty() && found.offers.is_empty() {
                return Ok(erased);
            }
            let mut conflict = false;
            for ((project, donor), pledges) in &found.pledges {
                let writes = self.erase_share(project, donor, pledges).await?;
                match self.write_all(writes).await? {
                    true => erased.pledges += u32::try_from(pledges.len()).unwrap_or(u32::MAX),
                    false => conflict = true,
                }
            }
            for (key, contact) in &found.offers {
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key.to_item()))
                    .update_expression(
                        "SET #name = :erased, #contact = :erased, #message = :erased",
                    )
                    .condition_expression("#contact = :read")
                    .expression_attribute_names("#name", "name")
                    .expression_attribute_names("#contact", "contact")
                    .expression_attribute_names("#message", "message")
                    .expression_attribute_values(":erased", items::s(ERASED_TEXT))
                    .expression_attribute_values(":read", items::s(contact))
                    .build()
                    .map_err(|e| backend("erase_donor", e))?;
                match self
                    .write_all(vec![TransactWriteItem::builder().update(update).build()])
                    .await?
                {
                    true => erased.offers += 1,
                    false => conflict = true,
                }
            }
            if !conflict {
                return Ok(erased);
            }
        }
        Err(backend(
            "erase_donor",
            "the donor's items kept changing; run the erasure again",
        ))
    }

    /// The writes erasing one donor's pledges to one project.
    async fn erase_share(
        &self,
        project: &str,
        donor: &str,
        pledges: &[(String, String)],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let key = anonymous_donor_key();
        let mut writes = Vec::new();
        for (id, address) in pledges {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(Key::pledge(id).to_item()))
                .update_expression("REMOVE #email, #name, #client, #message SET #donor = :key")
                .condition_expression("#email = :read AND #donor = :donor")
                .expression_attribute_names("#client", "client")
                .expression_attribute_names("#message", "message")
                .expression_attribute_names("#email", "email")
                .expression_attribute_names("#name", "display_name")
                .expression_attribute_names("#donor", "donor")
                .expression_attribute_values(":key", items::s(&key))
                .expression_attribute_values(":read", items::s(address))
                .expression_attribute_values(":donor", items::s(donor))
                .build()
                .map_err(|e| backend("erase_donor", e))?;
            writes.push(TransactWriteItem::builder().update(update).build());
            // The project's ledger entry of a paid pledge (statements) keeps
            // a copy of the donor key, and of the contact when the donor
            // agreed to share it: both go the same way.
            let ledger = Key::ledger(project, id);
            if self.get(&ledger).await?.is_some() {
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(ledger.to_item()))
                    .update_expression("REMOVE #email, #name, #shown, #said SET #donor = :key")
                    .condition_expression("attribute_exists(#pk)")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#email", "email")
                    .expression_attribute_names("#name", "display_name")
                    .expression_attribute_names("#shown", "shown_name")
                    .expression_attribute_names("#said", "shown_message")
                    .expression_attribute_names("#donor", "donor")
                    .expression_attribute_values(":key", items::s(&key))
                    .build()
                    .map_err(|e| backend("erase_donor", e))?;
                writes.push(TransactWriteItem::builder().update(update).build());
            }
            for m in self
                .query(&format!("PLEDGE#{id}"), items::MATCH_PREFIX, None)
                .await?
            {
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(
                        Key {
                            pk: items::string(&m, PK)?,
                            sk: items::string(&m, SK)?,
                        }
                        .to_item(),
                    ))
                    .update_expression("SET #donor = :key")
                    .expression_attribute_names("#donor", "donor")
                    .expression_attribute_values(":key", items::s(&key))
                    .build()
                    .map_err(|e| backend("erase_donor", e))?;
                writes.push(TransactWriteItem::builder().update(update).build());
            }
        }
        // The donor item (per-donor counters): moved to the new key, as read.
        let old = Key::donor(project, donor);
        if let Some(item) = self.get(&old).await? {
            let mut moved: Item = item.clone();
            let new = Key::donor(project, &key);
            moved.insert(PK.into(), items::s(&new.pk));
            moved.insert(SK.into(), items::s(&new.sk));
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(moved))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .build()
                .map_err(|e| backend("erase_donor", e))?;
            let mut delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(old.to_item()))
                .expression_attribute_names("#v", "v");
            delete = match item.get("v") {
                Some(v) => delete
                    .condition_expression("#v = :v")
                    .expression_attribute_values(":v", v.clone()),
                None => delete.condition_expression("attribute_not_exists(#v)"),
            };
            let delete = delete.build().map_err(|e| backend("erase_donor", e))?;
            writes.push(TransactWriteItem::builder().put(put).build());
            writes.push(TransactWriteItem::builder().delete(delete).build());
        }
        Ok(writes)
    }

    /// Writes in transactions of at most [`MAX_WRITES`]; `false` when one was
    /// cancelled by a concurrent change (scan again).
    async fn write_all(&self, writes: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
        for chunk in writes.chunks(MAX_WRITES) {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(chunk.to_vec()))
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(SdkError::ServiceError(e))
                    if matches!(
                        e.err(),
                        TransactWriteItemsError::TransactionCanceledException(_)
                    ) =>
                {
                    return Ok(false);
                }
                Err(e) => return Err(sdk_error("TransactWriteItems", e)),
            }
        }
        Ok(true)
    }
}
