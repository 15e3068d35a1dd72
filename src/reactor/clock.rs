//! Time sources: the real monotonic clock and a manual clock for tests.
//!
//! Time is a [`Duration`] since the clock's own epoch, so a manual clock can
//! start at zero and tests can state deadlines as plain numbers.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Where the reactor reads the time.
///
/// Mirrors the `seconds()` half of `twisted.internet.interfaces.IReactorTime`;
/// the scheduling half is [`Reactor::call_later`](super::Reactor::call_later).
pub trait Clock {
    /// The current time, as a duration since this clock's epoch. Never decreases.
    fn now(&self) -> Duration;
}

/// The real monotonic clock (`Instant`), with its epoch at creation.
///
/// Mirrors the reactor's own clock in Twisted (`reactor.seconds()`).
#[derive(Debug, Clone, Copy)]
pub struct RealClock {
    /// The instant that counts as time zero.
    epoch: Instant,
}

impl RealClock {
    /// A clock whose time zero is now. Twisted's reactor reads the same kind
    /// of monotonic time for `reactor.seconds()`.
    pub fn new() -> RealClock {
        RealClock {
            epoch: Instant::now(),
        }
    }
}

impl Default for RealClock {
    fn default() -> RealClock {
        RealClock::new()
    }
}

impl Clock for RealClock {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }
}

/// A clock that moves only when a test moves it.
///
/// Mirrors `twisted.internet.task.Clock`: tests [`advance`](ManualClock::advance)
/// it by hand instead of sleeping, then let the reactor run the timers that
/// became due with [`Reactor::run_due_timers`](super::Reactor::run_due_timers)
/// (the two together are `task.Clock.advance`). Clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    /// Shared by every clone, so the test and the reactor see one time.
    now: Rc<Cell<Duration>>,
}

impl ManualClock {
    /// A clock at time zero. Mirrors `task.Clock()`.
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    /// Moves time forward by `amount`. Mirrors `task.Clock.advance` (without
    /// running timers: the reactor does that).
    pub fn advance(&self, amount: Duration) {
        self.now.set(self.now.get() + amount);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        self.now.get()
    }
}
