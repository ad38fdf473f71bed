-- The store-days packed a store and month to a row (pack_days in
-- crates/domain/src/sales/codec.rs: per day its figures, source and batch).
-- A row per store-day made every import write two B-tree entries per
-- store-day (the table and its index by date), most of an import's writing:
-- 142,000 store-days of the 1 M-line benchmark file took 0.23 s of a 0.9 s
-- import, 730,000 of a 1,000-store file 3 s. A month to a row is thirty
-- times fewer. The categories and members of those days (sales_day_detail,
-- a row per store-day too) are packed the same way: each day's packed
-- value behind its day of the month, end to end, members first (the RFM
-- report reads only them). The days already stored are packed by this
-- step's Rust part (migrate.rs, derive_month_packs), which then drops
-- sales_day and sales_day_detail.
CREATE TABLE sales_days (
    month    INTEGER NOT NULL,
    store_id INTEGER NOT NULL,
    days     BLOB NOT NULL,
    PRIMARY KEY (month, store_id)
) WITHOUT ROWID;

-- With rowids: a store-month's detail runs to kilobytes, which a table
-- without rowids keeps on its page only up to a quarter of it and sends the
-- rest to an overflow page of its own (the 1 M-line file's database grew by
-- 40 %); a rowid table keeps a row of up to a page on its page.
CREATE TABLE sales_detail (
    month      INTEGER NOT NULL,
    store_id   INTEGER NOT NULL,
    members    BLOB NOT NULL,
    categories BLOB NOT NULL,
    PRIMARY KEY (month, store_id)
);
