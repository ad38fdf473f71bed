-- Staff (员工) for appraisal: departments (a tree beside the stores'),
-- positions with their duties (岗位职责), and employees in a store or a
-- department, with level, pay base and whether the scheme covers them.

CREATE TABLE department (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    parent_id INTEGER REFERENCES department (id),
    UNIQUE (parent_id, name)
);

CREATE TABLE position (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    duties TEXT NOT NULL DEFAULT ''
);

CREATE TABLE employee (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    store_id      INTEGER REFERENCES store (id),
    department_id INTEGER REFERENCES department (id),
    position      TEXT NOT NULL REFERENCES position (code),
    level         TEXT NOT NULL,
    -- Monthly appraisal pay base in fen; NULL takes the level's from the settings.
    pay_base      INTEGER,
    -- Outside the scheme (e.g. commission sales staff): marked and skipped.
    excluded      BOOLEAN NOT NULL DEFAULT FALSE,
    start_date    DATE NOT NULL,
    end_date      DATE,
    CHECK ((store_id IS NULL) <> (department_id IS NULL))
);
CREATE INDEX employee_store ON employee (store_id);

-- A position's scorecard (考核表): indicators with whole weights summing to
-- 100, each scored by hand or from the data of the employee's store.
CREATE TABLE indicator (
    position TEXT NOT NULL REFERENCES position (code),
    key      TEXT NOT NULL,
    name     TEXT NOT NULL,
    weight   INTEGER NOT NULL CHECK (weight > 0),
    source   TEXT NOT NULL CHECK (source IN ('hand', 'revenue_attainment', 'gross_profit_attainment', 'traffic_growth', 'aov_growth')),
    PRIMARY KEY (position, key)
);

-- Monthly appraisal cycles: each unit (a store or a department with staff)
-- goes scoring → signed (unit head) → reviewed (operations) → approved
-- (executive) → paid (finance); results are computed when the unit head
-- signs and frozen from approval on.
CREATE TABLE appraisal_cycle (
    month     INTEGER PRIMARY KEY,
    deadline  DATE NOT NULL,
    opened_by TEXT NOT NULL,
    opened_at TIMESTAMP NOT NULL
);

CREATE TABLE appraisal_unit (
    month       INTEGER NOT NULL REFERENCES appraisal_cycle (month),
    unit        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('scoring', 'signed', 'reviewed', 'approved', 'paid')),
    reason      TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    signed_by   TEXT,
    signed_at   TIMESTAMP,
    reviewed_by TEXT,
    reviewed_at TIMESTAMP,
    approved_by TEXT,
    approved_at TIMESTAMP,
    paid_by     TEXT,
    paid_at     TIMESTAMP,
    PRIMARY KEY (month, unit)
);

CREATE TABLE appraisal_score (
    month       INTEGER NOT NULL REFERENCES appraisal_cycle (month),
    employee_id INTEGER NOT NULL REFERENCES employee (id),
    indicator   TEXT NOT NULL,
    points      INTEGER NOT NULL CHECK (points BETWEEN 0 AND 10000),
    comment     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (month, employee_id, indicator)
);

CREATE TABLE appraisal_result (
    month       INTEGER NOT NULL REFERENCES appraisal_cycle (month),
    employee_id INTEGER NOT NULL REFERENCES employee (id),
    unit        TEXT NOT NULL,
    score       INTEGER,
    grade       TEXT,
    base        INTEGER NOT NULL,
    coefficient INTEGER NOT NULL,
    pay         INTEGER NOT NULL,
    excluded    BOOLEAN NOT NULL,
    PRIMARY KEY (month, employee_id)
);
