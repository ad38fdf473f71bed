-- The store-days packed a store and month to a row (pack_days in
-- crates/domain/src/sales/codec.rs: per day its figures, source and batch),
-- as on SQLite: thirty times fewer rows to copy and to read. The days
-- already stored are packed by this step's Rust part (migrate.rs,
-- derive_day_packs), which then drops sales_day.
CREATE TABLE sales_days (
    month    BIGINT NOT NULL,
    store_id BIGINT NOT NULL,
    days     BYTEA NOT NULL,
    PRIMARY KEY (month, store_id)
);
