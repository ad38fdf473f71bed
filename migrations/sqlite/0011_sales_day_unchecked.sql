-- sales_day without its foreign keys, as PostgreSQL has had it since step 10.
-- Each inserted store-day probed the store and the import batch: 0.10 to
-- 0.15 s of the 0.45 s that writing 142,000 store-days took (measured on
-- the 1 M-line benchmark file; step 10 had judged it too small to measure).
-- The one writer of sales_day (Db::write_sales, behind the sales and daily
-- imports) checks every store id against the stores in the user's reach and
-- takes the batch id from the batch row it inserts in the same transaction;
-- stores and import batches are never deleted. SQLite cannot drop a
-- constraint: the table is rebuilt, its rows copied, its indexes made anew.
CREATE TABLE sales_day_next (
    store_id         INTEGER NOT NULL,
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
    batch_id         INTEGER NOT NULL,
    PRIMARY KEY (store_id, d)
) WITHOUT ROWID;
INSERT INTO sales_day_next (store_id, d, month, iso_week, revenue_c, cost_c, qty, tickets, member_revenue_c,
    member_tickets, returns_c, lines, source, batch_id)
SELECT store_id, d, month, iso_week, revenue_c, cost_c, qty, tickets, member_revenue_c,
    member_tickets, returns_c, lines, source, batch_id
FROM sales_day;
DROP TABLE sales_day;
ALTER TABLE sales_day_next RENAME TO sales_day;
CREATE INDEX sales_day_by_d ON sales_day (d, store_id, month, revenue_c, cost_c, tickets, qty, member_revenue_c);
CREATE INDEX sales_day_summary ON sales_day (d, store_id) WHERE source = 'summary';
