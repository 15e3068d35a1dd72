//! `LoopingCall` on a [`ManualClock`] (never a sleep), as Twisted's
//! `test_task.LoopTests` drive `task.LoopingCall` on `task.Clock`: runs at
//! start or after one interval, drift-free scheduling from the start time,
//! skipped runs counted when the loop was late, `stop` from outside and
//! from inside the callback, a zero interval, and a panicking callback.
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use callcenter::reactor::{LoopingCall, Reactor};

mod support;
use support::in_process::*;

/// The clock time of each run and the count it was given.
type Runs = Rc<RefCell<Vec<(Duration, u64)>>>;

/// A loop that logs the clock time of each run and the count it was given.
fn counting_loop(reactor: &Reactor, interval: Duration, now: bool) -> (LoopingCall, Runs) {
    let runs = Rc::new(RefCell::new(Vec::new()));
    let (log, clock) = (runs.clone(), reactor.clone());
    let looping = LoopingCall::start_with_count(reactor, interval, now, move |count| {
        log.borrow_mut().push((clock.now(), count))
    });
    (looping, runs)
}

#[test]
fn start_now_runs_at_once_then_every_interval() {
    let (reactor, clock) = manual_reactor();
    let (looping, runs) = counting_loop(&reactor, secs(5), true);
    assert!(looping.running());
    assert_eq!(looping.interval(), secs(5));
    assert_eq!(*runs.borrow(), [(secs(0), 1)]);
    assert_eq!(clock.advance(ms(4999)), 0);
    assert_eq!(clock.advance(ms(1)), 1);
    assert_eq!(clock.advance(secs(5)), 1);
    assert_eq!(*runs.borrow(), [(secs(0), 1), (secs(5), 1), (secs(10), 1)]);
    assert_eq!(reactor.pending_calls(), 1);
}

#[test]
fn start_later_waits_one_interval_first() {
    let (reactor, clock) = manual_reactor();
    clock.advance(secs(3));
    let (_looping, runs) = counting_loop(&reactor, secs(5), false);
    assert_eq!(*runs.borrow(), []);
    assert_eq!(clock.advance(ms(4999)), 0);
    assert_eq!(clock.advance(ms(1)), 1);
    assert_eq!(*runs.borrow(), [(secs(8), 1)]);
}

#[test]
fn runs_stay_on_the_grid_from_the_start_time() {
    let (reactor, clock) = manual_reactor();
    let (_looping, runs) = counting_loop(&reactor, secs(5), false);
    // A run that comes 2 s late (the loop was busy) does not move the next
    // one: it is still due at 10 s, not at 12 s.
    assert_eq!(clock.advance(secs(7)), 1);
    assert_eq!(clock.advance(ms(2999)), 0);
    assert_eq!(clock.advance(ms(1)), 1);
    assert_eq!(clock.advance(secs(5)), 1);
    assert_eq!(*runs.borrow(), [(secs(7), 1), (secs(10), 1), (secs(15), 1)]);
}

#[test]
fn a_late_loop_skips_the_runs_it_missed_and_counts_them() {
    let (reactor, clock) = manual_reactor();
    let (_looping, runs) = counting_loop(&reactor, secs(5), true);
    // 23 s at once: grid points 5, 10, 15 and 20 went by; one run, told 4.
    assert_eq!(clock.advance(secs(23)), 1);
    assert_eq!(*runs.borrow(), [(secs(0), 1), (secs(23), 4)]);
    // The next run is back on the grid, at 25 s.
    assert_eq!(clock.advance(ms(1999)), 0);
    assert_eq!(clock.advance(ms(1)), 1);
    assert_eq!(*runs.borrow(), [(secs(0), 1), (secs(23), 4), (secs(25), 1)]);
}

#[test]
fn start_counts_one_run_per_interval_without_a_count() {
    let (reactor, clock) = manual_reactor();
    let runs = Rc::new(Cell::new(0));
    let counter = runs.clone();
    let _looping = LoopingCall::start(&reactor, ms(100), false, move || {
        counter.set(counter.get() + 1)
    });
    for _ in 0..10 {
        clock.advance(ms(100));
    }
    // Exact time: ten 100 ms steps are one second, ten runs.
    assert_eq!(runs.get(), 10);
}

#[test]
fn stop_cancels_the_pending_run() {
    let (reactor, clock) = manual_reactor();
    let (looping, runs) = counting_loop(&reactor, secs(1), false);
    assert_eq!(clock.advance(secs(1)), 1);
    looping.stop();
    assert!(!looping.running());
    assert_eq!(reactor.pending_calls(), 0);
    assert_eq!(clock.advance(secs(10)), 0);
    assert_eq!(*runs.borrow(), [(secs(1), 1)]);
    // Stopping twice is harmless.
    looping.stop();
    assert!(!looping.running());
}

#[test]
fn the_callback_can_stop_its_own_loop() {
    let (reactor, clock) = manual_reactor();
    let handle: Rc<RefCell<Option<LoopingCall>>> = Rc::new(RefCell::new(None));
    let runs = Rc::new(Cell::new(0));
    let (slot, counter) = (handle.clone(), runs.clone());
    let looping = LoopingCall::start(&reactor, secs(1), false, move || {
        counter.set(counter.get() + 1);
        if counter.get() == 3 {
            slot.borrow().as_ref().expect("the handle").stop();
        }
    });
    *handle.borrow_mut() = Some(looping.clone());
    for _ in 0..5 {
        clock.advance(secs(1));
    }
    assert_eq!(runs.get(), 3);
    assert!(!looping.running());
    assert_eq!(reactor.pending_calls(), 0);
    // Break the handle's cycle through the callback.
    handle.borrow_mut().take();
}

#[test]
fn dropping_the_handle_does_not_stop_the_loop() {
    let (reactor, clock) = manual_reactor();
    let (looping, runs) = counting_loop(&reactor, secs(1), false);
    drop(looping);
    assert_eq!(clock.advance(secs(1)), 1);
    assert_eq!(clock.advance(secs(1)), 1);
    assert_eq!(runs.borrow().len(), 2);
}

#[test]
fn a_zero_interval_runs_once_per_round() {
    let (reactor, _clock) = manual_reactor();
    let (looping, runs) = counting_loop(&reactor, Duration::ZERO, true);
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(runs.borrow().len(), 3);
    assert!(runs.borrow().iter().all(|&(_, count)| count == 1));
    looping.stop();
    assert_eq!(reactor.run_due_timers(), 0);
}

#[test]
fn a_panicking_callback_stops_the_loop_and_the_reactor_goes_on() {
    let (reactor, clock) = manual_reactor();
    let runs = Rc::new(Cell::new(0));
    let counter = runs.clone();
    let looping = LoopingCall::start(&reactor, secs(1), false, move || {
        counter.set(counter.get() + 1);
        if counter.get() == 2 {
            panic!("sampler failed");
        }
    });
    let log = new_log();
    schedule(&reactor, &log, secs(2), "other");
    assert_eq!(clock.advance(secs(1)), 1);
    // The panic is caught at the reactor's boundary; the other call runs.
    assert_eq!(clock.advance(secs(1)), 2);
    assert_eq!(logged(&log), strings(&["other"]));
    assert!(!looping.running());
    assert_eq!(clock.advance(secs(5)), 0);
    assert_eq!(runs.get(), 2);
}

#[test]
fn a_huge_interval_is_never_due() {
    let (reactor, clock) = manual_reactor();
    let (looping, runs) = counting_loop(&reactor, Duration::MAX, true);
    assert_eq!(clock.advance(secs(3600)), 0);
    assert_eq!(runs.borrow().len(), 1);
    assert!(looping.running());
    assert_eq!(reactor.pending_calls(), 1);
}
