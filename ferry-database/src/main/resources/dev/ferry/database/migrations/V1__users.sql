-- Accounts of `users: database` (docs/users.md, PostgreSQL). One row per account; the columns mirror the users file.
-- Every change is announced with NOTIFY ferry_users, '<name>' (by UserTable) so that each server drops its cached row.
CREATE TABLE ferry_users (
    name          text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9._@+-]{1,64}$'),
    -- a PHC string ($argon2id$... or $2b$...), never a plain password
    password_hash text NOT NULL CHECK (password_hash LIKE '$%'),
    -- relative to the server root, as in the users file; null: the root itself
    home          text,
    access        text NOT NULL DEFAULT 'read-write' CHECK (access IN ('read-only', 'read-write')),
    enabled       boolean NOT NULL DEFAULT true,
    -- optional, login or required; null: the server's policy
    tls           text CHECK (tls IS NULL OR tls IN ('optional', 'login', 'required')),
    -- 0: no limit
    quota_bytes   bigint NOT NULL DEFAULT 0 CHECK (quota_bytes >= 0),
    quota_files   bigint NOT NULL DEFAULT 0 CHECK (quota_files >= 0),
    -- bytes per second; 0: no limit
    upload_rate   bigint NOT NULL DEFAULT 0 CHECK (upload_rate >= 0),
    download_rate bigint NOT NULL DEFAULT 0 CHECK (download_rate >= 0),
    max_sessions  integer NOT NULL DEFAULT 0 CHECK (max_sessions >= 0),
    -- per-folder rights in their compact text form (parsed by the server); null: none
    rights        text,
    created       timestamptz NOT NULL DEFAULT now(),
    updated       timestamptz NOT NULL DEFAULT now()
);
