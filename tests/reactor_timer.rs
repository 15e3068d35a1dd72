//! Timers on a [`ManualClock`] (never a sleep): deadline order, scheduling
//! order for equal deadlines, `cancel`/`reset`/`delay`/`active`/`time` and
//! their errors, calls scheduled by a callback waiting for the next round
//! of `run_due_timers` (while `ManualClock::advance` runs them all, as
//! `task.Clock.advance` does), `pending_calls` and the count each returns.
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use callcenter::reactor::{DelayedCall, Reactor, TimerError};

mod support;
use support::in_process::*;

// ---------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------

#[test]
fn timers_fire_in_deadline_order() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    schedule(&reactor, &log, secs(3), "c");
    schedule(&reactor, &log, secs(1), "a");
    schedule(&reactor, &log, secs(5), "e");
    schedule(&reactor, &log, secs(2), "b");
    schedule(&reactor, &log, secs(4), "d");
    assert_eq!(reactor.pending_calls(), 5);

    assert_eq!(reactor.run_due_timers(), 0);
    assert_eq!(clock.advance(ms(2500)), 2);
    assert_eq!(logged(&log), strings(&["a", "b"]));
    assert_eq!(reactor.pending_calls(), 3);

    assert_eq!(clock.advance(secs(10)), 3);
    assert_eq!(logged(&log), strings(&["a", "b", "c", "d", "e"]));
    assert_eq!(reactor.pending_calls(), 0);
    assert_eq!(reactor.run_due_timers(), 0);
}

#[test]
fn equal_deadlines_fire_in_scheduling_order() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    for name in ["1", "2", "3", "4", "5", "6"] {
        schedule(&reactor, &log, secs(7), name);
    }
    // Scheduled later for the same instant: still after the others.
    clock.advance(secs(2));
    schedule(&reactor, &log, secs(5), "7");
    assert_eq!(clock.advance(secs(5)), 7);
    assert_eq!(logged(&log), strings(&["1", "2", "3", "4", "5", "6", "7"]));
}

#[test]
fn a_timer_fires_exactly_at_its_deadline() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    schedule(&reactor, &log, ms(1500), "due");
    assert_eq!(clock.advance(ms(1499)), 0);
    assert_eq!(logged(&log), Vec::<String>::new());
    assert_eq!(clock.advance(ms(1)), 1);
    assert_eq!(logged(&log), strings(&["due"]));
}

#[test]
fn cancel_drops_the_call_and_refuses_a_second_time() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    let keep = schedule(&reactor, &log, secs(1), "keep");
    let drop_it = schedule(&reactor, &log, secs(1), "cancelled");
    assert_eq!(reactor.pending_calls(), 2);

    assert_eq!(drop_it.cancel(), Ok(()));
    assert!(!drop_it.active());
    assert_eq!(drop_it.time(), None);
    assert_eq!(reactor.pending_calls(), 1);
    assert_eq!(drop_it.cancel(), Err(TimerError::AlreadyCancelled));
    assert_eq!(drop_it.reset(secs(1)), Err(TimerError::AlreadyCancelled));
    assert_eq!(drop_it.delay(secs(1)), Err(TimerError::AlreadyCancelled));

    assert_eq!(clock.advance(secs(1)), 1);
    assert_eq!(logged(&log), strings(&["keep"]));
    assert!(!keep.active());
    assert_eq!(keep.time(), None);
    assert_eq!(keep.cancel(), Err(TimerError::AlreadyCalled));
    assert_eq!(keep.reset(secs(1)), Err(TimerError::AlreadyCalled));
    assert_eq!(keep.delay(secs(1)), Err(TimerError::AlreadyCalled));
    assert_eq!(reactor.pending_calls(), 0);
}

#[test]
fn cancelling_frees_the_callback_captures() {
    let (reactor, _clock) = manual_reactor();
    let captured = Rc::new(());
    let inside = captured.clone();
    let call = reactor.call_later(secs(1), move || drop(inside));
    assert_eq!(Rc::strong_count(&captured), 2);
    call.cancel().unwrap();
    assert_eq!(Rc::strong_count(&captured), 1);
}

#[test]
fn dropping_the_handle_does_not_cancel() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    drop(schedule(&reactor, &log, secs(1), "still runs"));
    assert_eq!(clock.advance(secs(1)), 1);
    assert_eq!(logged(&log), strings(&["still runs"]));
}

#[test]
fn reset_moves_a_call_later() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    let call = schedule(&reactor, &log, secs(5), "moved");
    assert_eq!(call.time(), Some(secs(5)));
    clock.advance(secs(2));
    // From now, not from the old deadline.
    assert_eq!(call.reset(secs(10)), Ok(()));
    assert_eq!(call.time(), Some(secs(12)));
    assert!(call.active());
    assert_eq!(reactor.pending_calls(), 1);

    assert_eq!(clock.advance(secs(3)), 0); // t = 5: the old deadline.
    assert_eq!(clock.advance(ms(6999)), 0); // t = 11.999
    assert_eq!(logged(&log), Vec::<String>::new());
    assert_eq!(clock.advance(ms(1)), 1); // t = 12
    assert_eq!(logged(&log), strings(&["moved"]));
}

#[test]
fn reset_moves_a_call_earlier() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    schedule(&reactor, &log, secs(3), "other");
    let call = schedule(&reactor, &log, secs(10), "moved");
    clock.advance(secs(1));
    assert_eq!(call.reset(secs(1)), Ok(()));
    assert_eq!(call.time(), Some(secs(2)));
    assert_eq!(clock.advance(secs(1)), 1); // t = 2
    assert_eq!(logged(&log), strings(&["moved"]));
    assert_eq!(clock.advance(secs(8)), 1); // t = 10: nothing left at the old deadline.
    assert_eq!(logged(&log), strings(&["moved", "other"]));
    assert_eq!(reactor.pending_calls(), 0);
}

#[test]
fn delay_postpones_from_the_current_deadline() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    let call = schedule(&reactor, &log, secs(5), "delayed");
    clock.advance(secs(1));
    assert_eq!(call.delay(secs(3)), Ok(()));
    assert_eq!(call.time(), Some(secs(8)));
    assert_eq!(call.delay(ms(500)), Ok(()));
    assert_eq!(call.time(), Some(ms(8500)));
    assert_eq!(reactor.pending_calls(), 1);
    assert_eq!(clock.advance(ms(7499)), 0); // t = 8.499
    assert_eq!(clock.advance(ms(1)), 1);
    assert_eq!(logged(&log), strings(&["delayed"]));
}

#[test]
fn active_and_time_follow_the_life_of_a_call() {
    let (reactor, clock) = manual_reactor();
    assert_eq!(reactor.now(), Duration::ZERO);
    clock.advance(secs(4));
    assert_eq!(reactor.now(), secs(4));

    // (active, time) as seen from inside the callback.
    type Seen = Option<(bool, Option<Duration>)>;
    let seen: Rc<Cell<Seen>> = Rc::new(Cell::new(None));
    let slot: Rc<RefCell<Option<DelayedCall>>> = Rc::new(RefCell::new(None));
    let (seen_in, slot_in) = (seen.clone(), slot.clone());
    let call = reactor.call_later(secs(6), move || {
        // Inside its own callback the call is no longer pending.
        let me = slot_in.borrow().clone().unwrap();
        seen_in.set(Some((me.active(), me.time())));
        assert_eq!(me.cancel(), Err(TimerError::AlreadyCalled));
    });
    *slot.borrow_mut() = Some(call.clone());
    assert!(call.active());
    assert_eq!(call.time(), Some(secs(10)));

    assert_eq!(clock.advance(secs(6)), 1);
    assert_eq!(seen.get(), Some((false, None)));
    assert!(!call.active());
    assert_eq!(call.time(), None);
}

#[test]
fn a_call_scheduled_by_a_callback_waits_for_the_next_round() {
    let (reactor, _clock) = manual_reactor();
    let log = new_log();
    let (inner_reactor, inner_log) = (reactor.clone(), log.clone());
    // Due now (the clock never moves: advancing would run every round).
    reactor.call_later(Duration::ZERO, move || {
        inner_log.borrow_mut().push("outer".into());
        let again = inner_log.clone();
        inner_reactor.call_later(Duration::ZERO, move || {
            again.borrow_mut().push("inner".into())
        });
    });
    schedule(&reactor, &log, Duration::ZERO, "sibling");
    assert_eq!(reactor.run_due_timers(), 2);
    assert_eq!(logged(&log), strings(&["outer", "sibling"]));
    assert_eq!(reactor.pending_calls(), 1);
    // The clock did not move: the zero-delay call is due in the next round.
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(logged(&log), strings(&["outer", "sibling", "inner"]));
    assert_eq!(reactor.pending_calls(), 0);
}

#[test]
fn advance_also_runs_what_the_due_calls_schedule_for_a_time_reached() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    let (inner_reactor, inner_log) = (reactor.clone(), log.clone());
    reactor.call_later(secs(1), move || {
        inner_log.borrow_mut().push("outer".into());
        let (again, later) = (inner_log.clone(), inner_log.clone());
        inner_reactor.call_later(Duration::ZERO, move || {
            again.borrow_mut().push("inner".into())
        });
        inner_reactor.call_later(ms(1), move || later.borrow_mut().push("later".into()));
    });
    schedule(&reactor, &log, secs(1), "sibling");
    // As `task.Clock.advance`: the zero-delay call is due at the new time.
    assert_eq!(clock.advance(secs(1)), 3);
    assert_eq!(logged(&log), strings(&["outer", "sibling", "inner"]));
    assert_eq!(reactor.pending_calls(), 1);
    assert_eq!(clock.advance(Duration::ZERO), 0);
    assert_eq!(clock.advance(ms(1)), 1);
    assert_eq!(
        logged(&log),
        strings(&["outer", "sibling", "inner", "later"])
    );
}

#[test]
fn advance_reaches_every_reactor_on_the_clock_and_outlives_them() {
    let (first, clock) = manual_reactor();
    let second = Reactor::with_clock(Rc::new(clock.clone())).expect("reactor");
    let log = new_log();
    schedule(&first, &log, secs(2), "first");
    schedule(&second, &log, secs(1), "second");
    assert_eq!(clock.advance(secs(2)), 2);
    assert_eq!(logged(&log), strings(&["first", "second"]));
    schedule(&second, &log, secs(1), "gone");
    drop(second);
    // The dropped reactor's call never runs, and advancing still works.
    assert_eq!(clock.advance(secs(1)), 0);
    assert_eq!(logged(&log), strings(&["first", "second"]));
}

#[test]
fn advance_returns_when_a_call_keeps_rescheduling_itself_at_once() {
    let (reactor, clock) = manual_reactor();
    let count = Rc::new(Cell::new(0u32));
    fn tick(reactor: Reactor, count: Rc<Cell<u32>>) {
        count.set(count.get() + 1);
        let next = reactor.clone();
        reactor.call_later(Duration::ZERO, move || tick(next, count));
    }
    let (r, c) = (reactor.clone(), count.clone());
    reactor.call_later(secs(1), move || tick(r, c));
    // Twisted's `Clock.advance` would loop for ever; ours gives up after
    // a bounded number of rounds.
    assert_eq!(clock.advance(secs(1)), 10_000);
    assert_eq!(count.get(), 10_000);
    assert_eq!(reactor.pending_calls(), 1);
}

#[test]
fn a_self_rescheduling_call_runs_once_per_round() {
    let (reactor, _clock) = manual_reactor();
    let count = Rc::new(Cell::new(0));
    fn tick(reactor: Reactor, count: Rc<Cell<u32>>) {
        count.set(count.get() + 1);
        let next = reactor.clone();
        reactor.call_later(Duration::ZERO, move || tick(next, count));
    }
    let (r, c) = (reactor.clone(), count.clone());
    reactor.call_later(Duration::ZERO, move || tick(r, c));
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(count.get(), 3);
    assert_eq!(reactor.pending_calls(), 1);
}

#[test]
fn a_callback_can_cancel_another_due_call() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    let victim_slot: Rc<RefCell<Option<DelayedCall>>> = Rc::new(RefCell::new(None));
    let (slot, first_log) = (victim_slot.clone(), log.clone());
    reactor.call_later(secs(1), move || {
        first_log.borrow_mut().push("first".into());
        let victim = slot.borrow().clone().unwrap();
        assert_eq!(victim.cancel(), Ok(()));
    });
    *victim_slot.borrow_mut() = Some(schedule(&reactor, &log, secs(1), "victim"));
    schedule(&reactor, &log, secs(1), "last");
    assert_eq!(clock.advance(secs(1)), 2);
    assert_eq!(logged(&log), strings(&["first", "last"]));
    assert_eq!(reactor.pending_calls(), 0);
}

#[test]
fn pending_calls_counts_scheduled_minus_run_and_cancelled() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    assert_eq!(reactor.pending_calls(), 0);
    let calls: Vec<DelayedCall> = (1..=10)
        .map(|i| schedule(&reactor, &log, secs(i), &i.to_string()))
        .collect();
    assert_eq!(reactor.pending_calls(), 10);
    calls[0].cancel().unwrap();
    calls[9].cancel().unwrap();
    assert_eq!(reactor.pending_calls(), 8);
    // Resetting or delaying does not add entries.
    calls[4].reset(secs(100)).unwrap();
    calls[5].delay(secs(100)).unwrap();
    calls[4].reset(secs(1)).unwrap();
    assert_eq!(reactor.pending_calls(), 8);
    assert_eq!(clock.advance(secs(4)), 4); // 2, 3, 4 and the reset 5.
    assert_eq!(logged(&log), strings(&["5", "2", "3", "4"]));
    assert_eq!(reactor.pending_calls(), 4);
}

#[test]
fn iterate_runs_the_due_timers_without_waiting_for_them() {
    let (reactor, _clock) = manual_reactor();
    let log = new_log();
    // Due now without advancing (advancing would run it itself).
    schedule(&reactor, &log, Duration::ZERO, "due");
    let started = Instant::now();
    reactor.iterate(Some(Duration::ZERO)).unwrap();
    assert!(started.elapsed() < secs(1));
    assert_eq!(logged(&log), strings(&["due"]));
}

#[test]
fn a_huge_delay_does_not_panic() {
    let (reactor, clock) = manual_reactor();
    clock.advance(secs(1));
    let call = reactor.call_later(Duration::MAX, || {});
    assert_eq!(call.time(), Some(Duration::MAX));
    assert_eq!(call.delay(secs(1)), Ok(()));
    assert_eq!(call.reset(Duration::MAX), Ok(()));
    assert_eq!(clock.advance(secs(3600)), 0);
    assert_eq!(reactor.pending_calls(), 1);
}
