-- Accounts, workspaces, projects and their small records.
--
-- Conventions (see the crate documentation):
-- * Every table keeps `doc`, the full record as JSON, from which reads decode; the other columns
--   are its relational projection, used by constraints, indexes, filters and sorts.
-- * Instants are exact unix nanoseconds in `numeric` columns named `*_ns` (the domain keeps
--   nanoseconds for years 0-9999, beyond both `timestamptz` precision and `bigint` range).
-- * Case-insensitive keys (`email_key`, `name_key`) are folded by the application with Rust's
--   Unicode lower-casing, so that uniqueness equals the reference store's whatever the collation.
-- * Text that sorts uses COLLATE "C": byte order of UTF-8, which is Unicode code point order.
-- * Foreign keys are DEFERRABLE INITIALLY DEFERRED: a commit may write parent and child in any
--   order; they are checked when the transaction commits.

CREATE TABLE users (
    id              uuid PRIMARY KEY,
    email           text NOT NULL,
    email_key       text NOT NULL,
    name            text NOT NULL,
    is_server_admin boolean NOT NULL,
    disabled        boolean NOT NULL,
    created_at_ns   numeric NOT NULL,
    version         bigint NOT NULL,
    doc             jsonb NOT NULL,
    CONSTRAINT users_email_key_unique UNIQUE (email_key)
);

CREATE TABLE tokens (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    name            text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('session', 'personal')),
    secret_hash     text NOT NULL,
    prefix          text NOT NULL,
    scopes          text[] NOT NULL,
    created_at_ns   numeric NOT NULL,
    expires_at_ns   numeric,
    last_used_at_ns numeric,
    revoked_at_ns   numeric,
    version         bigint NOT NULL,
    doc             jsonb NOT NULL,
    CONSTRAINT tokens_secret_hash_unique UNIQUE (secret_hash)
);
CREATE INDEX tokens_user_created ON tokens (user_id, created_at_ns, id);

CREATE TABLE workspaces (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    created_at_ns numeric NOT NULL,
    version       bigint NOT NULL,
    doc           jsonb NOT NULL
);

CREATE TABLE memberships (
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    user_id       uuid NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    role          text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'guest')),
    created_at_ns numeric NOT NULL,
    version       bigint NOT NULL,
    doc           jsonb NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, created_at_ns, workspace_id);

CREATE TABLE projects (
    id            uuid PRIMARY KEY,
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    key           text COLLATE "C" NOT NULL,
    name          text NOT NULL,
    description   text NOT NULL,
    archived      boolean NOT NULL,
    is_template   boolean NOT NULL,
    deleted_at_ns numeric,
    created_at_ns numeric NOT NULL,
    updated_at_ns numeric NOT NULL,
    version       bigint NOT NULL,
    doc           jsonb NOT NULL,
    CONSTRAINT projects_workspace_key_unique UNIQUE (workspace_id, key)
);
CREATE INDEX projects_key ON projects (key);
CREATE INDEX projects_workspace_created ON projects (workspace_id, created_at_ns, id);

CREATE TABLE task_counters (
    project_id  uuid PRIMARY KEY REFERENCES projects (id) DEFERRABLE INITIALLY DEFERRED,
    last_number bigint NOT NULL CHECK (last_number >= 0),
    version     bigint NOT NULL,
    doc         jsonb NOT NULL
);

CREATE TABLE workflows (
    project_id  uuid PRIMARY KEY REFERENCES projects (id) DEFERRABLE INITIALLY DEFERRED,
    statuses    jsonb NOT NULL,
    transitions jsonb,
    version     bigint NOT NULL,
    doc         jsonb NOT NULL
);

CREATE TABLE labels (
    id         uuid PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects (id) DEFERRABLE INITIALLY DEFERRED,
    name       text NOT NULL,
    name_key   text COLLATE "C" NOT NULL,
    color      text,
    version    bigint NOT NULL,
    doc        jsonb NOT NULL,
    CONSTRAINT labels_project_name_unique UNIQUE (project_id, name_key)
);

CREATE TABLE milestones (
    id         uuid PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects (id) DEFERRABLE INITIALLY DEFERRED,
    name       text COLLATE "C" NOT NULL,
    due_on     date,
    closed     boolean NOT NULL,
    version    bigint NOT NULL,
    doc        jsonb NOT NULL
);
CREATE INDEX milestones_project ON milestones (project_id);
