-- tasklane replica, schema version 6.
--
-- The same constraints, checked without a list. SQLite checks
-- `x IN ('a', 'b', 'c', ...)` by building a temporary B-tree of the list,
-- and in a CHECK it does so for every row written: for every task a sync
-- merges and every op queued or marked done (opening and closing them was
-- about 7 % of a first sync's merging). A chain of comparisons
-- accepts exactly the same values at no such cost.
--
-- SQLite cannot alter a constraint, and rebuilding `tasks` would copy every
-- task (and with foreign keys on, which migrations run with, dropping the
-- old table would delete every task's comments, body, history and actions
-- and detach its ops). Its documentation gives
-- this procedure for changing constraints that every stored row already
-- satisfies: edit the table's SQL in the schema, then bump the schema
-- version so that every connection reads it again (done with this
-- migration, in replica/schema.rs, which also checks that each
-- replacement below found its text).
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(sql,
    'CHECK (state IN (''open'', ''in_progress'', ''resolved'', ''closed'',
                                                 ''cancelled'', ''rejected'', ''planned'', ''skipped'', ''other''))',
    'CHECK (state = ''open'' OR state = ''in_progress'' OR state = ''resolved''
                                 OR state = ''closed'' OR state = ''cancelled'' OR state = ''rejected''
                                 OR state = ''planned'' OR state = ''skipped'' OR state = ''other'')')
WHERE type = 'table' AND name = 'tasks';

UPDATE sqlite_schema
SET sql = replace(replace(sql,
    'CHECK (kind IN (''transition'', ''comment_add'', ''comment_edit'', ''comment_delete'',
                                               ''form_push'', ''quick_action'', ''allocate'', ''create_task''))',
    'CHECK (kind = ''transition'' OR kind = ''comment_add'' OR kind = ''comment_edit''
                                 OR kind = ''comment_delete'' OR kind = ''form_push'' OR kind = ''quick_action''
                                 OR kind = ''allocate'' OR kind = ''create_task'')'),
    'CHECK (state IN (''pending'', ''sending'', ''done'', ''failed'', ''conflict'', ''cancelled''))',
    'CHECK (state = ''pending'' OR state = ''sending'' OR state = ''done'' OR state = ''failed''
                                 OR state = ''conflict'' OR state = ''cancelled'')')
WHERE type = 'table' AND name = 'outbox';

PRAGMA writable_schema = OFF;
