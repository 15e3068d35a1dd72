//! Micro-benchmarks of the line framer (`LineReceiver`, `src/reactor/line.rs`)
//! on typical command lines, through its public API: a `LineReceiver` over a
//! `Transport::memory()`, fed with `data_received`.
//!
//! Run with `cargo bench --bench lines`. Figures are in `docs/performance.md`,
//! section "Micro-benchmarks".

use callcenter::reactor::{LineHandler, LineReceiver, Protocol, Transport};
use divan::counter::BytesCount;
use divan::{Bencher, black_box};

fn main() {
    divan::main();
}

/// How many bytes of command lines each benchmark feeds.
const STREAM_BYTES: usize = 64 * 1024;

/// Lines as people type them (and scripts pipe them): the queue commands
/// with short ids, now and then a `status`, some with `\r\n` endings.
fn typical_lines() -> Vec<u8> {
    let mut stream = Vec::with_capacity(STREAM_BYTES + 64);
    let mut number: u64 = 0;
    while stream.len() < STREAM_BYTES {
        let line = match number % 8 {
            0 | 4 => format!("call {}", number * 7919 % 100_000),
            1 => format!("answer op{}", number % 100),
            2 => format!("reject op{}", number % 100),
            3 | 6 => format!("hangup {}", number * 7919 % 100_000),
            5 => "status".to_string(),
            _ => format!("pause op{} lunch break", number % 100),
        };
        stream.extend_from_slice(line.as_bytes());
        stream.extend_from_slice(if number.is_multiple_of(3) {
            b"\r\n"
        } else {
            b"\n"
        });
        number += 1;
    }
    stream
}

/// Counts lines and their bytes, so that nothing is optimized away.
#[derive(Default)]
struct Count {
    lines: usize,
    bytes: usize,
}

impl LineHandler for Count {
    fn line_received(&mut self, line: &[u8]) {
        self.lines += 1;
        self.bytes += line.len();
    }
}

fn receiver() -> LineReceiver<Count> {
    let mut receiver = LineReceiver::new(Count::default());
    receiver.connection_made(Transport::memory());
    receiver
}

/// Feeds 64 KiB of typical lines in chunks of 1 byte, 16 bytes (about one
/// line: what an interactive session delivers) or 64 KiB (a piped script
/// read by the reactor's 64 KiB reads).
#[divan::bench(args = [1, 16, STREAM_BYTES])]
fn typical_command_lines(bencher: Bencher, chunk: usize) {
    let stream = typical_lines();
    let mut receiver = receiver();
    for piece in stream.chunks(stream.len()) {
        receiver.data_received(piece);
    }
    let expected = (receiver.handler().lines, receiver.handler().bytes);
    let mut receiver = self::receiver();
    bencher
        .counter(BytesCount::of_slice(&stream))
        .bench_local(|| {
            *receiver.handler_mut() = Count::default();
            for piece in black_box(&stream).chunks(chunk) {
                receiver.data_received(piece);
            }
            assert_eq!(
                (receiver.handler().lines, receiver.handler().bytes),
                expected
            );
            receiver.handler().lines
        });
}

/// One line per `data_received`, the whole line in one chunk: the cost of a
/// single typed command through the framer.
#[divan::bench]
fn one_line(bencher: Bencher) {
    let mut receiver = receiver();
    bencher.bench_local(|| {
        receiver.data_received(black_box(b"hangup 1234567\n"));
        receiver.handler().lines
    });
}
