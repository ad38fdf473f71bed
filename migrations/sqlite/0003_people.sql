-- The people who sign in, with their role and reach (a store manager's
-- store, a region manager's region).
CREATE TABLE app_user (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'operations', 'region-manager', 'store-manager', 'finance')),
    region_id     INTEGER REFERENCES region (id),
    store_id      INTEGER REFERENCES store (id),
    password_hash TEXT NOT NULL,
    lang          TEXT CHECK (lang IN ('zh', 'en')),
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMP NOT NULL,
    CHECK ((role = 'store-manager') = (store_id IS NOT NULL)),
    CHECK ((role = 'region-manager') = (region_id IS NOT NULL))
);
