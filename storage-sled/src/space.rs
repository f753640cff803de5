//! Key spaces: the logical trees of the layout, each a range of the one sled tree that holds the
//! whole store.
//!
//! Every key of the store starts with one byte naming its [`Tree`]; a [`Space`] adds that byte
//! to the keys it is given and takes it off the keys it returns, so the rest of the crate reads
//! and writes a space as if it were a tree of its own. Keeping everything in one sled tree
//! makes a group of commits one [`sled::Batch`], which sled applies atomically (also across a crash)
//! without a multi-tree transaction: measured on the commit path, a transaction over the ~17
//! trees a task creation touches cost about 70 % more than the same writes as one batch.

use std::ops::Bound;

use sled::IVec;

use crate::schema::Tree;

/// One logical tree: the keys of the store's sled tree that start with the tree's byte.
#[derive(Clone)]
pub(crate) struct Space {
    tree: sled::Tree,
    prefix: u8,
}

/// An item of a space's iterators: the key without the space's byte, and the value.
pub(crate) type SpaceItem = sled::Result<(IVec, IVec)>;

impl Space {
    /// The space of `t` in `tree`.
    pub(crate) fn new(tree: sled::Tree, t: Tree) -> Space {
        Space {
            tree,
            prefix: t.byte(),
        }
    }

    /// The full sled key of `key` in this space.
    pub(crate) fn full_key(&self, key: &[u8]) -> Vec<u8> {
        full_key(self.prefix, key)
    }

    pub(crate) fn get(&self, key: impl AsRef<[u8]>) -> sled::Result<Option<IVec>> {
        self.tree.get(self.full_key(key.as_ref()))
    }

    /// Writes one key on its own (not part of a commit's batch).
    pub(crate) fn insert(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> sled::Result<Option<IVec>> {
        self.tree
            .insert(self.full_key(key.as_ref()), value.as_ref())
    }

    /// Replaces the value of `key` with `new` (`None` removes it) if it is `old` (`None`:
    /// absent), atomically, on its own (not part of a commit's batch). The inner `Err` holds
    /// the value found instead.
    pub(crate) fn compare_and_swap(
        &self,
        key: impl AsRef<[u8]>,
        old: Option<&[u8]>,
        new: Option<Vec<u8>>,
    ) -> sled::Result<Result<(), sled::CompareAndSwapError>> {
        self.tree
            .compare_and_swap(self.full_key(key.as_ref()), old, new)
    }

    /// Flushes everything written to the store so far (all spaces share one log), on sled's
    /// own threads.
    pub(crate) async fn flush_async(&self) -> sled::Result<usize> {
        self.tree.flush_async().await
    }

    /// The entries whose key is in `(from, to)`, in key order (reversible).
    pub(crate) fn range(
        &self,
        from: Bound<Vec<u8>>,
        to: Bound<Vec<u8>>,
    ) -> impl DoubleEndedIterator<Item = SpaceItem> + Send + 'static {
        let from = match from {
            Bound::Included(k) => Bound::Included(self.full_key(&k)),
            Bound::Excluded(k) => Bound::Excluded(self.full_key(&k)),
            Bound::Unbounded => Bound::Included(vec![self.prefix]),
        };
        let to = match to {
            Bound::Included(k) => Bound::Included(self.full_key(&k)),
            Bound::Excluded(k) => Bound::Excluded(self.full_key(&k)),
            Bound::Unbounded => match self.prefix.checked_add(1) {
                Some(next) => Bound::Excluded(vec![next]),
                None => Bound::Unbounded,
            },
        };
        self.tree
            .range::<Vec<u8>, _>((from, to))
            .map(|item| item.map(|(k, v)| (strip(&k), v)))
    }

    /// The entries whose key starts with `prefix`, in key order.
    pub(crate) fn scan_prefix(
        &self,
        prefix: &[u8],
    ) -> impl DoubleEndedIterator<Item = SpaceItem> + Send + 'static {
        self.tree
            .scan_prefix(self.full_key(prefix))
            .map(|item| item.map(|(k, v)| (strip(&k), v)))
    }

    /// Every entry of the space, in key order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = SpaceItem> + Send + 'static {
        self.range(Bound::Unbounded, Bound::Unbounded)
    }

    /// The entry with the greatest key.
    pub(crate) fn last(&self) -> sled::Result<Option<(IVec, IVec)>> {
        self.iter().next_back().transpose()
    }

    /// Removes every entry of the space (in batches, each atomic).
    pub(crate) fn clear(&self) -> sled::Result<()> {
        loop {
            let mut batch = sled::Batch::default();
            let mut any = false;
            for item in self.iter().take(10_000) {
                let (key, _) = item?;
                batch.remove(self.full_key(&key));
                any = true;
            }
            if !any {
                return Ok(());
            }
            self.tree.apply_batch(batch)?;
        }
    }
}

/// The full sled key of `key` in the space with the byte `prefix`.
pub(crate) fn full_key(prefix: u8, key: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(key.len() + 1);
    full.push(prefix);
    full.extend_from_slice(key);
    full
}

/// A sled key without its space's byte (sled keys of the store are never empty).
fn strip(key: &IVec) -> IVec {
    match key.len() {
        0 => key.clone(),
        n => key.subslice(1, n - 1),
    }
}
