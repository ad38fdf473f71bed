-- Each store-month's sums over its days: revenue, cost and tickets of every
-- day, and the categories of the days from POS lines, packed as the days' are
-- (crates/domain/src/sales/codec.rs). The monthly and category reports read
-- one row per store and month instead of every day (1,000 stores, one month:
-- 30,000 store-days). Written with the days in the same transaction; rebuilt
-- from the days when this step is applied to a database with sales.
CREATE TABLE sales_month (
    month      BIGINT NOT NULL,
    store_id   BIGINT NOT NULL,
    revenue_c  BIGINT NOT NULL,
    cost_c     BIGINT NOT NULL,
    tickets    BIGINT NOT NULL,
    categories BYTEA NOT NULL,
    PRIMARY KEY (month, store_id)
);
