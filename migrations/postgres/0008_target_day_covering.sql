-- The daily report's targets sum a month's day cells of every store by date;
-- with the baseline in the date index they are read by an index-only scan.
DROP INDEX target_day_by_date;
CREATE INDEX target_day_by_date ON target_day (plan_id, d) INCLUDE (store_id, baseline);
