//! The old name of the test harness, kept while `tests/client.rs` still
//! says `mod net;`: everything is in `tests/support`.

#[path = "../support/mod.rs"]
mod support;

pub use support::*;
