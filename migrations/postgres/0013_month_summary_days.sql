-- The store-days of each store-month that came as daily summaries (without
-- categories and members). The category and RFM reports ask how many of
-- their dates' store-days are summaries; since step 12 packed the days by
-- month (and took step 9's index of summary days with their table), the
-- answer read every packed day of the range: two years of 200 stores,
-- 146,000 store-days, for every category report. Counted in the month
-- rollup, with an index of the store-months that have any, it is a lookup,
-- and only a month cut by the range and holding summaries is unpacked.
-- Filled from the packed days when this step is applied to a database with
-- sales (migrate.rs, derive_month_summary_days).
ALTER TABLE sales_month ADD COLUMN summary_days BIGINT NOT NULL DEFAULT 0;
CREATE INDEX sales_month_summary ON sales_month (month, store_id) WHERE summary_days > 0;
