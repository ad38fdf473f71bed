"""The efficiency and regions reports of docs/reports.md computed with DuckDB,
independently of opsdesk (stores without SKU counts or opening hours):
  python3 period_reference.py efficiency DATA_DIR FROM TO OUT.csv
  python3 period_reference.py regions DATA_DIR YYYY-MM OUT.csv"""
import datetime as dt
import sys

import duckdb

kind, data = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute(f"""
CREATE TABLE stores AS SELECT * FROM read_csv('{data}/stores.csv', header=true, columns={{
  'store_code':'VARCHAR','store_name':'VARCHAR','region':'VARCHAR','area_sqm':'INTEGER','staff_count':'INTEGER','open_date':'DATE'}});
CREATE TABLE tk AS SELECT ticket_no, any_value(store_code) s, any_value(CAST(sold_at AS DATE)) d,
  any_value(member_id) m, sum(CAST(amount*100 AS BIGINT)) net, sum(CAST(cost*100 AS BIGINT)) cost, sum(qty) qty
FROM read_csv('{data}/sales_lines.csv', header=true, columns={{'ticket_no':'VARCHAR','store_code':'VARCHAR',
  'sold_at':'TIMESTAMP','member_id':'VARCHAR','sku':'VARCHAR','category':'VARCHAR','qty':'INTEGER',
  'amount':'DECIMAL(12,2)','cost':'DECIMAL(12,2)'}}) GROUP BY ticket_no;
CREATE MACRO rdiv(a, b) AS CASE WHEN b IS NULL OR b <= 0 THEN NULL WHEN a >= 0 THEN (2*a+b)//(2*b) ELSE -((2*(-a)+b)//(2*b)) END;
CREATE MACRO x2(n) AS CAST(n AS DECIMAL(18,0)) * 0.01;
CREATE MACRO sums(a, b) AS TABLE SELECT s, sum(net) rev, sum(cost) cost, count(*) FILTER (WHERE net > 0) tickets,
  sum(qty) qty, coalesce(sum(net) FILTER (WHERE m IS NOT NULL), 0) mem, count(DISTINCT d) ndays
  FROM tk WHERE d BETWEEN a AND b GROUP BY s;
""")


def ly(d):
    try:
        return d.replace(year=d.year - 1)
    except ValueError:
        return dt.date(d.year - 1, 2, 28)


if kind == "efficiency":
    a, b, out = dt.date.fromisoformat(sys.argv[3]), dt.date.fromisoformat(sys.argv[4]), sys.argv[5]
    q = f"""
    SELECT st.store_code, st.region, coalesce(p.ndays, 0) AS "days", x2(coalesce(p.rev, 0)) revenue,
      x2(coalesce(p.rev - p.cost, 0)) gross_profit, x2(rdiv(10000*(p.rev-p.cost), p.rev)) margin_pct,
      coalesce(p.tickets, 0) tickets, x2(rdiv(p.rev, p.tickets)) aov, x2(rdiv(100*p.qty, p.tickets)) items_per_ticket,
      x2(rdiv(10000*p.mem, p.rev)) member_revenue_share_pct, x2(rdiv(coalesce(p.rev, 0), st.staff_count)) revenue_per_staff,
      x2(rdiv(coalesce(p.rev, 0), st.area_sqm)) revenue_per_sqm, NULL revenue_per_hour, NULL revenue_per_sku,
      x2(rdiv(100*coalesce(p.tickets, 0), st.area_sqm)) tickets_per_sqm,
      x2(rdiv(10000*(coalesce(p.rev,0)-coalesce(l.rev,0)), coalesce(l.rev,0))) yoy_pct
    FROM stores st LEFT JOIN sums(DATE '{a}', DATE '{b}') p ON p.s = st.store_code
    LEFT JOIN sums(DATE '{ly(a)}', DATE '{ly(b)}') l ON l.s = st.store_code
    WHERE st.open_date <= DATE '{b}' ORDER BY st.store_code"""
else:
    month, out = sys.argv[3], sys.argv[4]
    first = dt.date.fromisoformat(month + "-01")
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    prev_last = first - dt.timedelta(days=1)
    prev_first = prev_last.replace(day=1)
    ly_first = first.replace(year=first.year - 1)
    ly_last = (ly_first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    q = f"""
    WITH r AS (SELECT st.region, count(c.s) stores, coalesce(sum(c.rev), 0) rev, coalesce(sum(c.cost), 0) cost,
        coalesce(sum(c.tickets), 0) tickets, coalesce(sum(st.area_sqm) FILTER (WHERE c.s IS NOT NULL), 0) area,
        coalesce(sum(p.rev), 0) prev, coalesce(sum(l.rev), 0) ly
      FROM stores st LEFT JOIN sums(DATE '{first}', DATE '{last}') c ON c.s = st.store_code
      LEFT JOIN sums(DATE '{prev_first}', DATE '{prev_last}') p ON p.s = st.store_code
      LEFT JOIN sums(DATE '{ly_first}', DATE '{ly_last}') l ON l.s = st.store_code GROUP BY st.region),
    t AS (SELECT sum(rev) total FROM r)
    SELECT row_number() OVER (ORDER BY rev DESC, region) rank, region, stores, x2(rev) revenue,
      x2(rdiv(10000*rev, t.total)) share_pct, x2(rev - cost) gross_profit, x2(rdiv(10000*(rev-cost), rev)) margin_pct,
      tickets, x2(rdiv(rev, tickets)) aov, x2(rdiv(rev, stores)) revenue_per_store, x2(rdiv(rev, area)) revenue_per_sqm,
      x2(rdiv(10000*(rev-prev), prev)) mom_pct, x2(rdiv(10000*(rev-ly), ly)) yoy_pct
    FROM r, t ORDER BY rank"""
con.execute(f"COPY ({q}) TO '{out}' (HEADER, DELIMITER ',')")
