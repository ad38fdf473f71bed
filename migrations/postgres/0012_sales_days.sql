-- The store-days packed a store and month to a row (pack_days in
-- crates/domain/src/sales/codec.rs: per day its figures, source and batch),
-- as on SQLite: thirty times fewer rows to copy and to read; their
-- categories and members likewise (sales_detail). The days already stored
-- are packed by this step's Rust part (migrate.rs, derive_month_packs),
-- which then drops sales_day and sales_day_detail.
CREATE TABLE sales_days (
    month    BIGINT NOT NULL,
    store_id BIGINT NOT NULL,
    days     BYTEA NOT NULL,
    PRIMARY KEY (month, store_id)
);

CREATE TABLE sales_detail (
    month      BIGINT NOT NULL,
    store_id   BIGINT NOT NULL,
    members    BYTEA NOT NULL,
    categories BYTEA NOT NULL,
    PRIMARY KEY (month, store_id)
);
