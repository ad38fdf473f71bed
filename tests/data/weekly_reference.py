"""Writes the weekly report of docs/reports.md for a generated data set with
DuckDB, independently of opsdesk: python3 weekly_reference.py DATA_DIR WEEK_MONDAY OUT.csv"""
import datetime as dt
import sys

import duckdb

data, monday, out = sys.argv[1], sys.argv[2], sys.argv[3]
year, week, _ = dt.date.fromisoformat(monday).isocalendar()
try:  # the same ISO week number a year earlier; none for week 53 after a 52-week year
    ly_monday = dt.date.fromisocalendar(year - 1, week, 1).isoformat()
except ValueError:
    ly_monday = "1900-01-01"
con = duckdb.connect()
con.execute(f"""
CREATE TABLE stores AS SELECT * FROM read_csv('{data}/stores.csv', header=true, columns={{
  'store_code':'VARCHAR','store_name':'VARCHAR','region':'VARCHAR','area_sqm':'INTEGER','staff_count':'INTEGER','open_date':'DATE'}});
CREATE TABLE lines AS SELECT ticket_no, store_code, CAST(sold_at AS DATE) AS d, member_id, qty,
  CAST(amount*100 AS BIGINT) AS a, CAST(cost*100 AS BIGINT) AS c
FROM read_csv('{data}/sales_lines.csv', header=true, columns={{'ticket_no':'VARCHAR','store_code':'VARCHAR',
  'sold_at':'TIMESTAMP','member_id':'VARCHAR','sku':'VARCHAR','category':'VARCHAR','qty':'INTEGER',
  'amount':'DECIMAL(12,2)','cost':'DECIMAL(12,2)'}});
CREATE TABLE tk AS SELECT ticket_no, any_value(store_code) s, any_value(d) d, any_value(member_id) m,
  sum(a) net, sum(c) cost, sum(qty) qty FROM lines GROUP BY ticket_no;
CREATE MACRO rdiv(a, b) AS CASE WHEN b IS NULL OR b <= 0 THEN NULL WHEN a >= 0 THEN (2*a+b)//(2*b) ELSE -((2*(-a)+b)//(2*b)) END;
CREATE MACRO x2(n) AS CAST(n AS DECIMAL(18,0)) * 0.01;
""")
q = f"""
WITH w AS (SELECT DATE '{monday}' AS wk),
p AS (SELECT s, sum(net) rev, sum(cost) cost, count(*) FILTER (WHERE net > 0) tickets, sum(qty) qty,
        coalesce(sum(net) FILTER (WHERE m IS NOT NULL), 0) mem, count(DISTINCT d) ndays
      FROM tk, w WHERE d BETWEEN w.wk AND w.wk + 6 GROUP BY s),
lw AS (SELECT s, sum(net) rev FROM tk, w WHERE d BETWEEN w.wk - 7 AND w.wk - 1 GROUP BY s),
ly AS (SELECT s, sum(net) rev FROM tk WHERE d BETWEEN DATE '{ly_monday}' AND DATE '{ly_monday}' + 6 GROUP BY s)
SELECT st.store_code, strftime(w.wk, '%G-W%V') AS week, coalesce(p.ndays, 0) AS days,
  x2(coalesce(p.rev, 0)) revenue, x2(coalesce(p.rev - p.cost, 0)) gross_profit,
  x2(rdiv(10000*(p.rev-p.cost), p.rev)) margin_pct, coalesce(p.tickets, 0) tickets,
  x2(rdiv(p.rev, p.tickets)) aov, x2(rdiv(100*p.qty, p.tickets)) items_per_ticket,
  x2(rdiv(10000*p.mem, p.rev)) member_revenue_share_pct,
  x2(coalesce(lw.rev, 0)) lw_revenue, x2(rdiv(10000*(coalesce(p.rev,0)-coalesce(lw.rev,0)), coalesce(lw.rev,0))) wow_pct,
  x2(coalesce(ly.rev, 0)) ly_revenue, x2(rdiv(10000*(coalesce(p.rev,0)-coalesce(ly.rev,0)), coalesce(ly.rev,0))) yoy_pct
FROM stores st CROSS JOIN w LEFT JOIN p ON p.s = st.store_code LEFT JOIN lw ON lw.s = st.store_code
LEFT JOIN ly ON ly.s = st.store_code WHERE st.open_date <= w.wk + 6 ORDER BY st.store_code
"""
con.execute(f"COPY ({q}) TO '{out}' (HEADER, DELIMITER ',')")
