//! The schema and its migrations (the version in `PRAGMA user_version`), and
//! the audit of the running totals the migrations and triggers keep.

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pledges (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    reward INTEGER,
    display_name TEXT,
    email TEXT,
    donor TEXT NOT NULL,
    lang TEXT NOT NULL,
    status TEXT NOT NULL,
    checkout_session TEXT,
    payment_intent TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    paid_at INTEGER,
    refunded_at INTEGER
);
CREATE INDEX IF NOT EXISTS pledges_by_project ON pledges (project, status);
CREATE TABLE IF NOT EXISTS matches (
    id INTEGER PRIMARY KEY,
    pledge_id TEXT NOT NULL REFERENCES pledges (id),
    project TEXT NOT NULL,
    pool TEXT NOT NULL,
    donor TEXT NOT NULL,
    mode TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS matches_by_pool ON matches (pool, active);
CREATE INDEX IF NOT EXISTS matches_by_project ON matches (project, active);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    applied_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS offers (
    id INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    need INTEGER,
    name TEXT NOT NULL,
    contact TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
";

/// Schema version 1 (campaign close): refund records on pledges, match
/// records without a pledge (on_success matches belong to the close), and
/// the close of each project. Applied once, to new and old databases alike.
pub(super) const MIGRATION_1: &str = "
ALTER TABLE pledges ADD COLUMN refund_reason TEXT;
ALTER TABLE pledges ADD COLUMN refund_id TEXT;
ALTER TABLE pledges ADD COLUMN refund_error TEXT;
ALTER TABLE pledges ADD COLUMN refund_attempts INTEGER NOT NULL DEFAULT 0;
CREATE TABLE matches_v1 (
    id INTEGER PRIMARY KEY,
    pledge_id TEXT REFERENCES pledges (id),
    project TEXT NOT NULL,
    pool TEXT NOT NULL,
    donor TEXT NOT NULL,
    mode TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);
INSERT INTO matches_v1 (id, pledge_id, project, pool, donor, mode, amount_cents, active, created_at)
    SELECT id, pledge_id, project, pool, donor, mode, amount_cents, active, created_at FROM matches;
DROP TABLE matches;
ALTER TABLE matches_v1 RENAME TO matches;
CREATE INDEX matches_by_pool ON matches (pool, active);
CREATE INDEX matches_by_project ON matches (project, active);
CREATE INDEX matches_by_pledge ON matches (pledge_id);
CREATE TABLE closes (
    project TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    outcome TEXT,
    started_at INTEGER NOT NULL,
    closed_at INTEGER
);
CREATE INDEX pledges_refunding ON pledges (status) WHERE status = 'refunding';
PRAGMA user_version = 1;
";

/// Schema version 2 (statements): the donor's consent to share their name
/// and email with the project holder. Existing pledges did not ask: false.
pub(super) const MIGRATION_2: &str = "
ALTER TABLE pledges ADD COLUMN share_contact INTEGER NOT NULL DEFAULT 0;
PRAGMA user_version = 2;
";

/// Schema version 4 (places held): the client that asked for a pledge (a
/// keyed hash, see `NewPledge::client`), and whether it holds a place of a
/// limited reward, for the cap on places one donor or client holds.
pub(super) const MIGRATION_4: &str = "
ALTER TABLE pledges ADD COLUMN client TEXT;
ALTER TABLE pledges ADD COLUMN holds_place INTEGER NOT NULL DEFAULT 0;
CREATE INDEX pledges_holding ON pledges (project, expires_at) WHERE status = 'pending' AND holds_place = 1;
PRAGMA user_version = 4;
";

/// Schema version 5 (the outbox, `crate::mail::outbox`): one row per
/// email key; `state` is `pending`, `sent`, `failed` (given up) or
/// `erased`; only a pending or failed row keeps its address and text.
/// And `settings`, a value by name (the private `contacts`, the
/// `mail_secret` of the unsubscribe links); each pledge's consent to the
/// project's `news` and its public `message`; the news items already
/// `announcements`.
pub(super) const MIGRATION_5: &str = "
CREATE TABLE outbox (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    to_addr TEXT,
    subject TEXT,
    body TEXT,
    unsubscribe TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    settled_at INTEGER,
    error TEXT
);
CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'pending';
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
ALTER TABLE pledges ADD COLUMN news INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pledges ADD COLUMN message TEXT;
CREATE TABLE announcements (
    project TEXT NOT NULL,
    news TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (project, news)
);
PRAGMA user_version = 5;
";

/// Schema version 3 (running totals): per project, per donor of a project,
/// per reward, per pool of a project and per pool, the sums and counts that
/// the figures and the matching read. Triggers on `pledges`, `matches`,
/// `offers` and `closes` keep them in the statement that changes the
/// ledger, so in its transaction whatever writes it; a payment reads a few
/// rows instead of summing the project's whole ledger. They are derived
/// data: the ledger stays the truth ([`SqliteStore::audit_totals`] compares
/// them with sums over it). Backfilled from the ledger here.
///
/// - `project_totals`: one row per project with a pledge (any status), an
///   offer or a close (the snapshot's projects): paid pledges' sum and
///   count, backers (donors with a paid pledge), pledges refunding or
///   refunded, offers.
/// - `project_donors`: paid pledges per donor of a project; a donor is a
///   backer while it is > 0. The row goes at 0, so an erased donor's old
///   key does not linger.
/// - `project_rewards`: paid pledges per reward (pending reservations,
///   which expire with time, are counted from `pledges_reserving`).
/// - `project_pools`: a pool's active matches for a project (sum, lump sums).
/// - `pool_totals`: a pool's active matches, every project (its spending).
pub(super) fn migration_3() -> String {
    // What a paid pledge `r` adds to the totals, and takes away.
    let paid_in = |r: &str| {
        format!(
            "INSERT OR IGNORE INTO project_totals (project) VALUES ({r}.project);
    INSERT INTO project_donors (project, donor, paid) VALUES ({r}.project, {r}.donor, 1)
        ON CONFLICT (project, donor) DO UPDATE SET paid = paid + 1;
    UPDATE project_totals SET raised_cents = raised_cents + {r}.amount_cents, pledges = pledges + 1,
        backers = backers + (SELECT paid = 1 FROM project_donors WHERE project = {r}.project AND donor = {r}.donor)
        WHERE project = {r}.project;
    INSERT INTO project_rewards (project, reward, paid) SELECT {r}.project, {r}.reward, 1 WHERE {r}.reward IS NOT NULL
        ON CONFLICT (project, reward) DO UPDATE SET paid = paid + 1;"
        )
    };
    let paid_out = |r: &str| {
        format!(
            "UPDATE project_donors SET paid = paid - 1 WHERE project = {r}.project AND donor = {r}.donor;
    UPDATE project_totals SET raised_cents = raised_cents - {r}.amount_cents, pledges = pledges - 1,
        backers = backers - (SELECT paid = 0 FROM project_donors WHERE project = {r}.project AND donor = {r}.donor)
        WHERE project = {r}.project;
    DELETE FROM project_donors WHERE project = {r}.project AND donor = {r}.donor AND paid = 0;
    UPDATE project_rewards SET paid = paid - 1 WHERE project = {r}.project AND reward = {r}.reward;"
        )
    };
    let refund_in = |r: &str| {
        format!(
            "INSERT INTO project_totals (project, refunds) VALUES ({r}.project, 1)
        ON CONFLICT (project) DO UPDATE SET refunds = refunds + 1;"
        )
    };
    let refund_out = |r: &str| {
        format!("UPDATE project_totals SET refunds = refunds - 1 WHERE project = {r}.project;")
    };
    let match_in = |r: &str| {
        format!(
            "INSERT INTO pool_totals (pool, spent_cents) VALUES ({r}.pool, {r}.amount_cents)
        ON CONFLICT (pool) DO UPDATE SET spent_cents = spent_cents + excluded.spent_cents;
    INSERT INTO project_pools (project, pool, matched_cents, lump_sums)
        VALUES ({r}.project, {r}.pool, {r}.amount_cents, {r}.mode = 'lump_sum')
        ON CONFLICT (project, pool) DO UPDATE SET matched_cents = matched_cents + excluded.matched_cents,
            lump_sums = lump_sums + excluded.lump_sums;"
        )
    };
    let match_out = |r: &str| {
        format!(
            "UPDATE pool_totals SET spent_cents = spent_cents - {r}.amount_cents WHERE pool = {r}.pool;
    UPDATE project_pools SET matched_cents = matched_cents - {r}.amount_cents,
        lump_sums = lump_sums - ({r}.mode = 'lump_sum') WHERE project = {r}.project AND pool = {r}.pool;"
        )
    };
    let (paid, refund) = ("status = 'paid'", "status IN ('refunding', 'refunded')");
    let pledge_cols = "status, project, donor, reward, amount_cents";
    let match_cols = "active, amount_cents, pool, project, mode";
    format!(
        "
CREATE TABLE project_totals (
    project TEXT PRIMARY KEY,
    raised_cents INTEGER NOT NULL DEFAULT 0,
    pledges INTEGER NOT NULL DEFAULT 0,
    backers INTEGER NOT NULL DEFAULT 0,
    refunds INTEGER NOT NULL DEFAULT 0,
    offers INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE project_donors (
    project TEXT NOT NULL,
    donor TEXT NOT NULL,
    paid INTEGER NOT NULL,
    PRIMARY KEY (project, donor)
) WITHOUT ROWID;
CREATE TABLE project_rewards (
    project TEXT NOT NULL,
    reward INTEGER NOT NULL,
    paid INTEGER NOT NULL,
    PRIMARY KEY (project, reward)
) WITHOUT ROWID;
CREATE TABLE project_pools (
    project TEXT NOT NULL,
    pool TEXT NOT NULL,
    matched_cents INTEGER NOT NULL,
    lump_sums INTEGER NOT NULL,
    PRIMARY KEY (project, pool)
) WITHOUT ROWID;
CREATE TABLE pool_totals (
    pool TEXT PRIMARY KEY,
    spent_cents INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO project_totals (project)
    SELECT project FROM pledges UNION SELECT project FROM offers UNION SELECT project FROM closes;
UPDATE project_totals SET
    raised_cents = (SELECT COALESCE(SUM(amount_cents), 0) FROM pledges
                    WHERE project = project_totals.project AND {paid}),
    pledges = (SELECT COUNT(*) FROM pledges WHERE project = project_totals.project AND {paid}),
    backers = (SELECT COUNT(DISTINCT donor) FROM pledges WHERE project = project_totals.project AND {paid}),
    refunds = (SELECT COUNT(*) FROM pledges WHERE project = project_totals.project AND {refund}),
    offers = (SELECT COUNT(*) FROM offers WHERE project = project_totals.project);
INSERT INTO project_donors (project, donor, paid)
    SELECT project, donor, COUNT(*) FROM pledges WHERE {paid} GROUP BY project, donor;
INSERT INTO project_rewards (project, reward, paid)
    SELECT project, reward, COUNT(*) FROM pledges WHERE {paid} AND reward IS NOT NULL
    GROUP BY project, reward;
INSERT INTO project_pools (project, pool, matched_cents, lump_sums)
    SELECT project, pool, SUM(amount_cents), SUM(mode = 'lump_sum') FROM matches
    WHERE active = 1 GROUP BY project, pool;
INSERT INTO pool_totals (pool, spent_cents)
    SELECT pool, SUM(amount_cents) FROM matches WHERE active = 1 GROUP BY pool;

CREATE TRIGGER pledges_new AFTER INSERT ON pledges BEGIN
    INSERT OR IGNORE INTO project_totals (project) VALUES (NEW.project);
END;
CREATE TRIGGER pledges_paid_new AFTER INSERT ON pledges WHEN NEW.{paid} BEGIN
    {paid_in_new}
END;
CREATE TRIGGER pledges_refund_new AFTER INSERT ON pledges WHEN NEW.{refund} BEGIN
    {refund_in_new}
END;
CREATE TRIGGER pledges_paid_out AFTER UPDATE OF {pledge_cols} ON pledges WHEN OLD.{paid} BEGIN
    {paid_out_old}
END;
CREATE TRIGGER pledges_paid_in AFTER UPDATE OF {pledge_cols} ON pledges WHEN NEW.{paid} BEGIN
    {paid_in_new}
END;
CREATE TRIGGER pledges_refund_out AFTER UPDATE OF status, project ON pledges WHEN OLD.{refund} BEGIN
    {refund_out_old}
END;
CREATE TRIGGER pledges_refund_in AFTER UPDATE OF status, project ON pledges WHEN NEW.{refund} BEGIN
    {refund_in_new}
END;
CREATE TRIGGER pledges_paid_gone AFTER DELETE ON pledges WHEN OLD.{paid} BEGIN
    {paid_out_old}
END;
CREATE TRIGGER pledges_refund_gone AFTER DELETE ON pledges WHEN OLD.{refund} BEGIN
    {refund_out_old}
END;

CREATE TRIGGER matches_new AFTER INSERT ON matches WHEN NEW.active = 1 BEGIN
    {match_in_new}
END;
CREATE TRIGGER matches_out AFTER UPDATE OF {match_cols} ON matches WHEN OLD.active = 1 BEGIN
    {match_out_old}
END;
CREATE TRIGGER matches_in AFTER UPDATE OF {match_cols} ON matches WHEN NEW.active = 1 BEGIN
    {match_in_new}
END;
CREATE TRIGGER matches_gone AFTER DELETE ON matches WHEN OLD.active = 1 BEGIN
    {match_out_old}
END;

CREATE TRIGGER offers_new AFTER INSERT ON offers BEGIN
    INSERT INTO project_totals (project, offers) VALUES (NEW.project, 1)
        ON CONFLICT (project) DO UPDATE SET offers = offers + 1;
END;
CREATE TRIGGER offers_moved AFTER UPDATE OF project ON offers BEGIN
    UPDATE project_totals SET offers = offers - 1 WHERE project = OLD.project;
    INSERT INTO project_totals (project, offers) VALUES (NEW.project, 1)
        ON CONFLICT (project) DO UPDATE SET offers = offers + 1;
END;
CREATE TRIGGER offers_gone AFTER DELETE ON offers BEGIN
    UPDATE project_totals SET offers = offers - 1 WHERE project = OLD.project;
END;
CREATE TRIGGER closes_new AFTER INSERT ON closes BEGIN
    INSERT OR IGNORE INTO project_totals (project) VALUES (NEW.project);
END;

-- The latest payment or refund of a project (`updated_at`, a MAX read at
-- the end of this index), the reward reservations still open, and a
-- donor's matches (`max_per_donor`).
CREATE INDEX pledges_touched ON pledges (project, COALESCE(refunded_at, paid_at))
    WHERE {paid} OR ({refund} AND refunded_at IS NOT NULL);
CREATE INDEX pledges_reserving ON pledges (project, reward, expires_at)
    WHERE status = 'pending' AND reward IS NOT NULL;
CREATE INDEX matches_by_donor ON matches (project, donor, pool) WHERE active = 1;
-- A pool's spending is `pool_totals` now.
DROP INDEX matches_by_pool;
PRAGMA user_version = 3;
",
        paid_in_new = paid_in("NEW"),
        paid_out_old = paid_out("OLD"),
        refund_in_new = refund_in("NEW"),
        refund_out_old = refund_out("OLD"),
        match_in_new = match_in("NEW"),
        match_out_old = match_out("OLD"),
    )
}

/// Each running total: the rows a sum over the ledger gives, and the rows
/// kept (zero rows left by refunds aside), compared by `audit_totals`.
pub(super) const TOTALS_AUDIT: [(&str, &str, &str); 5] = [
    (
        "project_totals",
        "SELECT p.project,
            (SELECT COALESCE(SUM(amount_cents), 0) FROM pledges WHERE project = p.project AND status = 'paid'),
            (SELECT COUNT(*) FROM pledges WHERE project = p.project AND status = 'paid'),
            (SELECT COUNT(DISTINCT donor) FROM pledges WHERE project = p.project AND status = 'paid'),
            (SELECT COUNT(*) FROM pledges WHERE project = p.project AND status IN ('refunding', 'refunded')),
            (SELECT COUNT(*) FROM offers WHERE project = p.project)
         FROM (SELECT project FROM pledges UNION SELECT project FROM offers UNION SELECT project FROM closes) p",
        "SELECT project, raised_cents, pledges, backers, refunds, offers FROM project_totals",
    ),
    (
        "project_donors",
        "SELECT project, donor, COUNT(*) FROM pledges WHERE status = 'paid' GROUP BY project, donor",
        "SELECT project, donor, paid FROM project_donors",
    ),
    (
        "project_rewards",
        "SELECT project, reward, COUNT(*) FROM pledges WHERE status = 'paid' AND reward IS NOT NULL \
         GROUP BY project, reward",
        "SELECT project, reward, paid FROM project_rewards WHERE paid <> 0",
    ),
    (
        "project_pools",
        "SELECT project, pool, SUM(amount_cents), SUM(mode = 'lump_sum') FROM matches WHERE active = 1 \
         GROUP BY project, pool",
        "SELECT project, pool, matched_cents, lump_sums FROM project_pools \
         WHERE matched_cents <> 0 OR lump_sums <> 0",
    ),
    (
        "pool_totals",
        "SELECT pool, SUM(amount_cents) FROM matches WHERE active = 1 GROUP BY pool",
        "SELECT pool, spent_cents FROM pool_totals WHERE spent_cents <> 0",
    ),
];
