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

-- Signed-in sessions. The cookie holds a random token; only its sha256 is
-- stored, so the table cannot be replayed. Idle and absolute timeouts are
-- checked on every request; signing out deletes the row.
CREATE TABLE user_session (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    seen_at    TIMESTAMP NOT NULL,
    ip         TEXT
);
CREATE INDEX user_session_user ON user_session (user_id);

-- Bearer tokens for the JSON API, made by a user in the desk and acting
-- with her reach. Only the sha256 of a token is stored.
CREATE TABLE api_token (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX api_token_user ON api_token (user_id);
