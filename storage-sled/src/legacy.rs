//! The layout of schema versions 1 and 2, which kept each logical tree in a sled tree of its own
//! (named by [`Tree::name`]) with the version in the `meta` tree: recognising it, and copying
//! its records and log into the spaces of the current layout (the indexes are then rebuilt).

use crate::error::SledError;
use crate::schema::{self, meta, Tree};
use crate::store::{version_of, Inner};

/// Why the old layout's version could not be read.
pub(crate) enum VersionError {
    Sled(sled::Error),
    /// The marker is not a big-endian u32.
    Unreadable(Vec<u8>),
}

impl From<sled::Error> for VersionError {
    fn from(e: sled::Error) -> Self {
        VersionError::Sled(e)
    }
}

fn exists(db: &sled::Db, name: &str) -> bool {
    db.tree_names()
        .iter()
        .any(|n| n.as_ref() == name.as_bytes())
}

/// The schema version recorded by the old layout, if the database has one.
pub(crate) fn version(db: &sled::Db) -> Result<Option<u32>, VersionError> {
    if !exists(db, Tree::Meta.name()) {
        return Ok(None);
    }
    match db.open_tree(Tree::Meta.name())?.get(meta::SCHEMA_VERSION)? {
        Some(bytes) => match version_of(&bytes) {
            Some(v) => Ok(Some(v)),
            None => Err(VersionError::Unreadable(bytes.to_vec())),
        },
        None => Ok(None),
    }
}

/// Copies every record tree and the log of the old layout into their spaces, in batches.
pub(crate) fn copy_records_and_log(db: &sled::Db, inner: &Inner) -> Result<(), SledError> {
    for t in schema::record_trees().chain([Tree::Events]) {
        if !exists(db, t.name()) {
            continue;
        }
        let space = inner.tree(t);
        let mut batch = sled::Batch::default();
        let mut len = 0;
        for item in db.open_tree(t.name())?.iter() {
            let (key, value) = item?;
            batch.insert(space.full_key(&key), value);
            len += 1;
            if len == 10_000 {
                inner.apply_raw_batch(std::mem::take(&mut batch))?;
                len = 0;
            }
        }
        inner.apply_raw_batch(batch)?;
    }
    Ok(())
}

/// Drops the old layout's trees (after the current layout's marker is durable).
pub(crate) fn drop_trees(db: &sled::Db) -> Result<(), SledError> {
    let mut dropped = false;
    for t in Tree::ALL {
        if exists(db, t.name()) {
            db.drop_tree(t.name())?;
            dropped = true;
        }
    }
    if dropped {
        db.flush()?;
    }
    Ok(())
}
