-- tasklane engine, schema version 1.
--
-- One set of human tasks, seen through three dialects:
-- * GEVER: every task, with the GEVER task model and workflow (tasks.state
--   holds the GEVER review state without its "task-state-" prefix);
-- * OMFLOW: flows walk tickets through steps; each visit of a manual step is
--   a task (its id is the step's data_id), the ticket number is data_no;
-- * Hitachi CSCIW: every task is a work item of a case (a ticket or a
--   dossier), its participant a user or a lane, its StateCode derived.
-- Instants are UTC text (2026-11-22T08:30:00Z); dates are 2026-11-30.
-- Files in this directory are append-only.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,          -- the login name
    -- The numeric id OMFLOW shows (assignee_id, create_user_id's row).
    num           INTEGER NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    -- argon2id PHC string; '!' for an account that cannot log in over HTTP
    -- (the in-process local user).
    password_hash TEXT NOT NULL,
    admin         INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    created_at    TEXT NOT NULL
) STRICT;

-- Groups serve as GEVER org units (with an inbox "inbox:<id>") and teams,
-- and as BPMN lanes.
CREATE TABLE groups (
    id            TEXT PRIMARY KEY,
    num           INTEGER NOT NULL UNIQUE,   -- OMFLOW assign_group_id
    display_name  TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('org_unit', 'team', 'lane'))
) STRICT;

CREATE TABLE memberships (
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_id  TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
) STRICT, WITHOUT ROWID;

-- A case groups work items (Hitachi ProcessInstanceID): a dossier or a ticket.
CREATE TABLE cases (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL
) STRICT;

-- GEVER containers tasks are created in.
CREATE TABLE dossiers (
    id        INTEGER PRIMARY KEY,
    case_id   INTEGER NOT NULL UNIQUE REFERENCES cases(id),
    title     TEXT NOT NULL,
    -- Path below the site root, e.g. 'ordnungssystem/fuehrung/dossier-1'.
    path      TEXT NOT NULL UNIQUE,
    org_unit  TEXT REFERENCES groups(id)
) STRICT;

CREATE TABLE flows (
    uuid        TEXT PRIMARY KEY,            -- with dashes, as my-mission rows show it
    num         INTEGER NOT NULL UNIQUE,     -- Hitachi ProcessDefinitionID
    name        TEXT NOT NULL,
    api_path    TEXT NOT NULL UNIQUE,
    api_enabled INTEGER NOT NULL DEFAULT 1 CHECK (api_enabled IN (0, 1)),
    -- The ticket's status text once it is closed.
    closed_status TEXT NOT NULL DEFAULT '已結案',
    -- The dossier the flow's step tasks live in (for the GEVER view).
    dossier_id  INTEGER NOT NULL REFERENCES dossiers(id)
) STRICT;

CREATE TABLE flow_steps (
    flow_uuid     TEXT NOT NULL REFERENCES flows(uuid) ON DELETE CASCADE,
    position      INTEGER NOT NULL,          -- 1, 2, ... in walking order
    stop_uuid     TEXT NOT NULL,             -- e.g. 'FITEM_7'
    name          TEXT NOT NULL,             -- stop_chart_text
    status_text   TEXT NOT NULL,             -- the ticket's status while here
    assignee_user TEXT REFERENCES users(id),
    assignee_group TEXT REFERENCES groups(id),
    -- [{"id":"FORMITM_1","label":"…","type":"text","required":true}, …]
    form          TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(form)),
    -- [{"id":"action1","label":"核准","values":{"FORMITM_1":"…"}}, …] (at most two)
    quick_actions TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(quick_actions)),
    PRIMARY KEY (flow_uuid, position),
    CHECK (assignee_user IS NOT NULL OR assignee_group IS NOT NULL)
) STRICT;

CREATE TABLE tickets (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL UNIQUE REFERENCES cases(id),
    flow_uuid   TEXT NOT NULL REFERENCES flows(uuid),
    data_no     INTEGER NOT NULL,
    title       TEXT,
    -- The step the ticket is at; NULL once closed.
    position    INTEGER,
    closed      INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1)),
    -- Form values so far, {"FORMITM_1": value, …}.
    form_values TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(form_values)),
    created_by  TEXT NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (flow_uuid, data_no)
) STRICT;

CREATE TABLE tasks (
    -- Never reused: it is the GEVER oguid number, the OMFLOW data_id and the
    -- Hitachi work item ID.
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    title              TEXT NOT NULL,
    text               TEXT NOT NULL DEFAULT '',
    task_type          TEXT NOT NULL CHECK (task_type IN ('direct-execution', 'information', 'comment',
                                                          'approval', 'correction', 'report')),
    state              TEXT NOT NULL CHECK (state IN ('open', 'in-progress', 'resolved', 'rejected',
                                                      'planned', 'tested-and-closed', 'cancelled', 'skipped')),
    -- Responsible: a user, or a group (team, org unit inbox, lane), or both
    -- (a user acting for an org unit).
    responsible_user   TEXT REFERENCES users(id),
    responsible_group  TEXT REFERENCES groups(id),
    -- GEVER responsible_client: the org unit the responsible acts for.
    responsible_client TEXT REFERENCES groups(id),
    issuer             TEXT NOT NULL REFERENCES users(id),
    issuing_org_unit   TEXT REFERENCES groups(id),
    deadline           TEXT,
    priority           INTEGER NOT NULL DEFAULT 0,
    is_private         INTEGER NOT NULL DEFAULT 0 CHECK (is_private IN (0, 1)),
    created            TEXT NOT NULL,
    modified           TEXT NOT NULL,
    -- Hitachi StartDate / ClosedDate.
    started_at         TEXT,
    closed_at          TEXT,
    parent_id          INTEGER REFERENCES tasks(id),
    -- Set on a main task whose subtasks form a process.
    sequence_type      TEXT CHECK (sequence_type IN ('sequential', 'parallel')),
    position           INTEGER,
    dossier_id         INTEGER NOT NULL REFERENCES dossiers(id),
    -- Flow step tasks: the ticket and the step visited.
    ticket_id          INTEGER REFERENCES tickets(id),
    step_position      INTEGER,
    -- Documents related to the task (GEVER relatedItems), as a JSON array of UIDs.
    related_items      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(related_items)),
    CHECK (responsible_user IS NOT NULL OR responsible_group IS NOT NULL)
) STRICT;
CREATE INDEX tasks_by_user ON tasks (responsible_user, state);
CREATE INDEX tasks_by_group ON tasks (responsible_group, state);
CREATE INDEX tasks_by_issuer ON tasks (issuer);
CREATE INDEX tasks_by_parent ON tasks (parent_id, position);
CREATE INDEX tasks_by_ticket ON tasks (ticket_id);
CREATE INDEX tasks_by_modified ON tasks (modified);

-- The task's history: transitions (with their field changes) and comments.
CREATE TABLE responses (
    -- GEVER response_id: creation time in microseconds since the epoch,
    -- made unique by the engine.
    id              INTEGER PRIMARY KEY,
    task_id         INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    response_type   TEXT NOT NULL CHECK (response_type IN ('default', 'comment', 'comment_removed')),
    transition      TEXT NOT NULL,
    text            TEXT NOT NULL DEFAULT '',
    creator         TEXT NOT NULL,
    created         TEXT NOT NULL,
    modified        TEXT,
    modifier        TEXT,
    -- [{"field_id","field_title","before","after"}]
    changes         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(changes)),
    additional_data TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(additional_data))
) STRICT;
CREATE INDEX responses_by_task ON responses (task_id, id);

-- GEVER badge notifications per user.
CREATE TABLE notifications (
    id        INTEGER PRIMARY KEY,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    task_id   INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,       -- activity: task-added, task-transition-reassign, task-commented, …
    actor     TEXT NOT NULL,
    summary   TEXT NOT NULL DEFAULT '',
    created   TEXT NOT NULL,
    read      INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1))
) STRICT;
CREATE INDEX notifications_by_user ON notifications (user_id, read, id);

-- Idempotency-Key (tasklane's own extension): a mutating request carrying a
-- key is applied at most once per key and user; a repeat gets the stored
-- response. Written in the same transaction as the change it records.
CREATE TABLE idempotency (
    user_id     TEXT NOT NULL,
    key         TEXT NOT NULL,
    -- Method, path and a hash of the body: a key reused for a different
    -- request is refused instead of answered with someone else's result.
    fingerprint TEXT NOT NULL,
    status      INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body        BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
) STRICT, WITHOUT ROWID;
-- Records expire (idempotency::RETENTION); this finds the old ones.
CREATE INDEX idempotency_created ON idempotency (created_at);

-- Settings of this engine instance (site root, time zones, secret for tokens).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Every task as a Hitachi CSCIW work item. StateCode, as this engine uses
-- it (the vendor documents only i, j, e and f; the closed letters are
-- tasklane's choice): i planned; j ready — open and waiting in a lane, no
-- person yet; f performing — a person has it (open or in progress);
-- o completed (resolved or closed); s skipped; u cancelled or rejected.
-- Property names are the WorkItem's, so Filter and Sort can name them.
CREATE VIEW work_items AS
SELECT
    t.id                                          AS "ActivityInstanceID",
    t.closed_at                                   AS "ClosedDate",
    t.created                                     AS "CreationDate",
    t.deadline                                    AS "Deadline",
    t.id                                          AS "ID",
    t.title                                       AS "Name",
    coalesce(t.responsible_user, t.responsible_group) AS "Participant",
    t.priority                                    AS "Priority",
    coalesce(f.num, 0)                            AS "ProcessDefinitionID",
    c.id                                          AS "ProcessInstanceID",
    c.name                                        AS "ProcessInstanceName",
    t.started_at                                  AS "StartDate",
    CASE
        WHEN t.state = 'planned' THEN 'i'
        WHEN t.state = 'open' AND t.responsible_user IS NULL THEN 'j'
        WHEN t.state IN ('open', 'in-progress') THEN 'f'
        WHEN t.state IN ('resolved', 'tested-and-closed') THEN 'o'
        WHEN t.state = 'skipped' THEN 's'
        ELSE 'u'
    END                                           AS "StateCode",
    CASE
        WHEN t.ticket_id IS NOT NULL THEN f.num * 100 + t.step_position
        ELSE CASE t.task_type WHEN 'direct-execution' THEN 1 WHEN 'information' THEN 2
             WHEN 'comment' THEN 3 WHEN 'approval' THEN 4 WHEN 'correction' THEN 5 ELSE 6 END
    END                                           AS "WorkDefinitionID",
    coalesce(s.name, t.task_type)                 AS "WorkDefinitionName",
    '0'                                           AS "WorkTypeCode",
    t.responsible_user                            AS user_id,
    t.responsible_group                           AS lane,
    t.issuer                                      AS issuer
FROM tasks t
JOIN dossiers d ON d.id = t.dossier_id
LEFT JOIN tickets k ON k.id = t.ticket_id
LEFT JOIN flows f ON f.uuid = k.flow_uuid
LEFT JOIN flow_steps s ON s.flow_uuid = k.flow_uuid AND s.position = t.step_position
JOIN cases c ON c.id = coalesce(k.case_id, d.case_id);

-- Flow step tasks as OMFLOW my-mission rows (before the user filter).
-- Instants are UTC here; the dialect shows them in the server's time zone.
CREATE VIEW missions AS
SELECT
    t.id                                AS id,
    f.uuid                              AS flow_uuid,
    f.name                              AS flow_name,
    CASE WHEN k.closed THEN f.closed_status ELSE s.status_text END AS status,
    ''                                  AS level,
    k.title                             AS title,
    k.data_no                           AS data_no,
    t.id                                AS data_id,
    CASE WHEN t.state IN ('open', 'in-progress') AND k.closed = 0 THEN 0 ELSE 1 END AS history,
    s.stop_uuid                         AS stop_uuid,
    s.name                              AS stop_chart_text,
    k.created_by                        AS create_user_id,
    (SELECT r.creator FROM responses r WHERE r.task_id = t.id AND r.response_type = 'default'
     ORDER BY r.id DESC LIMIT 1)        AS update_user_id,
    k.created_at                        AS ticket_createtime,
    t.created                           AS createtime,
    t.modified                          AS updatetime,
    (SELECT num FROM users WHERE id = t.responsible_user)  AS assignee_id,
    (SELECT num FROM groups WHERE id = t.responsible_group) AS assign_group_id,
    coalesce(json_extract(s.quick_actions, '$[0].label'), '') || ',' ||
        coalesce(json_extract(s.quick_actions, '$[1].label'), '') AS action,
    0                                   AS attachment,
    k.closed                            AS closed,
    f.api_path                          AS api_path,
    t.responsible_user                  AS responsible_user,
    t.responsible_group                 AS responsible_group
FROM tasks t
JOIN tickets k ON k.id = t.ticket_id
JOIN flows f ON f.uuid = k.flow_uuid
JOIN flow_steps s ON s.flow_uuid = k.flow_uuid AND s.position = t.step_position;
