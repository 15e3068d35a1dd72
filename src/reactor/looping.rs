//! A call repeated at a fixed interval: `LoopingCall`.
//!
//! Mirrors `twisted.internet.task.LoopingCall`. Runs are kept on the grid
//! `start + k * interval`: each next run is scheduled from the start time,
//! not from the last run, so the loop does not drift however late a run
//! was. A run that comes so late that grid points went by skips them (one
//! run, not a burst to catch up); [`LoopingCall::start_with_count`] tells
//! the callback how many points went by, as `LoopingCall.withCount` does.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};
use std::time::Duration;

use super::Reactor;
use super::timer::{DelayedCall, Timers};

/// The state shared by a [`LoopingCall`] handle and its pending run.
struct Looping {
    /// The reactor's timers; weak, so a loop never keeps a reactor alive.
    timers: Weak<Timers>,
    /// Time of `start`: the origin of the grid of runs.
    start: Duration,
    interval: Duration,
    /// Cleared by `stop` (or a panic in the callback).
    running: Cell<bool>,
    /// The next run, while one is scheduled.
    call: RefCell<Option<DelayedCall>>,
    /// The grid point (`k`) of the last run; `None` before the first.
    last_point: Cell<Option<u128>>,
    /// Told how many grid points went by since the last run.
    callback: RefCell<Box<dyn FnMut(u64)>>,
}

/// A call repeated every `interval` on the reactor.
///
/// Mirrors `twisted.internet.task.LoopingCall` (`start(interval, now)`,
/// `stop`, `running`). A clonable handle; dropping it does not stop the
/// loop (the reactor keeps the pending run, as Twisted's does).
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use callcenter::reactor::{LoopingCall, ManualClock, Reactor};
///
/// let clock = ManualClock::new();
/// let reactor = Reactor::with_clock(Rc::new(clock.clone())).unwrap();
/// let samples = Rc::new(Cell::new(0));
/// let counter = samples.clone();
/// let sampler = LoopingCall::start(&reactor, Duration::from_secs(5), false, move || {
///     counter.set(counter.get() + 1)
/// });
/// clock.advance(Duration::from_secs(5));
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(samples.get(), 2); // at 5 s and 10 s
/// sampler.stop();
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(samples.get(), 2);
/// ```
#[derive(Clone)]
pub struct LoopingCall {
    state: Rc<Looping>,
}

impl fmt::Debug for LoopingCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopingCall")
            .field("interval", &self.state.interval)
            .field("running", &self.state.running.get())
            .finish()
    }
}

impl LoopingCall {
    /// Runs `callback` every `interval` from now: at once too if `now`,
    /// else first after one interval. Mirrors `LoopingCall(f).start(interval, now)`.
    ///
    /// A zero interval runs once per loop turn (as in Twisted).
    pub fn start(
        reactor: &Reactor,
        interval: Duration,
        now: bool,
        mut callback: impl FnMut() + 'static,
    ) -> LoopingCall {
        LoopingCall::start_with_count(reactor, interval, now, move |_| callback())
    }

    /// Like [`start`](LoopingCall::start), but `callback` gets the number of
    /// intervals that went by since its last run: 1 on time, more when the
    /// loop was late and runs were skipped. Mirrors `LoopingCall.withCount`.
    pub fn start_with_count(
        reactor: &Reactor,
        interval: Duration,
        now: bool,
        callback: impl FnMut(u64) + 'static,
    ) -> LoopingCall {
        let timers = &reactor.inner.timers;
        let start = timers.clock.now();
        let state = Rc::new(Looping {
            timers: Rc::downgrade(timers),
            start,
            interval,
            running: Cell::new(true),
            call: RefCell::new(None),
            // A run at start counts as one interval, as `withCount` does.
            last_point: Cell::new(if now { None } else { Some(0) }),
            callback: RefCell::new(Box::new(callback)),
        });
        let looping = LoopingCall { state };
        if now {
            Looping::run(&looping.state);
        } else {
            Looping::schedule(&looping.state);
        }
        looping
    }

    /// Stops the loop: the pending run is cancelled. Mirrors
    /// `LoopingCall.stop` (stopping a loop that is not running does nothing
    /// here, where Twisted asserts).
    pub fn stop(&self) {
        self.state.running.set(false);
        let call = self.state.call.borrow_mut().take();
        if let Some(call) = call {
            let _ = call.cancel();
        }
    }

    /// Whether the loop is running (started, not stopped, its callback
    /// never panicked). Mirrors `LoopingCall.running`.
    pub fn running(&self) -> bool {
        self.state.running.get()
    }

    /// The interval between runs. Mirrors `LoopingCall.interval`.
    pub fn interval(&self) -> Duration {
        self.state.interval
    }
}

impl Looping {
    /// The grid point at or before `time` (`k` with `start + k * interval <= time`).
    fn point_at(&self, time: Duration) -> u128 {
        let elapsed = time.saturating_sub(self.start).as_nanos();
        match self.interval.as_nanos() {
            0 => 0,
            interval => elapsed / interval,
        }
    }

    /// Runs the callback, then schedules the next run if still running.
    fn run(this: &Rc<Looping>) {
        this.call.borrow_mut().take();
        let Some(timers) = this.timers.upgrade() else {
            return;
        };
        let point = this.point_at(timers.clock.now());
        let count = match (this.interval.is_zero(), this.last_point.get()) {
            (true, _) => 1,
            (false, None) => 1,
            (false, Some(last)) => point.saturating_sub(last),
        };
        this.last_point.set(Some(point));
        // A panic stops the loop, as an error from the function stops
        // Twisted's; the reactor's boundary logs it.
        // Never borrowed twice: the next run is scheduled only once this
        // one has returned.
        let mut callback = this.callback.borrow_mut();
        let count = u64::try_from(count).unwrap_or(u64::MAX);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(count)));
        drop(callback);
        if let Err(payload) = outcome {
            this.running.set(false);
            std::panic::resume_unwind(payload);
        }
        Looping::schedule(this);
    }

    /// Schedules the next run at the next grid point after now.
    fn schedule(this: &Rc<Looping>) {
        if !this.running.get() {
            return;
        }
        let Some(timers) = this.timers.upgrade() else {
            return;
        };
        let now = timers.clock.now();
        let delay = if this.interval.is_zero() {
            Duration::ZERO
        } else {
            // The next point strictly after now; past `Duration::MAX`, never.
            let next = this.point_at(now) + 1;
            let nanos = this.interval.as_nanos().saturating_mul(next);
            let at = u64::try_from(nanos / 1_000_000_000)
                .ok()
                .and_then(|secs| {
                    Duration::new(secs, (nanos % 1_000_000_000) as u32).checked_add(this.start)
                })
                .unwrap_or(Duration::MAX);
            at.saturating_sub(now)
        };
        let target = this.clone();
        let call = timers.call_later(delay, Box::new(move || Looping::run(&target)));
        *this.call.borrow_mut() = Some(call);
    }
}
