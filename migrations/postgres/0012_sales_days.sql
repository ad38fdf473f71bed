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
-- A store-month's detail runs to kilobytes: stored out of line, as every
-- value over 2 kB is, but not compressed. Compressing it took a third of
-- the 10 M-line import (5.2 s instead of 3.3 s) to save space that SQLite
-- does not save either.
ALTER TABLE sales_detail ALTER COLUMN members SET STORAGE EXTERNAL,
    ALTER COLUMN categories SET STORAGE EXTERNAL;
