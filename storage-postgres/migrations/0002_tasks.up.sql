-- Tasks, dependencies and comments. Every field of the filter language has a column and the
-- common ones an index; lists are filtered and sorted in SQL. Every task query names its
-- project(s), so the sort indexes lead with project_id.

CREATE TABLE tasks (
    id               uuid PRIMARY KEY,
    workspace_id     uuid NOT NULL,
    project_id       uuid NOT NULL REFERENCES projects (id) DEFERRABLE INITIALLY DEFERRED,
    number           bigint NOT NULL CHECK (number >= 0),
    title            text COLLATE "C" NOT NULL,
    -- Title and description folded with Rust's Unicode lower-casing, for `Text` filters.
    title_fold       text NOT NULL,
    description      text NOT NULL,
    description_fold text NOT NULL,
    status_id        uuid NOT NULL,
    -- Priority rank: 0 (none) to 4 (urgent).
    priority         smallint NOT NULL CHECK (priority BETWEEN 0 AND 4),
    assignee_ids     uuid[] NOT NULL,
    reporter_id      uuid NOT NULL,
    label_ids        uuid[] NOT NULL,
    milestone_id     uuid,
    due_at_ns        numeric,
    start_at_ns      numeric,
    estimate_seconds bigint,
    parent_id        uuid REFERENCES tasks (id) DEFERRABLE INITIALLY DEFERRED,
    position         text COLLATE "C" NOT NULL,
    completed_at_ns  numeric,
    started_at_ns    numeric,
    deleted_at_ns    numeric,
    created_at_ns    numeric NOT NULL,
    updated_at_ns    numeric NOT NULL,
    version          bigint NOT NULL,
    doc              jsonb NOT NULL,
    CONSTRAINT tasks_project_number_unique UNIQUE (project_id, number)
);
CREATE INDEX tasks_project_status ON tasks (project_id, status_id);
CREATE INDEX tasks_project_created ON tasks (project_id, created_at_ns, id);
CREATE INDEX tasks_project_updated ON tasks (project_id, updated_at_ns, id);
CREATE INDEX tasks_project_due ON tasks (project_id, due_at_ns, id);
CREATE INDEX tasks_project_priority ON tasks (project_id, priority, id);
CREATE INDEX tasks_project_position ON tasks (project_id, position, id);
CREATE INDEX tasks_parent ON tasks (parent_id, number) WHERE parent_id IS NOT NULL;
CREATE INDEX tasks_milestone ON tasks (milestone_id) WHERE milestone_id IS NOT NULL;
CREATE INDEX tasks_assignees ON tasks USING gin (assignee_ids);
CREATE INDEX tasks_labels ON tasks USING gin (label_ids);

CREATE TABLE dependencies (
    task_id       uuid NOT NULL REFERENCES tasks (id) DEFERRABLE INITIALLY DEFERRED,
    blocker_id    uuid NOT NULL REFERENCES tasks (id) DEFERRABLE INITIALLY DEFERRED,
    workspace_id  uuid NOT NULL,
    created_at_ns numeric NOT NULL,
    version       bigint NOT NULL,
    doc           jsonb NOT NULL,
    PRIMARY KEY (task_id, blocker_id)
);
CREATE INDEX dependencies_blocker ON dependencies (blocker_id);

CREATE TABLE comments (
    id            uuid PRIMARY KEY,
    task_id       uuid NOT NULL REFERENCES tasks (id) DEFERRABLE INITIALLY DEFERRED,
    workspace_id  uuid NOT NULL,
    author_id     uuid NOT NULL,
    parent_id     uuid REFERENCES comments (id) DEFERRABLE INITIALLY DEFERRED,
    body          text NOT NULL,
    mentions      uuid[] NOT NULL,
    revisions     jsonb NOT NULL,
    deleted_at_ns numeric,
    created_at_ns numeric NOT NULL,
    updated_at_ns numeric NOT NULL,
    version       bigint NOT NULL,
    doc           jsonb NOT NULL
);
CREATE INDEX comments_task_created ON comments (task_id, created_at_ns, id);
