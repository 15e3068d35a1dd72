//! The reactor's boundary around callbacks: a panic is logged, not fatal,
//! and the observers of unhandled errors are told.

use std::cell::RefCell;
use std::rc::Rc;

/// An observer of unhandled errors: called with the place (`"a timed
/// call"`, `"data_received"`, ...) and the panic's message.
pub(crate) type Observer = Rc<dyn Fn(&str, &str)>;

/// Who wants to know that a callback panicked and the loop went on.
///
/// Mirrors the observers of `twisted.python.log` that see every
/// "Unhandled Error": the reactor logs the error and goes on, and an
/// observer repairs what the panic left behind in its own world (the line
/// editor's terminal, say), which the reactor knows nothing of.
#[derive(Default)]
pub(crate) struct UnhandledErrors {
    observers: RefCell<Vec<Observer>>,
}

impl UnhandledErrors {
    /// Adds an observer, called after each caught panic from now on.
    pub(crate) fn add(&self, observer: Observer) {
        self.observers.borrow_mut().push(observer);
    }

    /// Tells every observer. Each runs under its own `catch_unwind`, and a
    /// panic there is only logged: an observer of errors that failed must
    /// not become an error observers are told of, nor end the loop.
    fn notify(&self, place: &str, message: &str) {
        // Cloned out, so an observer may add another.
        let observers = self.observers.borrow().clone();
        for observer in observers {
            let told =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| observer(place, message)));
            if let Err(payload) = told {
                log::error!(
                    "Unhandled error in an unhandled-error observer: {}",
                    panic_message(payload.as_ref())
                );
            }
        }
    }
}

/// Runs a callback at the reactor's boundary, catching a panic.
///
/// Mirrors Twisted's "Unhandled Error" logging: an exception raised by a
/// protocol or a timed call is logged and the loop goes on; the caller
/// drops only the connection whose protocol failed. Once logged, the
/// `observers` are told. Returns false if it panicked.
pub(crate) fn guarded(place: &str, observers: &UnhandledErrors, callback: impl FnOnce()) -> bool {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(callback)) {
        Ok(()) => true,
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            log::error!("Unhandled error in {place}: {message}");
            observers.notify(place, &message);
            false
        }
    }
}

/// The text a panic was raised with (`panic!("...")`), if it has one.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string())
}
