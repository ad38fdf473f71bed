-- SQLite's sales_day loses its foreign keys in this step, as PostgreSQL's
-- did in step 10. Nothing changes here.
SELECT 1;
