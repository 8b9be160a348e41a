-- tasklane replica, schema version 1.
--
-- The replica is a local copy of the user's tasks from one or more servers,
-- plus the outbox of actions the user took and the server has not yet
-- confirmed. Two rules shape it:
--
-- * Server state and local intent are stored apart. `tasks` holds what the
--   server last said; `outbox` holds what the user asked for. The only
--   derived data is `tasks.pending_effect`, the folded optimistic effect of a
--   task's pending ops, rewritten in the same transaction as every change to
--   those ops, so it can always be recomputed from the outbox.
-- * Readers see the effective view: server state overlaid with the pending
--   effect. The `eff_*` generated columns compute it inside the row, which
--   lets ordinary indexes serve inbox queries over the effective values.
--
-- Instants are UTC text in one fixed-width form (2026-11-22T08:30:00Z), so
-- text order is time order. Deadlines are that or a plain date (2026-11-30).
-- Files in this directory are append-only: never edit a released migration.

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('local', 'omflow', 'gever', 'hitachi')),
    base_url    TEXT NOT NULL DEFAULT '',
    user_name   TEXT NOT NULL DEFAULT '',
    -- Per-kind settings as a JSON object. Never a secret: those live in the
    -- OS keychain.
    settings    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings) AND json_type(settings) = 'object'),
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE tasks (
    -- AUTOINCREMENT: an id is never reused, so nothing keyed by a deleted
    -- task's id (a search entry, a UI selection) can ever point at another.
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    -- The stable remote key (see docs/decisions/0002-task-identity.md).
    remote_key    TEXT NOT NULL,
    title         TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('open', 'in_progress', 'resolved', 'closed',
                                                 'cancelled', 'rejected', 'planned', 'skipped', 'other')),
    status_text   TEXT NOT NULL DEFAULT '',
    kind          TEXT,
    assignee      TEXT,
    group_name    TEXT,
    issuer        TEXT,
    deadline      TEXT,
    priority      INTEGER,
    created       TEXT,
    modified      TEXT,
    process       TEXT,
    parent_key    TEXT,
    position      INTEGER,
    -- Hash of the normalized record as last written, so an unchanged task
    -- costs a lookup on re-sync instead of a rewrite of the row and its
    -- search entry.
    digest        INTEGER NOT NULL DEFAULT 0,
    -- 1 once the task vanished from the user's view on the server; kept while
    -- it has pending ops.
    gone          INTEGER NOT NULL DEFAULT 0 CHECK (gone IN (0, 1)),
    synced_at     TEXT NOT NULL,
    -- When the offered actions were last fetched (NULL: never, so an action
    -- cannot be checked against them offline).
    actions_at    TEXT,
    -- The uuid of the pending create op that made this row, while the
    -- server has not yet confirmed it.
    local_op      TEXT,
    -- Folded optimistic effect of the pending ops, e.g. {"state":"in_progress"};
    -- NULL when nothing is pending. A JSON null value means "set to NULL".
    pending_effect TEXT CHECK (pending_effect IS NULL OR (json_valid(pending_effect) AND json_type(pending_effect) = 'object')),
    eff_state     TEXT GENERATED ALWAYS AS (coalesce(pending_effect ->> '$.state', state)) VIRTUAL,
    eff_assignee  TEXT GENERATED ALWAYS AS (
        CASE WHEN json_type(pending_effect, '$.assignee') IS NULL THEN assignee
             ELSE pending_effect ->> '$.assignee' END) VIRTUAL,
    eff_group     TEXT GENERATED ALWAYS AS (
        CASE WHEN json_type(pending_effect, '$.group') IS NULL THEN group_name
             ELSE pending_effect ->> '$.group' END) VIRTUAL,
    eff_deadline  TEXT GENERATED ALWAYS AS (coalesce(pending_effect ->> '$.deadline', deadline)) VIRTUAL,
    UNIQUE (account_id, remote_key)
) STRICT;

-- Indexes serve the inbox's questions ("mine / my group's, in this state,
-- by deadline", "everything by deadline"). Their sort columns are spelled
-- exactly as the query compiler's default ORDER BY spells them — deadline,
-- empty last, then latest change — so SQLite walks an index in order
-- instead of sorting, and a LIMIT stops the walk early. They skip tasks
-- that are gone, which queries leave out unless asked.
CREATE INDEX tasks_by_assignee ON tasks (eff_assignee, eff_state, (eff_deadline IS NULL), eff_deadline,
    (modified IS NULL), modified DESC) WHERE gone = 0;
CREATE INDEX tasks_by_group ON tasks (eff_group, eff_state, (eff_deadline IS NULL), eff_deadline,
    (modified IS NULL), modified DESC) WHERE gone = 0;
CREATE INDEX tasks_by_deadline ON tasks ((eff_deadline IS NULL), eff_deadline, (modified IS NULL),
    modified DESC) WHERE gone = 0;
CREATE INDEX tasks_by_parent ON tasks (account_id, parent_key) WHERE parent_key IS NOT NULL;

-- The bulky part of a task, kept out of `tasks` so that lists, sorts and
-- search joins read short rows. One row per task.
CREATE TABLE task_bodies (
    task_id     INTEGER PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
    description TEXT NOT NULL DEFAULT '',
    description_format TEXT NOT NULL DEFAULT 'text' CHECK (description_format IN ('text', 'html')),
    -- The server's own representation, verbatim (always written by
    -- serde_json, so not re-validated here).
    payload     TEXT NOT NULL DEFAULT 'null'
) STRICT;

CREATE TABLE comments (
    id          INTEGER PRIMARY KEY,
    task_id     INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    remote_id   TEXT NOT NULL,
    author      TEXT,
    text        TEXT NOT NULL,
    created     TEXT,
    modified    TEXT,
    UNIQUE (task_id, remote_id)
) STRICT;

CREATE TABLE history (
    id          INTEGER PRIMARY KEY,
    task_id     INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    remote_id   TEXT,
    at          TEXT,
    actor       TEXT,
    action      TEXT NOT NULL,
    text        TEXT NOT NULL DEFAULT '',
    changes     TEXT NOT NULL DEFAULT 'null' CHECK (json_valid(changes))
) STRICT;
CREATE INDEX history_by_task ON history (task_id);

-- The actions the server last offered this user on a task.
CREATE TABLE task_actions (
    task_id     INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    ordinal     INTEGER NOT NULL,
    action_id   TEXT NOT NULL,
    label       TEXT NOT NULL,
    to_state    TEXT,
    params      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(params)),
    PRIMARY KEY (task_id, ordinal)
) STRICT, WITHOUT ROWID;

-- Free-text search over title, description and comments. The trigram
-- tokenizer matches any substring of three or more characters, which is
-- what Chinese and Japanese need (no word boundaries). Shorter terms are
-- served by a range scan over this index's vocabulary (see replica/search.rs).
-- Contentless: the text already lives in `tasks`, `task_bodies` and `comments`.
CREATE VIRTUAL TABLE task_search USING fts5 (
    title, description, comments,
    content = '', contentless_delete = 1,
    tokenize = 'trigram case_sensitive 0'
);
CREATE VIRTUAL TABLE task_search_terms USING fts5vocab (task_search, 'row');
-- Buffer 64 MiB of new terms before writing a segment: an initial sync of
-- many tasks then writes a few large segments instead of merging hundreds.
INSERT INTO task_search (task_search, rank) VALUES ('hashsize', 67108864);

-- Tasks whose text changed and is not yet in `task_search`. Ingest only
-- records the id here (in the same transaction), and the search index
-- catches up right after, so that a large sync does not pay for indexing
-- inside its write. Searches scan these few rows directly meanwhile, so
-- results are complete at every moment.
CREATE TABLE search_backlog (
    task_id INTEGER PRIMARY KEY,
    -- 1 when the task has never been indexed, so there is no old entry to remove.
    fresh   INTEGER NOT NULL DEFAULT 0 CHECK (fresh IN (0, 1))
) STRICT;

CREATE TABLE outbox (
    -- Queue order; ops of one task are replayed in this order.
    seq          INTEGER PRIMARY KEY,
    -- The op's identity, also sent as the Idempotency-Key where servers take one.
    op_id        TEXT NOT NULL UNIQUE,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    -- NULL for ops not about one task (allocate / claim next).
    task_id      INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('transition', 'comment_add', 'comment_edit', 'comment_delete',
                                               'form_push', 'quick_action', 'allocate', 'create_task')),
    -- The op's parameters, as OpRequest serializes them.
    payload      TEXT NOT NULL CHECK (json_valid(payload)),
    -- The effect the user expects, folded into tasks.pending_effect while pending.
    effect       TEXT CHECK (effect IS NULL OR json_valid(effect)),
    -- The server state the user acted on, for the precondition check before sending.
    base         TEXT CHECK (base IS NULL OR json_valid(base)),
    state        TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'done', 'failed', 'conflict', 'cancelled')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    error_kind   TEXT,
    -- Not before this instant (backoff); NULL: now.
    not_before   TEXT,
    -- What the server answered on success (e.g. the key of a created task).
    result       TEXT CHECK (result IS NULL OR json_valid(result)),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX outbox_by_task ON outbox (task_id, state);
CREATE INDEX outbox_by_state ON outbox (state, account_id);

-- Per-account sync bookkeeping.
CREATE TABLE sync_state (
    account_id    INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    -- Dialect-specific high-water mark of the last incremental pull.
    watermark     TEXT,
    last_full     TEXT,
    last_success  TEXT,
    last_attempt  TEXT,
    last_error    TEXT,
    last_error_kind TEXT
) STRICT;
