-- The event log. `seq` is gapless and in commit order: a commit takes a transaction-scoped
-- advisory lock and the one-row `event_log` counter at its very end, so the next commit cannot
-- allocate a number before this one is visible (DESIGN §3).

CREATE TABLE event_log (
    id       boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_seq bigint NOT NULL CHECK (last_seq >= 0)
);
INSERT INTO event_log (id, last_seq) VALUES (true, 0);

CREATE TABLE events (
    seq          bigint PRIMARY KEY CHECK (seq > 0),
    at_ns        numeric NOT NULL,
    actor_id     uuid NOT NULL,
    workspace_id uuid NOT NULL,
    project_id   uuid,
    task_id      uuid,
    kind         jsonb NOT NULL
);
CREATE INDEX events_workspace ON events (workspace_id, seq);
CREATE INDEX events_project ON events (project_id, seq) WHERE project_id IS NOT NULL;
CREATE INDEX events_task ON events (task_id, seq) WHERE task_id IS NOT NULL;
