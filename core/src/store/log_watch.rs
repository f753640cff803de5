//! The sending side of [`Store::log_watch`](super::Store::log_watch), kept by adapters.

use tokio::sync::watch;

/// The sending side of a store's log watch: the highest `seq` the store knows to be visible in
/// its log, which only ever moves forward.
///
/// An adapter keeps one per open store (shared by all its handles), calls
/// [`LogWatchSender::advance`] whenever it learns that the log has grown (a commit of its own
/// became visible, a notification or a poll from another process), and answers
/// [`Store::log_watch`](super::Store::log_watch) with [`LogWatchSender::subscribe`]. It needs no
/// async runtime. Cloning it gives another sender on the same watch.
#[derive(Clone, Debug)]
pub struct LogWatchSender {
    sender: watch::Sender<u64>,
}

impl LogWatchSender {
    /// A watch starting at `seq`, which must be visible in the log already (0 for "nothing
    /// known yet").
    pub fn new(seq: u64) -> Self {
        Self {
            sender: watch::Sender::new(seq),
        }
    }

    /// Moves the watch to `seq` when that is higher than its value, waking every receiver;
    /// a lower or equal `seq` changes nothing. The caller guarantees that every event up to
    /// `seq` is visible to readers of the log. Returns whether the value moved.
    pub fn advance(&self, seq: u64) -> bool {
        self.sender.send_if_modified(|current| {
            if seq > *current {
                *current = seq;
                true
            } else {
                false
            }
        })
    }

    /// The value now.
    pub fn current(&self) -> u64 {
        *self.sender.borrow()
    }

    /// A new receiver, which starts at the current value (seen as already observed).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::LogWatchSender;

    #[test]
    fn the_value_only_moves_forward() {
        let sender = LogWatchSender::new(3);
        let receiver = sender.subscribe();
        assert!(!sender.advance(2), "a lower seq is ignored");
        assert!(!sender.advance(3), "an equal seq is ignored");
        assert_eq!(*receiver.borrow(), 3);
        assert!(sender.advance(7));
        assert_eq!(*receiver.borrow(), 7);
        assert_eq!(sender.current(), 7);
    }
}
