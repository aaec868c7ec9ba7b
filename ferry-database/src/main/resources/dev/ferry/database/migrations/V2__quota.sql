-- Quota usage counted across every server (docs/policy.md, Quotas across servers). Written by QuotaTable only.
--
-- One row per account with a quota: what it stores (changed only by committed uploads, deletes and renames) and what
-- running uploads have reserved (the sum of its quota_reservations rows, kept beside them in the same transactions).
-- The row is made by the first count of the account (a walk of its storage, under an advisory lock) and kept for good.
CREATE TABLE ferry_quota_usage (
    account        text PRIMARY KEY,
    bytes_used     bigint NOT NULL CHECK (bytes_used >= 0),
    files_used     bigint NOT NULL CHECK (files_used >= 0),
    bytes_reserved bigint NOT NULL DEFAULT 0 CHECK (bytes_reserved >= 0),
    files_reserved bigint NOT NULL DEFAULT 0 CHECK (files_reserved >= 0),
    -- when the storage was walked for bytes_used and files_used
    counted_at     timestamptz NOT NULL DEFAULT now()
);

-- Room held by one running upload, with who holds it (the server's node, which start of it, the session) and until
-- when: a server that dies leaves its rows behind; they stop counting when the lease ends or when that node starts
-- again. Every change of a row also changes its account's *_reserved, under that account's row lock.
CREATE TABLE ferry_quota_reservations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account     text NOT NULL REFERENCES ferry_quota_usage (account) ON DELETE CASCADE,
    node        text NOT NULL,
    incarnation text NOT NULL,
    session     text NOT NULL,
    bytes       bigint NOT NULL CHECK (bytes >= 0),
    files       bigint NOT NULL CHECK (files >= 0),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX ferry_quota_reservations_account ON ferry_quota_reservations (account, expires_at);
CREATE INDEX ferry_quota_reservations_node ON ferry_quota_reservations (node, incarnation);
