-- Regions, stores, the import history, sales rollups, settings and the audit log.

CREATE TABLE region (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    parent_id INTEGER REFERENCES region (id),
    UNIQUE (parent_id, name)
);

CREATE TABLE store (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    region_id   INTEGER NOT NULL REFERENCES region (id),
    area_sqm    INTEGER NOT NULL,
    staff_count INTEGER NOT NULL,
    open_date   DATE NOT NULL,
    channel     TEXT NOT NULL DEFAULT 'store' CHECK (channel IN ('store', 'online')),
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    -- SKUs in the store's range and opening minutes a day, when known: the
    -- bases of revenue per SKU (品效) and per opening hour (时效).
    sku_count    INTEGER,
    open_minutes INTEGER
);

CREATE TABLE import_batch (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    started_at     TIMESTAMP NOT NULL,
    duration_ms    INTEGER NOT NULL,
    result         TEXT NOT NULL CHECK (result IN ('imported', 'refused', 'already_imported', 'failed')),
    rows_read      INTEGER NOT NULL,
    rows_imported  INTEGER NOT NULL,
    rows_rejected  INTEGER NOT NULL,
    pairs_new      INTEGER NOT NULL,
    pairs_replaced INTEGER NOT NULL,
    first_date     DATE,
    last_date      DATE,
    message        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX import_batch_sha ON import_batch (sha256, kind);

-- One row per (store, business date): the partition an import replaces.
CREATE TABLE sales_day (
    store_id         INTEGER NOT NULL REFERENCES store (id),
    d                DATE NOT NULL,
    month            INTEGER NOT NULL,
    iso_week         INTEGER NOT NULL,
    revenue_c        INTEGER NOT NULL,
    cost_c           INTEGER NOT NULL,
    qty              INTEGER,
    tickets          INTEGER NOT NULL,
    member_revenue_c INTEGER,
    member_tickets   INTEGER,
    returns_c        INTEGER,
    lines            INTEGER,
    source           TEXT NOT NULL CHECK (source IN ('lines', 'summary')),
    batch_id         INTEGER NOT NULL REFERENCES import_batch (id),
    PRIMARY KEY (store_id, d)
) WITHOUT ROWID;
CREATE INDEX sales_day_d ON sales_day (d);

-- The categories and members of each store-day that came from POS lines,
-- packed (crates/domain/src/sales/codec.rs). Kept apart from sales_day so
-- that the reports on totals scan narrow rows.
CREATE TABLE sales_day_detail (
    store_id   INTEGER NOT NULL,
    d          DATE NOT NULL,
    month      INTEGER NOT NULL,
    categories BLOB NOT NULL,
    members    BLOB NOT NULL,
    PRIMARY KEY (store_id, d)
);
CREATE INDEX sales_day_detail_d ON sales_day_detail (d);

-- Line detail, kept only when the setting sales.keep_line_detail is on.
CREATE TABLE sales_line (
    store_id  INTEGER NOT NULL,
    d         DATE NOT NULL,
    ticket_no TEXT NOT NULL,
    sold_at   TIMESTAMP NOT NULL,
    member    TEXT,
    sku       TEXT NOT NULL,
    category  TEXT NOT NULL,
    qty       INTEGER NOT NULL,
    amount_c  INTEGER NOT NULL,
    cost_c    INTEGER NOT NULL,
    PRIMARY KEY (store_id, d, ticket_no, sku)
) WITHOUT ROWID;

CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Saved header → field mappings per import kind, for files whose columns
-- carry names opsdesk does not know.
CREATE TABLE column_mapping (
    kind   TEXT NOT NULL,
    header TEXT NOT NULL,
    field  TEXT NOT NULL,
    PRIMARY KEY (kind, header)
);

CREATE TABLE audit_event (
    id        INTEGER PRIMARY KEY,
    at        TIMESTAMP NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before    TEXT,
    after     TEXT
);
