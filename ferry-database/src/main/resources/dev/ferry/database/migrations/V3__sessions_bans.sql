-- Cluster-wide failed-login bans and per-user session limits (docs/policy.md, Session limits and bans).
-- Addresses are tracking keys (dev.ferry.runtime.limits.Ban.key): an IPv4 address, or an IPv6 /64 prefix with its
-- host bits zero; stored as inet without a prefix length, as the Java side has them.

-- Failed logins per address: a fixed window that opens at the first failure (LocalBanList's rule).
CREATE TABLE ferry_login_failures (
    address      inet PRIMARY KEY,
    window_start timestamptz NOT NULL,
    failures     integer NOT NULL CHECK (failures > 0)
);

-- Bans in force (or ended and not yet cleaned). Every change is announced on NOTIFY ferry_bans (see below).
CREATE TABLE ferry_bans (
    address  inet PRIMARY KEY,
    until    timestamptz NOT NULL,
    -- the failed logins that started it; 0 for a ban by hand
    failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    -- 'failed-logins' or the operator's words
    reason   text NOT NULL CHECK (length(reason) <= 200),
    -- the node that counted the failures, or admin@node
    origin   text NOT NULL CHECK (length(origin) <= 200),
    created  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ferry_bans_until ON ferry_bans (until);

-- Processes that hold session leases, with the time they last said they are alive. A node key names one process
-- slot (server node name and listen address); its incarnation changes at every start, so that the leases of a
-- crashed process stop counting as soon as it is back rather than when its heartbeat goes stale.
CREATE TABLE ferry_nodes (
    node        text PRIMARY KEY CHECK (length(node) <= 300),
    incarnation uuid NOT NULL,
    started     timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);

-- One row per logged-in session of an account with a session limit.
CREATE TABLE ferry_session_leases (
    node        text NOT NULL,
    incarnation uuid NOT NULL,
    session_id  text NOT NULL CHECK (length(session_id) <= 100),
    username    text NOT NULL,
    started     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, incarnation, session_id)
);
CREATE INDEX ferry_session_leases_user ON ferry_session_leases (username);

-- The NOTIFY payload of a ban: tab-separated, the reason last since it is free text (tabs and newlines are
-- replaced): ban <address> <until, epoch ms> <failures> <origin> <reason>. A lift: lift <address>.
CREATE FUNCTION ferry_ban_payload(b ferry_bans) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT 'ban' || E'\t' || host(b.address) || E'\t' || floor(extract(epoch FROM b.until) * 1000)::bigint || E'\t'
        || b.failures || E'\t' || translate(b.origin, E'\t\n\r', '   ') || E'\t' || translate(b.reason, E'\t\n\r', '   ')
$$;

-- One failed login from p_address, under the rule "p_after failures within p_window ban for p_duration". Returns
-- the ban it started, or no row. Serialised per address by a transaction-level advisory lock (class 'bans'), so
-- that failures counted on several nodes at once add up exactly; each statement after the lock sees what the
-- previous holder committed (READ COMMITTED takes a snapshot per statement in a volatile function).
CREATE FUNCTION ferry_record_failure(p_address inet, p_after integer, p_window_ms bigint, p_duration_ms bigint,
                                     p_origin text) RETURNS SETOF ferry_bans LANGUAGE plpgsql AS $$
DECLARE
    f ferry_login_failures;
    b ferry_bans;
BEGIN
    PERFORM pg_advisory_xact_lock(1650552435, hashtext(host(p_address)));
    -- a banned address is not counted (it cannot get as far as a login; a node may not have heard the ban yet)
    IF EXISTS (SELECT 1 FROM ferry_bans WHERE address = p_address AND until > now()) THEN
        RETURN;
    END IF;
    INSERT INTO ferry_login_failures AS x (address, window_start, failures) VALUES (p_address, now(), 1)
        ON CONFLICT (address) DO UPDATE SET
            window_start = CASE WHEN x.window_start <= now() - p_window_ms * interval '1 millisecond'
                                THEN now() ELSE x.window_start END,
            failures = CASE WHEN x.window_start <= now() - p_window_ms * interval '1 millisecond'
                            THEN 1 ELSE x.failures + 1 END
        RETURNING * INTO f;
    IF f.failures < p_after THEN
        RETURN;
    END IF;
    -- the ban starts the address from zero once it ends
    DELETE FROM ferry_login_failures WHERE address = p_address;
    INSERT INTO ferry_bans AS x (address, until, failures, reason, origin, created)
        VALUES (p_address, now() + p_duration_ms * interval '1 millisecond', f.failures, 'failed-logins',
                left(p_origin, 200), now())
        ON CONFLICT (address) DO UPDATE SET until = excluded.until, failures = excluded.failures,
            reason = excluded.reason, origin = excluded.origin, created = excluded.created
        RETURNING * INTO b;
    PERFORM pg_notify('ferry_bans', ferry_ban_payload(b));
    RETURN NEXT b;
END
$$;

-- A ban by hand, replacing any ban the address has, and forgetting its failures.
CREATE FUNCTION ferry_ban(p_address inet, p_duration_ms bigint, p_reason text, p_origin text)
        RETURNS SETOF ferry_bans LANGUAGE plpgsql AS $$
DECLARE
    b ferry_bans;
BEGIN
    PERFORM pg_advisory_xact_lock(1650552435, hashtext(host(p_address)));
    DELETE FROM ferry_login_failures WHERE address = p_address;
    INSERT INTO ferry_bans AS x (address, until, failures, reason, origin, created)
        VALUES (p_address, now() + p_duration_ms * interval '1 millisecond', 0, left(p_reason, 200),
                left(p_origin, 200), now())
        ON CONFLICT (address) DO UPDATE SET until = excluded.until, failures = 0, reason = excluded.reason,
            origin = excluded.origin, created = excluded.created
        RETURNING * INTO b;
    PERFORM pg_notify('ferry_bans', ferry_ban_payload(b));
    RETURN NEXT b;
END
$$;

-- Lifts the ban of p_address and forgets its failures; true if a ban was in force.
CREATE FUNCTION ferry_lift(p_address inet) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    lifted boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(1650552435, hashtext(host(p_address)));
    DELETE FROM ferry_login_failures WHERE address = p_address;
    WITH gone AS (DELETE FROM ferry_bans WHERE address = p_address RETURNING until)
        SELECT coalesce(bool_or(until > now()), false) INTO lifted FROM gone;
    PERFORM pg_notify('ferry_bans', 'lift' || E'\t' || host(p_address));
    RETURN lifted;
END
$$;

-- One more session of p_user if it has fewer than p_max live ones across the cluster. A lease is live while its
-- node row has this incarnation and was seen within p_stale_ms. Serialised per user by a transaction-level
-- advisory lock (class 'sess'): two nodes granting the last place at once is impossible.
CREATE FUNCTION ferry_acquire_session(p_user text, p_max integer, p_node text, p_incarnation uuid, p_session text,
                                      p_stale_ms bigint) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    live integer;
BEGIN
    PERFORM pg_advisory_xact_lock(1936028531, hashtext(p_user));
    SELECT count(*) INTO live FROM ferry_session_leases l
        JOIN ferry_nodes n ON n.node = l.node AND n.incarnation = l.incarnation
        WHERE l.username = p_user AND n.last_seen > now() - p_stale_ms * interval '1 millisecond';
    IF live >= p_max THEN
        RETURN false;
    END IF;
    INSERT INTO ferry_session_leases (node, incarnation, session_id, username)
        VALUES (p_node, p_incarnation, p_session, p_user)
        ON CONFLICT (node, incarnation, session_id) DO UPDATE SET username = excluded.username, started = now();
    RETURN true;
END
$$;
