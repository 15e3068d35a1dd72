//! Time sources: the real monotonic clock and a manual clock for tests.
//!
//! Time is a [`Duration`] since the clock's own epoch, so a manual clock can
//! start at zero and tests can state deadlines as plain numbers.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

/// Where the reactor reads the time.
///
/// Mirrors the `seconds()` half of `twisted.internet.interfaces.IReactorTime`;
/// the scheduling half is [`Reactor::call_later`](super::Reactor::call_later).
pub trait Clock {
    /// The current time, as a duration since this clock's epoch. Never decreases.
    fn now(&self) -> Duration;

    /// Called once by [`Reactor::with_clock`](super::Reactor::with_clock)
    /// with the reactor's "run what is due" step, which returns how many
    /// calls it ran. A clock that jumps ([`ManualClock`]) keeps it and calls
    /// it after every jump, so that moving time runs what fell due, as
    /// `task.Clock.advance` does; a clock that flows (the real one) has no
    /// jumps and ignores it (the loop polls until the next deadline).
    fn on_advance(&self, run_due: Weak<dyn Fn() -> usize>) {
        let _ = run_due;
    }
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
/// it by hand instead of sleeping, and each advance runs the calls of the
/// reactors built on it ([`Reactor::with_clock`](super::Reactor::with_clock))
/// that fell due. Clones share the same time.
#[derive(Clone, Default)]
pub struct ManualClock {
    /// Shared by every clone, so the test and the reactor see one time.
    now: Rc<Cell<Duration>>,
    /// The "run what is due" step of each reactor on this clock; weak, so a
    /// clock kept by a test does not keep a dropped reactor alive.
    reactors: Rc<RefCell<Vec<RunDue>>>,
}

impl std::fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now.get())
            .finish()
    }
}

/// A reactor's "run what is due" step, held weakly (see [`Clock::on_advance`]).
type RunDue = Weak<dyn Fn() -> usize>;

/// Most rounds of due calls one [`ManualClock::advance`] runs: a call that
/// keeps rescheduling itself with no delay would otherwise never let it
/// return (Twisted's `task.Clock.advance` loops for ever on one).
const MAX_ROUNDS: usize = 10_000;

impl ManualClock {
    /// A clock at time zero. Mirrors `task.Clock()`.
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    /// Moves time forward by `amount`, then runs every call that is due,
    /// in deadline then scheduling order, and flushes what they wrote;
    /// returns how many ran. Mirrors `task.Clock.advance`: calls that the
    /// running calls schedule for a time already reached run too (in a
    /// later round, as on the loop). `advance(Duration::ZERO)` runs what is
    /// due without moving time.
    pub fn advance(&self, amount: Duration) -> usize {
        self.now.set(self.now.get().saturating_add(amount));
        let mut ran = 0;
        for _ in 0..MAX_ROUNDS {
            // Upgrade first: a call may build or drop a reactor on this clock.
            let reactors: Vec<Rc<dyn Fn() -> usize>> = {
                let mut reactors = self.reactors.borrow_mut();
                reactors.retain(|reactor| reactor.strong_count() > 0);
                reactors.iter().filter_map(Weak::upgrade).collect()
            };
            let round: usize = reactors.iter().map(|run_due| run_due()).sum();
            if round == 0 {
                return ran;
            }
            ran += round;
        }
        log::warn!("ManualClock::advance: calls still due after {MAX_ROUNDS} rounds");
        ran
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        self.now.get()
    }

    fn on_advance(&self, run_due: Weak<dyn Fn() -> usize>) {
        self.reactors.borrow_mut().push(run_due);
    }
}
