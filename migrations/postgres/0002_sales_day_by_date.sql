-- Reports read store-days by date range across stores: an index that carries
-- what they read lets them scan the index alone (see the SQLite twin).
DROP INDEX sales_day_d;
CREATE INDEX sales_day_by_d ON sales_day (d, store_id) INCLUDE (month, revenue_c, cost_c, tickets, qty, member_revenue_c);
