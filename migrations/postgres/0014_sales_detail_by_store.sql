-- The store-months' detail in store order. The RFM reports sum each
-- member's days store by store, in a small map per store that stays in the
-- processor's cache; read through the primary key, a year of store-months
-- came month by month, a store's map had to be set aside between its
-- months, and at 1,000 stores (1 M members, 18 M member-days a year) nearly
-- every member-day missed the cache. Through this index a year of members
-- is read store by store, each store's months in order.
CREATE INDEX sales_detail_by_store ON sales_detail (store_id, month);
