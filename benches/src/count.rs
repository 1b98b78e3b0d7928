//! Instruction counts of a benchmark's routine, for `cargo xtask bench-compare --instructions`
//! (issue 18: noise-free figures beside the wall-clock ratios).
//!
//! The benches call [`Counting::counted_iter`] / [`Counting::counted_iter_batched`] where they
//! would call criterion's `iter` / `iter_batched`. Normally these are exactly criterion's. With
//! the environment variable [`COUNT_ENV`] set to `N`, the first benchmark the process runs
//! instead calls its routine [`WARM_UP`] times, then `N` times inside [`counted`], and the
//! process exits. Run under
//! `valgrind --tool=callgrind --toggle-collect='pushwire_benches::count::counted*'`,
//! callgrind counts only the instructions inside [`counted`]: the `N` routine calls (the setup of
//! a batched routine and the group's own input generation and checks are outside it), so the
//! total divided by `N` is the routine's instructions per iteration. Call order for a bench:
//! criterion's `bench_function(name, |b| b.counted_iter(...))` as with `b.iter(...)`.

use std::hint::black_box;
use std::sync::OnceLock;

use criterion::measurement::Measurement;
use criterion::{BatchSize, Bencher};

/// The environment variable naming how many routine calls to count (a positive integer).
pub const COUNT_ENV: &str = "PUSHWIRE_BENCH_COUNT";

/// Uncounted calls before the counted ones (first-call effects: lazy statics, the allocator
/// growing its arenas).
pub const WARM_UP: u64 = 5;

/// How many calls to count, when [`COUNT_ENV`] is set to a positive integer.
fn count_mode() -> Option<u64> {
    static MODE: OnceLock<Option<u64>> = OnceLock::new();
    *MODE.get_or_init(|| {
        std::env::var(COUNT_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n: &u64| *n > 0)
    })
}

/// The frame callgrind's `--toggle-collect` counts: everything `f` runs, and nothing else.
#[inline(never)]
pub fn counted<O>(f: impl FnOnce() -> O) -> O {
    black_box(f())
}

/// Ends a counting run once its calls are made (callgrind writes its counts at exit).
fn finish(n: u64) -> ! {
    eprintln!("{COUNT_ENV}: {n} routine calls counted");
    std::process::exit(0)
}

/// criterion's `iter` and `iter_batched`, or a counting run (module docs).
pub trait Counting {
    /// criterion's `Bencher::iter`: `routine`'s output is dropped inside the measurement, as
    /// there.
    fn counted_iter<O, R: FnMut() -> O>(&mut self, routine: R);

    /// criterion's `Bencher::iter_batched`: `setup` is not measured, and the routine's output
    /// is dropped outside the measurement, as there.
    fn counted_iter_batched<I, O, S: FnMut() -> I, R: FnMut(I) -> O>(
        &mut self,
        setup: S,
        routine: R,
        size: BatchSize,
    );
}

impl<M: Measurement> Counting for Bencher<'_, M> {
    fn counted_iter<O, R: FnMut() -> O>(&mut self, mut routine: R) {
        if let Some(n) = count_mode() {
            for _ in 0..WARM_UP {
                drop(black_box(routine()));
            }
            for _ in 0..n {
                counted(|| drop(black_box(routine())));
            }
            finish(n)
        }
        self.iter(routine)
    }

    fn counted_iter_batched<I, O, S: FnMut() -> I, R: FnMut(I) -> O>(
        &mut self,
        mut setup: S,
        mut routine: R,
        size: BatchSize,
    ) {
        if let Some(n) = count_mode() {
            for _ in 0..WARM_UP {
                drop(black_box(routine(setup())));
            }
            for _ in 0..n {
                let input = setup();
                let out = counted(|| routine(input));
                drop(out);
            }
            finish(n)
        }
        self.iter_batched(setup, routine, size)
    }
}
