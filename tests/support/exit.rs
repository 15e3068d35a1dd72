//! Learning when a child exits, without reaping it.
//!
//! Part of the test harness (`tests/support`): a
//! thread blocks in `waitid(WNOWAIT)`, which reports the exit but leaves the
//! child for its `Child` owner to reap, so a test can wait with a deadline
//! (`recv_timeout`) instead of sleeping.

use std::sync::mpsc;
use std::thread;

/// A receiver that gets one message when process `pid` has exited.
pub fn watch_exit(pid: u32) -> mpsc::Receiver<()> {
    let (sender, exited) = mpsc::channel();
    let pid = pid as libc::id_t;
    thread::spawn(move || {
        loop {
            // SAFETY: `info` is a valid, writable siginfo_t; WNOWAIT
            // leaves the child unreaped (the owner of `Child` reaps it).
            let result = unsafe {
                let mut info: libc::siginfo_t = std::mem::zeroed();
                libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT)
            };
            if result == 0
                || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
            {
                break;
            }
        }
        let _ = sender.send(());
    });
    exited
}
