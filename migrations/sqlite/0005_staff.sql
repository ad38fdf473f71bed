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
