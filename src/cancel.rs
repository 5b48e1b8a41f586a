//! Cancellation as a value: the caller makes a [`Cancel`] token, gives clones of it to the work
//! ([`crate::ParseOptions::cancel`], [`crate::RenderOptions::cancel`],
//! [`crate::record::CaptureOptions::cancel`]) and calls [`Cancel::cancel`] to stop it. The long
//! loops (reading a capture, rendering batches of frames, building the report, recording a board)
//! check the token between steps; stopped work returns [`crate::Error::Interrupted`] with its
//! temporary files removed, or, for the recorder, ends with what was received kept on disk.
//!
//! The library never watches signals: the binary turns Ctrl-C into a call to [`Cancel::cancel`].
//!
//! ```
//! let token = memanim::cancel::Cancel::new();
//! let options = memanim::ParseOptions {
//!     cancel: token.clone(),
//!     ..Default::default()
//! };
//! token.cancel();
//! let text = "@@@ 1\nGC: total: 32, used: 0, free: 32\n@@@\n";
//! let stopped = memanim::parse(text.as_bytes(), "run.log", &options);
//! assert!(matches!(stopped, Err(memanim::Error::Interrupted)));
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A shared "stop now" flag: clones share it, and once cancelled a token stays cancelled (make a
/// new one for the next piece of work).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every holder of this token (and of its clones) to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once [`Cancel::cancel`] was called on this token or a clone of it.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Two tokens are equal when they are the same token (one is a clone of the other): options
/// that compare equal stop together.
impl PartialEq for Cancel {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Cancel {}

#[cfg(test)]
mod tests {
    use super::Cancel;

    #[test]
    fn clones_share_the_flag_and_new_tokens_do_not() {
        let a = Cancel::new();
        let b = a.clone();
        let other = Cancel::new();
        assert!(!b.is_cancelled());
        a.cancel();
        assert!(b.is_cancelled() && !other.is_cancelled());
        assert_eq!(a, b);
        assert_ne!(a, other);
    }
}
