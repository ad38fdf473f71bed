-- Targets: the metrics plans are set on, the holiday calendar, yearly plans
-- decomposed to region, store, month and day (every level the sum of the
-- one below, to the fen), and the monthly reward sheets approved from them.

CREATE TABLE target_metric (
    key      TEXT PRIMARY KEY,
    name_zh  TEXT NOT NULL,
    name_en  TEXT NOT NULL,
    unit     TEXT NOT NULL CHECK (unit IN ('fen', 'count')),
    basis    TEXT NOT NULL CHECK (basis IN ('revenue', 'gross_profit', 'tickets', 'member_revenue')),
    actual   TEXT CHECK (actual IN ('revenue', 'gross_profit', 'tickets', 'member_revenue')),
    position INTEGER NOT NULL
);
INSERT INTO target_metric (key, name_zh, name_en, unit, basis, actual, position) VALUES
    ('revenue', '销售额', 'Revenue', 'fen', 'revenue', 'revenue', 1),
    ('gross_profit', '毛利额', 'Gross profit', 'fen', 'gross_profit', 'gross_profit', 2),
    ('profit_tax', '利税', 'Profit and tax', 'fen', 'gross_profit', NULL, 3),
    ('tickets', '客流', 'Tickets', 'count', 'tickets', 'tickets', 4),
    ('member_revenue', '会员销售额', 'Member revenue', 'fen', 'member_revenue', 'member_revenue', 5);

-- Public holidays and adjusted working days; the published years are seeded
-- by the migration step.
CREATE TABLE holiday (
    d         DATE PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name      TEXT NOT NULL,
    uplift_pm INTEGER NOT NULL CHECK (uplift_pm > 0)
);

CREATE TABLE target_plan (
    id                INTEGER PRIMARY KEY,
    year              INTEGER NOT NULL,
    metric            TEXT NOT NULL REFERENCES target_metric (key),
    baseline          INTEGER NOT NULL,
    stretch           INTEGER NOT NULL,
    method            TEXT NOT NULL,
    month_method      TEXT NOT NULL,
    tiers             TEXT NOT NULL,
    basis_from        DATE NOT NULL,
    basis_to          DATE NOT NULL,
    bonus_per_point   INTEGER NOT NULL,
    bonus_cap         INTEGER,
    penalty_floor     INTEGER NOT NULL,
    penalty_per_point INTEGER NOT NULL,
    penalty_cap       INTEGER,
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    UNIQUE (year, metric)
);

CREATE TABLE target_region (
    plan_id   INTEGER NOT NULL REFERENCES target_plan (id) ON DELETE CASCADE,
    region_id INTEGER NOT NULL REFERENCES region (id),
    baseline  INTEGER NOT NULL,
    stretch   INTEGER NOT NULL,
    locked    BOOLEAN NOT NULL,
    weight    INTEGER NOT NULL,
    PRIMARY KEY (plan_id, region_id)
);

CREATE TABLE target_store (
    plan_id   INTEGER NOT NULL REFERENCES target_plan (id) ON DELETE CASCADE,
    store_id  INTEGER NOT NULL REFERENCES store (id),
    region_id INTEGER NOT NULL,
    baseline  INTEGER NOT NULL,
    stretch   INTEGER NOT NULL,
    locked    BOOLEAN NOT NULL,
    weight    INTEGER NOT NULL,
    -- The store lacked the history its method needs and took the fallback.
    fallback  BOOLEAN NOT NULL,
    tier      TEXT,
    season    TEXT NOT NULL,
    weekdays  TEXT NOT NULL,
    PRIMARY KEY (plan_id, store_id)
);

CREATE TABLE target_month (
    plan_id  INTEGER NOT NULL REFERENCES target_plan (id) ON DELETE CASCADE,
    store_id INTEGER NOT NULL,
    month    INTEGER NOT NULL,
    baseline INTEGER NOT NULL,
    stretch  INTEGER NOT NULL,
    locked   BOOLEAN NOT NULL,
    weight   INTEGER NOT NULL,
    PRIMARY KEY (plan_id, store_id, month)
) WITHOUT ROWID;

CREATE TABLE target_day (
    plan_id  INTEGER NOT NULL REFERENCES target_plan (id) ON DELETE CASCADE,
    store_id INTEGER NOT NULL,
    d        DATE NOT NULL,
    month    INTEGER NOT NULL,
    baseline INTEGER NOT NULL,
    stretch  INTEGER NOT NULL,
    locked   BOOLEAN NOT NULL,
    weight   INTEGER NOT NULL,
    PRIMARY KEY (plan_id, store_id, d)
) WITHOUT ROWID;
CREATE INDEX target_day_by_date ON target_day (plan_id, d);

-- A month's reward and penalty sheet, frozen when approved.
CREATE TABLE target_payout (
    plan_id     INTEGER NOT NULL REFERENCES target_plan (id) ON DELETE CASCADE,
    month       INTEGER NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at TIMESTAMP NOT NULL,
    PRIMARY KEY (plan_id, month)
);

CREATE TABLE target_payout_line (
    plan_id    INTEGER NOT NULL,
    month      INTEGER NOT NULL,
    store_id   INTEGER NOT NULL,
    managers   TEXT NOT NULL,
    target     INTEGER NOT NULL,
    actual     INTEGER,
    attainment INTEGER,
    amount     INTEGER NOT NULL,
    PRIMARY KEY (plan_id, month, store_id),
    FOREIGN KEY (plan_id, month) REFERENCES target_payout (plan_id, month) ON DELETE CASCADE
);
