-- "Mine, open" and "My groups, unclaimed" filter on the assignee and the
-- group in the inbox's default order. With only the state in this index,
-- SQLite found them through `tasks_by_assignee` / `tasks_by_group` and
-- sorted every match: about 60,000 rows, 0.1–0.2 s, at 100,000 tasks. With
-- the people in it too, the planner can answer them by walking this index
-- alone, in order, and picks that walk when the statistics
-- (`Replica::refresh_statistics`, gathered after full pulls and imports)
-- say the condition matches much of the replica — as "mine" usually does,
-- the replica holding the user's own view.
DROP INDEX tasks_by_deadline;
CREATE INDEX tasks_by_deadline ON tasks ((eff_deadline IS NULL), eff_deadline, (modified IS NULL),
    modified DESC, id, eff_state, eff_assignee, eff_group) WHERE gone = 0;
