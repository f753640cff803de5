-- Board columns and filtered lists name one status and sort by position (the board) or by
-- creation (the default order). With the status after the project in the index, a page of such a
-- list is read in order from the index instead of sorting every task of the status; the old
-- (project_id, status_id) index is a prefix of both and goes.
CREATE INDEX tasks_project_status_position ON tasks (project_id, status_id, position, id);
CREATE INDEX tasks_project_status_created ON tasks (project_id, status_id, created_at_ns, id);
DROP INDEX tasks_project_status;
