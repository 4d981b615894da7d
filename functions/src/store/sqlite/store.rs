//! The `Store` trait on SQLite: each operation one transaction over the
//! reads, payments and close of the sibling modules.

use super::*;
use crate::contacts::Contacts;
use crate::mail::outbox::{Claimed, Outgoing, Settle};
use crate::store::{NewsReader, WallEntry};

impl Store for SqliteStore {
    async fn create_pledge(&self, pledge: NewPledge, limit: Option<u32>) -> Result<(), StoreError> {
        let amount = to_cents(pledge.amount)?;
        self.tx(move |tx| {
            if let (Some(reward), Some(limit)) = (pledge.reward, limit) {
                // Its paid pledges and its open reservations.
                let taken =
                    reward_taken(tx, &pledge.project, reward, &pledge.id, pledge.created_at)?;
                if taken >= limit {
                    return Err(StoreError::RewardSoldOut);
                }
                let held: u32 = one(
                    tx,
                    "SELECT COUNT(*) FROM pledges WHERE project = ?1 AND status = 'pending' \
                     AND holds_place = 1 AND expires_at > ?2 AND (donor = ?3 OR client = ?4)",
                    params![pledge.project, pledge.created_at, pledge.donor, pledge.client],
                    |r| r.get(0),
                )?;
                if held >= crate::store::MAX_PLACES_HELD {
                    return Err(StoreError::TooManyPlacesHeld);
                }
            }
            exec(
                tx,
                "INSERT INTO pledges (id, project, amount_cents, reward, display_name, email, donor, lang, status, created_at, expires_at, share_contact, client, holds_place, news, message) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                params![
                    pledge.id,
                    pledge.project,
                    amount,
                    pledge.reward.map(|r| r as i64),
                    pledge.display_name,
                    pledge.email,
                    pledge.donor,
                    pledge.lang,
                    pledge.created_at,
                    pledge.expires_at,
                    pledge.share_contact,
                    pledge.client,
                    pledge.reward.is_some() && limit.is_some(),
                    pledge.news,
                    pledge.message
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn attach_checkout(&self, pledge_id: &str, session_id: &str) -> Result<(), StoreError> {
        let (pledge_id, session_id) = (pledge_id.to_string(), session_id.to_string());
        self.tx(move |tx| {
            let n = exec(
                tx,
                "UPDATE pledges SET checkout_session = ?2 WHERE id = ?1",
                params![pledge_id, session_id],
            )?;
            if n == 0 {
                return Err(StoreError::UnknownPledge(pledge_id));
            }
            Ok(())
        })
        .await
    }

    async fn apply_paid(
        &self,
        catalog: &Catalog,
        event_id: &str,
        pledge_id: &str,
        paid: &Payment<'_>,
        paid_at: i64,
    ) -> Result<Applied, StoreError> {
        self.tx(|tx| apply_paid_tx(tx, catalog, event_id, pledge_id, paid, paid_at))
            .await
    }

    async fn apply_expired(&self, event_id: &str, pledge_id: &str) -> Result<Applied, StoreError> {
        let (event_id, pledge_id) = (event_id.to_string(), pledge_id.to_string());
        let now = self.clock.now();
        self.tx(move |tx| {
            if !record_event(tx, &event_id, "checkout.session.expired", now)? {
                return Ok(Applied::Duplicate);
            }
            let PledgeRow {
                project, status, ..
            } = pledge_row(tx, &pledge_id)?;
            if status != PledgeStatus::Pending {
                return Ok(Applied::NoEffect {
                    reason: "pledge not pending",
                });
            }
            tx.execute(
                "UPDATE pledges SET status = 'expired' WHERE id = ?1",
                params![pledge_id],
            )
            .map_err(backend)?;
            Ok(Applied::Changed {
                project,
                matches: Vec::new(),
            })
        })
        .await
    }

    async fn apply_refunded(
        &self,
        event_id: &str,
        pledge_id: &str,
        extent: RefundExtent,
        payment_intent: Option<&str>,
        at: i64,
    ) -> Result<Applied, StoreError> {
        let (event_id, pledge_id) = (event_id.to_string(), pledge_id.to_string());
        let intent = payment_intent.map(str::to_string);
        self.tx(move |tx| {
            if !record_event(tx, &event_id, "charge.refunded", at)? {
                return Ok(Applied::Duplicate);
            }
            let PledgeRow {
                project, status, ..
            } = pledge_row(tx, &pledge_id)?;
            let partial = extent == RefundExtent::Partial;
            match status {
                // A refund Pavé started: the ledger changed then; a full
                // refund completes its status, a partial one is its first part.
                PledgeStatus::Refunding if !partial => {
                    exec(
                        tx,
                        "UPDATE pledges SET status = 'refunded' WHERE id = ?1",
                        params![pledge_id],
                    )?;
                    Ok(Applied::NoEffect {
                        reason: "refund already recorded",
                    })
                }
                PledgeStatus::Refunding | PledgeStatus::Refunded => Ok(Applied::NoEffect {
                    reason: "refund already recorded",
                }),
                PledgeStatus::Paid => {
                    let (status, reason) = if partial {
                        (PledgeStatus::Refunding, Some(RefundReason::PartialRefund))
                    } else {
                        (PledgeStatus::Refunded, None)
                    };
                    let cancelled = unpay_tx(tx, &pledge_id, status, reason, at)?;
                    exec(
                        tx,
                        "UPDATE pledges SET payment_intent = COALESCE(payment_intent, ?2) WHERE id = ?1",
                        params![pledge_id, intent],
                    )?;
                    Ok(match reason {
                        Some(reason) => Applied::Refused { project, reason },
                        None => Applied::Changed {
                            project,
                            matches: cancelled,
                        },
                    })
                }
                // Refunded before its completion arrived: never counted,
                // and the completion will find it settled.
                PledgeStatus::Pending | PledgeStatus::Expired => {
                    let (status, reason) = if partial {
                        (PledgeStatus::Refunding, Some(RefundReason::PartialRefund))
                    } else {
                        (PledgeStatus::Refunded, None)
                    };
                    exec(
                        tx,
                        "UPDATE pledges SET status = ?2, paid_at = COALESCE(paid_at, ?3), refunded_at = ?3, \
                         refund_reason = ?4, payment_intent = COALESCE(payment_intent, ?5) WHERE id = ?1",
                        params![
                            pledge_id,
                            status.as_str(),
                            at,
                            reason.map(RefundReason::as_str),
                            intent
                        ],
                    )?;
                    Ok(match reason {
                        Some(reason) => Applied::Refused { project, reason },
                        None => Applied::Changed {
                            project,
                            matches: Vec::new(),
                        },
                    })
                }
            }
        })
        .await
    }

    async fn collected(&self, project: &str) -> Result<Decimal, StoreError> {
        let project = project.to_string();
        self.tx(move |tx| Ok(project_state(tx, &project)?.total))
            .await
    }

    async fn figures(&self, project: &str) -> Result<Figures, StoreError> {
        let project = project.to_string();
        let now = self.clock.now();
        self.tx(move |tx| figures_tx(tx, &project, now)).await
    }

    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let now = self.clock.now();
        self.tx_blocking(move |tx| {
            let slugs: Vec<String> = {
                // Every project with a pledge, an offer or a close has its
                // running totals.
                let mut stmt = tx
                    .prepare_cached("SELECT project FROM project_totals ORDER BY project")
                    .map_err(backend)?;
                let rows = stmt.query_map([], |r| r.get(0)).map_err(backend)?;
                rows.collect::<Result<_, _>>().map_err(backend)?
            };
            snapshot_tx(tx, slugs, now)
        })
        .await
    }

    async fn add_offer(&self, offer: Offer) -> Result<String, StoreError> {
        self.tx(move |tx| {
            tx.execute(
                "INSERT INTO offers (project, need, name, contact, message, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![offer.project, offer.need.map(|n| n as i64), offer.name, offer.contact, offer.message, offer.created_at],
            )
            .map_err(backend)?;
            Ok(format!("o{}", tx.last_insert_rowid()))
        })
        .await
    }

    async fn contacts(&self) -> Result<Contacts, StoreError> {
        let json: Option<String> = self
            .tx(|tx| {
                maybe(
                    tx,
                    "SELECT value FROM settings WHERE name = 'contacts'",
                    [],
                    |r| r.get(0),
                )
            })
            .await?;
        match json {
            None => Ok(Contacts::default()),
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| backend(format!("the stored contacts: {e}"))),
        }
    }

    async fn set_contacts(&self, contacts: &Contacts) -> Result<(), StoreError> {
        let json = serde_json::to_string(contacts).map_err(backend)?;
        self.tx(move |tx| {
            exec(
                tx,
                "INSERT INTO settings (name, value) VALUES ('contacts', ?1) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                params![json],
            )?;
            Ok(())
        })
        .await
    }

    async fn wall(
        &self,
        project: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<WallEntry>, u32), StoreError> {
        let project = project.to_string();
        let (offset, limit) = (
            i64::try_from(offset).unwrap_or(i64::MAX),
            i64::try_from(limit).unwrap_or(i64::MAX),
        );
        self.tx(move |tx| {
            let entries = tx
                .prepare_cached(
                    "SELECT display_name, paid_at, message FROM pledges WHERE project = ?1 AND status = 'paid' \
                     ORDER BY paid_at DESC, id DESC LIMIT ?2 OFFSET ?3",
                )
                .map_err(backend)?
                .query_map(params![project, limit, offset], |r| {
                    Ok(WallEntry {
                        display_name: r.get(0)?,
                        message: r.get(2)?,
                        paid_at: r.get::<_, Option<i64>>(1)?.unwrap_or_default(),
                    })
                })
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            let total: u32 = one(
                tx,
                "SELECT COALESCE((SELECT pledges FROM project_totals WHERE project = ?1), 0)",
                params![project],
                |r| r.get(0),
            )?;
            Ok((entries, total))
        })
        .await
    }

    async fn news_readers(&self, project: &str) -> Result<Vec<NewsReader>, StoreError> {
        let project = project.to_string();
        self.tx(move |tx| {
            let rows = tx
                .prepare_cached(
                    "SELECT id, email, lang, display_name, donor FROM pledges \
                     WHERE project = ?1 AND status = 'paid' AND news = 1 AND email IS NOT NULL \
                     ORDER BY paid_at DESC, id",
                )
                .map_err(backend)?
                .query_map(params![project], |r| {
                    Ok((
                        NewsReader {
                            pledge_id: r.get(0)?,
                            email: r.get(1)?,
                            lang: r.get(2)?,
                            display_name: r.get(3)?,
                        },
                        r.get::<_, String>(4)?,
                    ))
                })
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            Ok(crate::store::one_per_donor(rows))
        })
        .await
    }

    async fn stop_news(&self, pledge_id: &str) -> Result<Option<String>, StoreError> {
        let pledge_id = pledge_id.to_string();
        self.tx(move |tx| {
            let Some((project, donor)) = maybe(
                tx,
                "SELECT project, donor FROM pledges WHERE id = ?1",
                params![pledge_id],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )?
            else {
                return Ok(None);
            };
            exec(
                tx,
                "UPDATE pledges SET news = 0 WHERE project = ?1 AND donor = ?2 AND news = 1",
                params![project, donor],
            )?;
            Ok(Some(project))
        })
        .await
    }

    async fn announced(&self, project: &str, news: &str) -> Result<bool, StoreError> {
        let (project, news) = (project.to_string(), news.to_string());
        self.tx(move |tx| {
            Ok(maybe(
                tx,
                "SELECT 1 FROM announcements WHERE project = ?1 AND news = ?2",
                params![project, news],
                |r| r.get::<_, i64>(0),
            )?
            .is_some())
        })
        .await
    }

    async fn mark_announced(&self, project: &str, news: &str, at: i64) -> Result<(), StoreError> {
        let (project, news) = (project.to_string(), news.to_string());
        self.tx(move |tx| {
            exec(
                tx,
                "INSERT INTO announcements (project, news, at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (project, news) DO NOTHING",
                params![project, news, at],
            )?;
            Ok(())
        })
        .await
    }

    async fn mail_secret(&self) -> Result<Vec<u8>, StoreError> {
        let fresh = hex::encode(crate::store::random_secret()?);
        self.tx(move |tx| {
            exec(
                tx,
                "INSERT INTO settings (name, value) VALUES ('mail_secret', ?1) \
                 ON CONFLICT (name) DO NOTHING",
                params![fresh],
            )?;
            let secret: String = one(
                tx,
                "SELECT value FROM settings WHERE name = 'mail_secret'",
                [],
                |r| r.get(0),
            )?;
            hex::decode(secret).map_err(backend)
        })
        .await
    }

    async fn enqueue_mail(&self, mail: Outgoing) -> Result<bool, StoreError> {
        let at = self.clock.now();
        self.tx(move |tx| outbox::enqueue(tx, &mail, at)).await
    }

    async fn claim_mail(
        &self,
        now: i64,
        lease: i64,
        limit: usize,
    ) -> Result<Vec<Claimed>, StoreError> {
        self.tx(move |tx| outbox::claim(tx, now, lease, limit))
            .await
    }

    async fn settle_mail(
        &self,
        key: &str,
        attempt: u32,
        outcome: Settle,
        now: i64,
    ) -> Result<(), StoreError> {
        let key = key.to_string();
        self.tx(move |tx| outbox::settle(tx, &key, attempt, &outcome, now))
            .await
    }

    async fn pledge_contact(&self, pledge_id: &str) -> Result<Option<PledgeContact>, StoreError> {
        let pledge_id = pledge_id.to_string();
        self.tx(move |tx| {
            maybe(
                tx,
                "SELECT project, amount_cents, reward, display_name, email, lang, status, checkout_session \
                 FROM pledges WHERE id = ?1",
                params![pledge_id],
                |r| {
                    Ok((
                        (
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, Option<i64>>(2)?,
                        ),
                        (
                            r.get::<_, Option<String>>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, String>(5)?,
                        ),
                        (r.get::<_, String>(6)?, r.get::<_, Option<String>>(7)?),
                    ))
                },
            )?
            .map(
                |((project, cents, reward), (display_name, email, lang), (status, session))| {
                    Ok(PledgeContact {
                        project,
                        amount: from_cents(cents)?,
                        reward: reward.and_then(|r| usize::try_from(r).ok()),
                        display_name,
                        email: email.filter(|e| !e.is_empty()),
                        lang,
                        status: PledgeStatus::parse(&status).unwrap_or(PledgeStatus::Pending),
                        checkout_session: session,
                        matches: reads::active_matches(tx, &pledge_id)?,
                    })
                },
            )
            .transpose()
        })
        .await
    }

    async fn erase_donor(&self, email: &str) -> Result<Erased, StoreError> {
        let email = email.trim().to_lowercase();
        if email.is_empty() {
            return Ok(Erased::default());
        }
        let erased = self
            .tx_blocking(move |tx| {
                let mut erased = Erased::default();
                let projects: Vec<String> = {
                    let mut stmt = tx
                        .prepare(
                            "SELECT DISTINCT project FROM pledges WHERE lower(trim(email)) = ?1",
                        )
                        .map_err(backend)?;
                    stmt.query_map(params![email], |r| r.get(0))
                        .map_err(backend)?
                        .collect::<Result<_, _>>()
                        .map_err(backend)?
                };
                for project in projects {
                    // One anonymous key per project: backers and per-donor
                    // matching of the project see the same donor as before.
                    let key = anonymous_donor_key();
                    tx.execute(
                        "UPDATE matches SET donor = ?3 WHERE pledge_id IN                          (SELECT id FROM pledges WHERE project = ?1 AND lower(trim(email)) = ?2)",
                        params![project, email, key],
                    )
                    .map_err(backend)?;
                    let n = tx
                        .execute(
                            "UPDATE pledges SET email = NULL, display_name = NULL, message = NULL, client = NULL, donor = ?3                              WHERE project = ?1 AND lower(trim(email)) = ?2",
                            params![project, email, key],
                        )
                        .map_err(backend)?;
                    erased.pledges += u32::try_from(n).unwrap_or(u32::MAX);
                }
                let offers: Vec<(i64, String)> = {
                    let mut stmt = tx
                        .prepare("SELECT id, contact FROM offers WHERE contact <> ?1")
                        .map_err(backend)?;
                    stmt.query_map(params![ERASED_TEXT], |r| Ok((r.get(0)?, r.get(1)?)))
                        .map_err(backend)?
                        .collect::<Result<_, _>>()
                        .map_err(backend)?
                };
                for (id, contact) in offers {
                    if contact_names_email(&contact, &email) {
                        tx.execute(
                            "UPDATE offers SET name = ?2, contact = ?2, message = ?2 WHERE id = ?1",
                            params![id, ERASED_TEXT],
                        )
                        .map_err(backend)?;
                        erased.offers += 1;
                    }
                }
                erased.emails = outbox::erase(tx, &email)?;
                Ok(erased)
            })
            .await?;
        // The old rows may still be in the write-ahead log: fold it into
        // the database (whose freed space `secure_delete` zeroed) and empty it.
        let conn = self.conn.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || {
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(backend)
        })
        .await
        .map_err(backend)??;
        Ok(erased)
    }

    async fn close_record(&self, project: &str) -> Result<Option<CloseRecord>, StoreError> {
        let project = project.to_string();
        self.tx(move |tx| close_tx(tx, &project)).await
    }

    async fn begin_close(&self, project: &str, at: i64) -> Result<CloseRecord, StoreError> {
        let project = project.to_string();
        self.tx(move |tx| {
            tx.execute(
                "INSERT OR IGNORE INTO closes (project, state, started_at) VALUES (?1, 'closing', ?2)",
                params![project, at],
            )
            .map_err(backend)?;
            close_tx(tx, &project)?.ok_or_else(|| backend("close record vanished"))
        })
        .await
    }

    async fn project_ledger(&self, project: &str) -> Result<ProjectLedger, StoreError> {
        let project = project.to_string();
        self.tx_blocking(move |tx| project_ledger_tx(tx, &project))
            .await
    }

    async fn ledger_pledges(&self, project: &str) -> Result<Vec<LedgerPledge>, StoreError> {
        let project = project.to_string();
        self.tx_blocking(move |tx| {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT {LEDGER_COLUMNS} FROM pledges WHERE project = ?1 \
                     AND status IN ('paid', 'refunding', 'refunded') ORDER BY id"
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![project], |r| ledger_row(r, 0))
                .map_err(backend)?;
            rows.map(|r| ledger_pledge(r.map_err(backend)?)).collect()
        })
        .await
    }

    async fn pending_refunds(&self) -> Result<Vec<(String, LedgerPledge)>, StoreError> {
        self.tx_blocking(move |tx| {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT project, {LEDGER_COLUMNS} FROM pledges WHERE status = 'refunding' ORDER BY project, id"
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, ledger_row(r, 1)?)))
                .map_err(backend)?;
            rows.map(|r| {
                let (project, row) = r.map_err(backend)?;
                Ok((project, ledger_pledge(row)?))
            })
            .collect()
        })
        .await
    }

    async fn close_funded(
        &self,
        catalog: &Catalog,
        project: &str,
        at: i64,
    ) -> Result<Vec<Match>, StoreError> {
        let catalog = catalog.clone();
        let slug = project.to_string();
        self.tx(move |tx| {
            match close_tx(tx, &slug)? {
                Some(c) if c.state == CloseState::Closing => {}
                _ => return Ok(Vec::new()),
            }
            let project = catalog
                .projects
                .get(&slug)
                .ok_or_else(|| StoreError::UnknownProject(slug.clone()))?;
            let state = project_state(tx, &slug)?;
            let views = catalog
                .pools_of(project)
                .into_iter()
                .map(|(id, rules)| {
                    // The close reads each pool's spending and its matches
                    // for the project, nothing per donor.
                    Ok(PoolView {
                        lump_sum_paid: false,
                        ..pool_view(tx, id, rules, &slug, None)?
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let matches = matching::settle_campaign(project, &views, &state);
            for m in &matches {
                tx.execute(
                    "INSERT INTO matches (pledge_id, project, pool, donor, mode, amount_cents, created_at) VALUES (NULL, ?1, ?2, '', 'on_success', ?3, ?4)",
                    params![slug, m.pool_id, to_cents(m.amount)?, at],
                )
                .map_err(backend)?;
            }
            tx.execute(
                "UPDATE closes SET state = 'closed', outcome = 'funded', closed_at = ?2 WHERE project = ?1",
                params![slug, at],
            )
            .map_err(backend)?;
            Ok(matches)
        })
        .await
    }

    async fn close_not_funded(&self, project: &str, _at: i64) -> Result<(), StoreError> {
        let project = project.to_string();
        self.tx(move |tx| {
            tx.execute(
                "UPDATE closes SET state = 'refunding', outcome = 'not_funded' WHERE project = ?1 AND state = 'closing'",
                params![project],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn complete_close(&self, project: &str, at: i64) -> Result<bool, StoreError> {
        let project = project.to_string();
        self.tx(move |tx| {
            let waiting: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM pledges WHERE project = ?1 AND status = 'refunding')",
                    params![project],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if !waiting {
                tx.execute(
                    "UPDATE closes SET state = 'closed', closed_at = ?2 WHERE project = ?1 AND state = 'refunding'",
                    params![project, at],
                )
                .map_err(backend)?;
            }
            Ok(close_tx(tx, &project)?.is_some_and(|c| c.state == CloseState::Closed))
        })
        .await
    }

    async fn start_refund(
        &self,
        pledge_id: &str,
        reason: RefundReason,
        at: i64,
    ) -> Result<Applied, StoreError> {
        let pledge_id = pledge_id.to_string();
        self.tx(move |tx| {
            let PledgeRow {
                project, status, ..
            } = pledge_row(tx, &pledge_id)?;
            if status != PledgeStatus::Paid {
                return Ok(Applied::NoEffect {
                    reason: "pledge not paid",
                });
            }
            let matches = unpay_tx(tx, &pledge_id, PledgeStatus::Refunding, Some(reason), at)?;
            Ok(Applied::Changed { project, matches })
        })
        .await
    }

    async fn finish_refund(
        &self,
        pledge_id: &str,
        result: RefundResult<'_>,
        _at: i64,
    ) -> Result<(), StoreError> {
        let pledge_id = pledge_id.to_string();
        let (issued, text) = match result {
            RefundResult::Issued(id) => (true, id.to_string()),
            RefundResult::Failed(code) => (false, code.to_string()),
        };
        self.tx(move |tx| {
            let status = pledge_row(tx, &pledge_id)?.status;
            let refund_id = (!text.is_empty()).then_some(text.as_str());
            match (status, issued) {
                (PledgeStatus::Refunding, true) => tx.execute(
                    "UPDATE pledges SET status = 'refunded', refund_id = ?2, refund_error = NULL, \
                     refund_attempts = refund_attempts + 1 WHERE id = ?1",
                    params![pledge_id, refund_id],
                ),
                (PledgeStatus::Refunding, false) => tx.execute(
                    "UPDATE pledges SET refund_error = ?2, refund_attempts = refund_attempts + 1 WHERE id = ?1",
                    params![pledge_id, text],
                ),
                // The webhook completed it first: keep the refund's id.
                (PledgeStatus::Refunded, true) => tx.execute(
                    "UPDATE pledges SET refund_id = COALESCE(refund_id, ?2), refund_error = NULL, \
                     refund_attempts = refund_attempts + 1 WHERE id = ?1",
                    params![pledge_id, refund_id],
                ),
                (PledgeStatus::Refunded, false) => Ok(0),
                (status, _) => {
                    return Err(backend(format!(
                        "pledge {pledge_id} is {}, not being refunded",
                        status.as_str()
                    )));
                }
            }
            .map_err(backend)?;
            Ok(())
        })
        .await
    }
}
