//! Scheduling with `call_later`: Twisted's "Scheduling tasks for the future".
//!
//! ```python
//! def hello(name):
//!     print("hello", name)
//!
//! reactor.callLater(0.1, hello, "first")
//! late = reactor.callLater(0.2, hello, "never")
//! moved = reactor.callLater(0.5, hello, "moved")
//! late.cancel()
//! moved.reset(0.15)          # now due before "never" would have been
//! reactor.callLater(0.3, reactor.stop)
//! reactor.run()
//! ```
//!
//! Run: `cargo run --example timers`. It prints, in this order:
//!
//! ```text
//! hello first
//! hello moved
//! cancel again: the delayed call was already cancelled
//! stopping
//! ```

use std::time::Duration;

use callcenter::reactor::Reactor;

fn main() -> std::io::Result<()> {
    let reactor = Reactor::new()?;
    let ms = Duration::from_millis;

    reactor.call_later(ms(100), || println!("hello first"));
    let late = reactor.call_later(ms(200), || println!("hello never"));
    let moved = reactor.call_later(ms(500), || println!("hello moved"));

    late.cancel().map_err(std::io::Error::other)?;
    moved.reset(ms(150)).map_err(std::io::Error::other)?;

    // Misuse is an error, not silence (Twisted raises AlreadyCancelled).
    if let Err(error) = late.cancel() {
        reactor.call_later(ms(200), move || println!("cancel again: {error}"));
    }

    let stopper = reactor.clone();
    reactor.call_later(ms(300), move || {
        println!("stopping");
        stopper.stop();
    });
    reactor.run()
}
