-- R5 kept: the whole company's scored members over the 365 days to an
-- as-of date, computed once and read back (crates/db/src/reports/rfm.rs).
-- Summing a year of member-days at each request took 0.6–1.2 s at 1,000
-- stores (1 M members). A row holds only while no import has come since:
-- `version` is the last imported batch when it was computed. At most a
-- few as-of dates are kept; a sales import keeps its latest date.
CREATE TABLE rfm_kept (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    asof     DATE NOT NULL UNIQUE,
    version  BIGINT NOT NULL,
    members  BIGINT NOT NULL,
    -- Per segment, its members and their spend (pack_segment_sums).
    segments BYTEA NOT NULL
);

-- The scored members in code order, a part of at most 65,536 to a row
-- (pack_rfm_rows), so that the parts are read back on every core.
CREATE TABLE rfm_kept_part (
    kept_id BIGINT NOT NULL,
    part    BIGINT NOT NULL,
    members BYTEA NOT NULL,
    PRIMARY KEY (kept_id, part)
);
-- Megabytes of parts, written once and read whole: not compressed (as
-- sales_detail).
ALTER TABLE rfm_kept_part ALTER COLUMN members SET STORAGE EXTERNAL;
