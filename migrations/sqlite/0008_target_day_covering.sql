-- The daily report's targets sum a month's day cells of every store by date;
-- with the baseline in the date index they are read without a lookup into
-- the table per cell (1,000 stores, month to date: 27,000 lookups).
DROP INDEX target_day_by_date;
CREATE INDEX target_day_by_date ON target_day (plan_id, d, store_id, baseline);
