-- Idempotency keys (the `Store::*_idempotency_key*` methods): the first request with a key
-- claims it, and its answer is kept so that a retry arriving at any server process sharing the
-- database gets the same answer.
--
-- * `key` is the transport's 32-byte digest of the request's identity; `fingerprint` and
--   `answer` are opaque bytes.
-- * While the first request runs, `answer` is NULL and `owner_id` names the attempt that
--   claimed the key; once completed, `answer` holds the kept answer.
-- * `expires_ns` is the entry's expiry instant in exact unix nanoseconds (the lease's end while
--   running, the answer's retention end once completed): from then on the key may be claimed
--   again, and a purge removes it (through the index).

CREATE TABLE idempotency_keys (
    key         bytea PRIMARY KEY CHECK (octet_length(key) = 32),
    fingerprint bytea NOT NULL,
    owner_id    uuid NOT NULL,
    answer      bytea,
    expires_ns  numeric NOT NULL
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_ns);
