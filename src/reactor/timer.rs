//! Scheduled calls: `call_later` and the `DelayedCall` handle.
//!
//! Pending calls live in an ordered map keyed by `(deadline, sequence)`:
//! the next deadline is its first key, calls due at the same instant run in
//! the order they were scheduled, and cancel/reset remove a key in O(log n)
//! (no cancelled entries linger, however often timers are reset).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::rc::{Rc, Weak};
use std::time::Duration;

use super::clock::Clock;
use super::unhandled::{UnhandledErrors, guarded};

/// A pending call's place in the queue: deadline first, then scheduling order.
type TimerKey = (Duration, u64);

/// The boxed callback of a scheduled call.
type Callback = Box<dyn FnOnce()>;

/// Why a [`DelayedCall`] method refused.
///
/// Mirrors `twisted.internet.error.AlreadyCalled` and `AlreadyCancelled`:
/// acting on a call that is no longer pending is a bug in the caller, so it
/// is reported rather than silently ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerError {
    /// The call already ran.
    AlreadyCalled,
    /// The call was already cancelled.
    AlreadyCancelled,
}

impl fmt::Display for TimerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimerError::AlreadyCalled => write!(f, "the delayed call already ran"),
            TimerError::AlreadyCancelled => write!(f, "the delayed call was already cancelled"),
        }
    }
}

impl std::error::Error for TimerError {}

/// Where a delayed call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Pending(TimerKey),
    Called,
    Cancelled,
}

/// The shared state behind a [`DelayedCall`] handle.
struct Entry {
    /// The queue it belongs to; weak so a handle kept by a protocol does not
    /// keep a dropped reactor's timers alive.
    timers: Weak<Timers>,
    phase: Cell<Phase>,
    /// Taken when the call runs or is cancelled, which frees its captures.
    callback: RefCell<Option<Callback>>,
}

/// A handle to a call scheduled with
/// [`Reactor::call_later`](super::Reactor::call_later).
///
/// Mirrors `twisted.internet.base.DelayedCall` (`cancel`, `reset`, `delay`,
/// `active`, `getTime`). Dropping the handle does not cancel the call.
#[derive(Clone)]
pub struct DelayedCall {
    /// Shared with the timer queue while the call is pending.
    entry: Rc<Entry>,
}

impl fmt::Debug for DelayedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DelayedCall")
            .field("phase", &self.entry.phase.get())
            .finish()
    }
}

impl DelayedCall {
    /// Whether the call is still pending. Mirrors `DelayedCall.active`.
    pub fn active(&self) -> bool {
        matches!(self.entry.phase.get(), Phase::Pending(_))
    }

    /// When the call is due (clock time), while it is pending. Mirrors `DelayedCall.getTime`.
    pub fn time(&self) -> Option<Duration> {
        match self.entry.phase.get() {
            Phase::Pending((deadline, _)) => Some(deadline),
            _ => None,
        }
    }

    /// Cancels the pending call; its callback is dropped unrun.
    /// Mirrors `DelayedCall.cancel`, which raises if the call is not pending.
    pub fn cancel(&self) -> Result<(), TimerError> {
        let key = self.pending_key()?;
        if let Some(timers) = self.entry.timers.upgrade() {
            timers.queue.borrow_mut().remove(&key);
        }
        self.entry.phase.set(Phase::Cancelled);
        self.entry.callback.borrow_mut().take();
        Ok(())
    }

    /// Reschedules the pending call to run `delay` from now.
    /// Mirrors `DelayedCall.reset`.
    pub fn reset(&self, delay: Duration) -> Result<(), TimerError> {
        let timers = self.timers_of_pending()?;
        let deadline = timers.clock.now().saturating_add(delay);
        self.move_to(&timers, deadline);
        Ok(())
    }

    /// Postpones the pending call by `by`. Mirrors `DelayedCall.delay`.
    pub fn delay(&self, by: Duration) -> Result<(), TimerError> {
        let timers = self.timers_of_pending()?;
        let (deadline, _) = self.pending_key()?;
        self.move_to(&timers, deadline.saturating_add(by));
        Ok(())
    }

    fn pending_key(&self) -> Result<TimerKey, TimerError> {
        match self.entry.phase.get() {
            Phase::Pending(key) => Ok(key),
            Phase::Called => Err(TimerError::AlreadyCalled),
            Phase::Cancelled => Err(TimerError::AlreadyCancelled),
        }
    }

    fn timers_of_pending(&self) -> Result<Rc<Timers>, TimerError> {
        self.pending_key()?;
        // A pending call whose reactor is gone can never run: treat it as cancelled.
        self.entry
            .timers
            .upgrade()
            .ok_or(TimerError::AlreadyCancelled)
    }

    fn move_to(&self, timers: &Timers, deadline: Duration) {
        let mut queue = timers.queue.borrow_mut();
        if let Phase::Pending(old) = self.entry.phase.get() {
            queue.remove(&old);
        }
        let key = (deadline, timers.next_sequence());
        queue.insert(key, self.entry.clone());
        self.entry.phase.set(Phase::Pending(key));
    }
}

/// The reactor's pending calls, ordered by deadline then scheduling order.
pub(crate) struct Timers {
    /// The time source deadlines are measured against.
    pub(crate) clock: Rc<dyn Clock>,
    /// Pending calls by `(deadline, sequence)`.
    queue: RefCell<BTreeMap<TimerKey, Rc<Entry>>>,
    /// Next sequence number: orders calls with equal deadlines.
    sequence: Cell<u64>,
}

impl Timers {
    pub(crate) fn new(clock: Rc<dyn Clock>) -> Rc<Timers> {
        Rc::new(Timers {
            clock,
            queue: RefCell::new(BTreeMap::new()),
            sequence: Cell::new(0),
        })
    }

    fn next_sequence(&self) -> u64 {
        let sequence = self.sequence.get();
        self.sequence.set(sequence + 1);
        sequence
    }

    /// Schedules `callback` to run `delay` from now.
    pub(crate) fn call_later(self: &Rc<Self>, delay: Duration, callback: Callback) -> DelayedCall {
        // A delay too large to represent means "never", not a panic.
        let key = (self.clock.now().saturating_add(delay), self.next_sequence());
        let entry = Rc::new(Entry {
            timers: Rc::downgrade(self),
            phase: Cell::new(Phase::Pending(key)),
            callback: RefCell::new(Some(callback)),
        });
        self.queue.borrow_mut().insert(key, entry.clone());
        DelayedCall { entry }
    }

    /// The earliest deadline, if any call is pending.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        self.queue.borrow().first_key_value().map(|(key, _)| key.0)
    }

    /// Cancels every pending call (the loop has ended).
    pub(crate) fn clear(&self) {
        let pending = std::mem::take(&mut *self.queue.borrow_mut());
        for entry in pending.into_values() {
            entry.phase.set(Phase::Cancelled);
            // Bind first: dropping the callback may drop other handles.
            let callback = entry.callback.borrow_mut().take();
            drop(callback);
        }
    }

    /// The number of pending calls.
    pub(crate) fn pending(&self) -> usize {
        self.queue.borrow().len()
    }

    /// Runs every call due now, in deadline then scheduling order. Calls
    /// scheduled while this runs wait for the next round, even with a zero
    /// delay (as Twisted's `runUntilCurrent` does), so a call that
    /// reschedules itself cannot starve the loop. Returns how many ran.
    pub(crate) fn run_due(&self, unhandled: &UnhandledErrors) -> usize {
        let now = self.clock.now();
        let first_new = self.sequence.get();
        let mut ran = 0;
        loop {
            let entry = {
                let mut queue = self.queue.borrow_mut();
                match queue.first_entry() {
                    Some(first) if first.key().0 <= now && first.key().1 < first_new => {
                        first.remove()
                    }
                    _ => break,
                }
            };
            entry.phase.set(Phase::Called);
            // Bind first: the RefCell borrow must end before the callback runs,
            // since the callback may touch its own handle.
            let callback = entry.callback.borrow_mut().take();
            if let Some(callback) = callback {
                // A panicking timed call is logged; the others still run.
                guarded("a timed call", unhandled, callback);
                ran += 1;
            }
        }
        ran
    }
}
