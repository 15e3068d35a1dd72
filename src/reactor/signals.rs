//! Signals as events on the loop, for any callback.
//!
//! Mirrors Twisted's signal handling: `reactor.run` installs handlers for
//! SIGINT and SIGTERM ([`Reactor::install_signal_handlers`]), and a program
//! that wants another signal (SIGWINCH, SIGCONT, SIGHUP) installs its own
//! with `signal.signal`, which Twisted wakes the loop for through its
//! waker pipe. Here [`Reactor::on_signals`] does both halves: a handler
//! (signal-hook's, async-signal-safe) only notes the signal and writes to a
//! pipe the loop polls; the callback runs later, on the loop, where it may
//! do anything (write, schedule calls, stop the reactor).
//!
//! ```no_run
//! use callcenter::reactor::Reactor;
//!
//! let reactor = Reactor::new().unwrap();
//! let stopper = reactor.clone();
//! reactor
//!     .on_signals(&[signal_hook::consts::SIGHUP], move |_| stopper.stop())
//!     .unwrap();
//! reactor.run().unwrap();
//! ```

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use log::debug;
use mio::Interest;
use signal_hook_mio::v1_0::Signals;

use super::{Entry, Reactor, Source, Sub, guarded, make_token};

/// The callback of [`Reactor::on_signals`], shared so it can run once the
/// table of sources is no longer borrowed.
pub(crate) type SignalCallback = Rc<RefCell<dyn FnMut(i32)>>;

/// A set of signals and the callback they go to: one source on the loop.
pub(crate) struct SignalSource {
    /// signal-hook's self-pipe, registered with the poll.
    signals: Signals,
    callback: SignalCallback,
}

impl SignalSource {
    /// The signals that arrived since the last call (each at most once,
    /// in signal-number order: signals are not queued) and the callback.
    pub(crate) fn take_pending(&mut self) -> (SignalCallback, Vec<i32>) {
        (self.callback.clone(), self.signals.pending().collect())
    }
}

impl Reactor {
    /// Calls `callback` on the loop with the number of each signal in
    /// `signals` that arrives, until the loop ends.
    ///
    /// Mirrors installing a handler with Python's `signal.signal` in a
    /// Twisted program, with the handler deferred to the loop
    /// (`reactor.callFromThread` from the handler). The signal's default
    /// action no longer happens (SIGTSTP would no longer stop the process;
    /// SIGCONT still continues it, as the kernel does that before any
    /// handler). Forbidden signals (SIGKILL, SIGSTOP, SIGSEGV, ...) are an
    /// error. Several callbacks may watch the same signal: each is called.
    pub fn on_signals(
        &self,
        signals: &[i32],
        callback: impl FnMut(i32) + 'static,
    ) -> io::Result<()> {
        let mut pipe = Signals::new(signals)?;
        let mut sources = self.inner.sources.borrow_mut();
        let (key, generation) = self.vacant(&sources)?;
        self.inner.registry.register(
            &mut pipe,
            make_token(key, generation, Sub::Main),
            Interest::READABLE,
        )?;
        sources.insert(Entry {
            generation,
            source: Source::Callback(SignalSource {
                signals: pipe,
                callback: Rc::new(RefCell::new(callback)),
            }),
        });
        Ok(())
    }

    /// Runs a signal callback for each signal that arrived; a panic in it
    /// is logged, as for any callback on the loop.
    pub(crate) fn deliver_signals(&self, callback: SignalCallback, signals: Vec<i32>) {
        for signal in signals {
            debug!("signal {signal}: calling its handler");
            match callback.try_borrow_mut() {
                Ok(mut callback) => {
                    guarded("a signal handler", &self.inner.unhandled, || {
                        (*callback)(signal)
                    });
                }
                Err(_) => debug!("signal {signal} while its handler runs: dropped"),
            }
        }
        self.flush_dirty();
    }
}
