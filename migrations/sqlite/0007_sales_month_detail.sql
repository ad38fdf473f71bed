-- Each store-month's categories summed over its days, packed as the days'
-- are (crates/domain/src/sales/codec.rs): the category report reads one row
-- per store and month instead of unpacking every day (1,000 stores, one
-- month: 30,000 store-days). Written with the days in the same transaction;
-- rebuilt from the days when this step is applied to a database with sales.
CREATE TABLE sales_month_detail (
    month      INTEGER NOT NULL,
    store_id   INTEGER NOT NULL,
    categories BLOB NOT NULL,
    PRIMARY KEY (month, store_id)
) WITHOUT ROWID;
