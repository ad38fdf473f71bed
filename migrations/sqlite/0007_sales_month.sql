-- Each store-month's sums over its days: revenue, cost and tickets of every
-- day; quantity and member revenue with the number of days that have them
-- (a sum over days some of which lack a figure is no sum); the days; and the
-- categories of the days from POS lines, packed as the days' are
-- (crates/domain/src/sales/codec.rs). The monthly, regions, efficiency and
-- category reports read one row per store and month instead of every day
-- (1,000 stores, one month: 30,000 store-days). Written with the days in the same transaction; rebuilt
-- from the days when this step is applied to a database with sales.
CREATE TABLE sales_month (
    month              INTEGER NOT NULL,
    store_id           INTEGER NOT NULL,
    revenue_c          INTEGER NOT NULL,
    cost_c             INTEGER NOT NULL,
    tickets            INTEGER NOT NULL,
    qty                INTEGER NOT NULL,
    member_revenue_c   INTEGER NOT NULL,
    days               INTEGER NOT NULL,
    days_with_qty      INTEGER NOT NULL,
    days_with_members  INTEGER NOT NULL,
    categories         BLOB NOT NULL,
    PRIMARY            KEY (month, store_id)
) WITHOUT ROWID;
