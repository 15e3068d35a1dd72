//! Memory per waiting call (SPEC §9.4: at most 64 bytes with ids up to 8
//! bytes), measured by counting the bytes the engine holds through a
//! counting global allocator: live bytes after queueing minus before.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use callcenter::engine::Engine;

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; the counter is a
// side record only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's own layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A million in release builds, 200,000 in unoptimized ones (for time).
const CALLS: usize = if cfg!(debug_assertions) {
    200_000
} else {
    1_000_000
};

#[test]
fn a_waiting_call_costs_at_most_64_bytes() {
    let mut engine = Engine::new(["A"]).unwrap();
    let mut out = Vec::with_capacity(8);
    // A is on a call: every call after this one waits.
    engine.call("first", &mut out).unwrap();
    engine.answer("A", &mut out).unwrap();
    out.clear();
    // Ids of up to 8 bytes, made before measuring.
    let ids: Vec<String> = (0..CALLS).map(|i| format!("{:08}", i * 7)).collect();
    assert!(ids.iter().all(|id| id.len() <= 8));
    let before = LIVE.load(Ordering::Relaxed);
    for id in &ids {
        engine.call(id, &mut out).unwrap();
        out.clear();
    }
    let after = LIVE.load(Ordering::Relaxed);
    assert_eq!(engine.waiting_calls(), CALLS);
    let per_call = (after - before) as f64 / CALLS as f64;
    eprintln!("{per_call:.1} bytes per waiting call ({CALLS} calls)");
    assert!(per_call <= 64.0, "{per_call:.1} bytes per waiting call");

    // Churn from the middle keeps the figure: leave and rejoin.
    for id in ids.iter().skip(CALLS / 3).take(CALLS / 10) {
        engine.hangup(id, &mut out).unwrap();
        engine.call(id, &mut out).unwrap();
        out.clear();
    }
    // (The test harness's own threads allocate meanwhile, so compare the
    // figure per call, not the byte count.)
    let churned = (LIVE.load(Ordering::Relaxed) - before) as f64 / CALLS as f64;
    assert!(
        churned <= 64.0,
        "after churn: {churned:.1} bytes per waiting call"
    );
    engine.check_invariants().unwrap();
}
