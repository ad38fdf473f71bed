-- The category and RFM reports first ask whether their dates hold store-days
-- imported as summaries (which lack categories and members). The date index
-- does not carry the source, so the question cost a lookup into the table per
-- store-day of the range (two years at 200 stores: 146,000); summary days
-- are few, and an index of them alone answers it at once.
CREATE INDEX sales_day_summary ON sales_day (d, store_id) WHERE source = 'summary';
