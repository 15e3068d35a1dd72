//! Comparing whole transcripts: what a run printed on each stream, and its
//! exit status, all at once and byte for byte.

use super::process::{Outcome, run};

/// The lines, each followed by `\n` (nothing for no lines).
pub fn lines<S: AsRef<str>>(lines: &[S]) -> String {
    lines
        .iter()
        .map(|line| format!("{}\n", line.as_ref()))
        .collect()
}

/// Asserts the whole transcript: stdout, stderr and exit status.
#[track_caller]
pub fn assert_output(output: &Outcome, code: i32, stdout: &str, stderr: &str) {
    assert_eq!(output.stdout, stdout, "stdout");
    assert_eq!(output.stderr, stderr, "stderr");
    assert_eq!(output.code, Some(code), "exit status");
}

/// Runs `args` with `input` on a pipe; asserts the whole stdout and stderr
/// (given as lines) and exit 0.
#[track_caller]
pub fn check(args: &[&str], input: impl AsRef<[u8]>, stdout: &[&str], stderr: &[&str]) {
    let output = run(args, input.as_ref(), false);
    assert_output(&output, 0, &lines(stdout), &lines(stderr));
}
