//! The reactor's boundary around callbacks: a panic is logged, not fatal.

/// Runs a callback at the reactor's boundary, catching a panic.
///
/// Mirrors Twisted's "Unhandled Error" logging: an exception raised by a
/// protocol or a timed call is logged and the loop goes on; the caller
/// drops only the connection whose protocol failed. Returns false if it
/// panicked.
pub(crate) fn guarded(place: &str, callback: impl FnOnce()) -> bool {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(callback)) {
        Ok(()) => true,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|text| text.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_string());
            log::error!("Unhandled error in {place}: {message}");
            false
        }
    }
}
