CREATE INDEX tasks_project_status ON tasks (project_id, status_id);
DROP INDEX tasks_project_status_created;
DROP INDEX tasks_project_status_position;
