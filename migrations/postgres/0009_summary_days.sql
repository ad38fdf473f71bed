-- The category and RFM reports first ask whether their dates hold store-days
-- imported as summaries (which lack categories and members); summary days
-- are few, and an index of them alone answers it without reading the range.
CREATE INDEX sales_day_summary ON sales_day (d, store_id) WHERE source = 'summary';
