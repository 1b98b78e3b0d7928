//! The delay before a reconnection: the reconnection time, then an exponential backoff with
//! jitter after failed attempts (see [`Jitter`]). Pure arithmetic on milliseconds plus a
//! seeded generator, so every delay is reproducible from the seed.

use core::time::Duration;

use super::config::{Config, Jitter};

/// A duration in whole milliseconds, saturating.
pub(super) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The backoff state: the random generator and the previous delay (for decorrelated jitter).
#[derive(Debug, Clone)]
pub(super) struct Backoff {
    /// SplitMix64 state.
    rng: u64,
    /// The previous delay in ms; 0 means "none since the last healthy stream".
    prev: u64,
}

impl Backoff {
    pub(super) fn new(seed: u64) -> Backoff {
        Backoff { rng: seed, prev: 0 }
    }

    /// Forgets the previous delay (after a healthy stream).
    pub(super) fn reset(&mut self) {
        self.prev = 0;
    }

    /// SplitMix64 (Steele, Lea, Flood 2014): one add and three mixing steps per number.
    fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The delay in ms before the next attempt, with `base` the reconnection time in ms and
    /// `failures` the consecutive failed attempts so far.
    pub(super) fn delay(&mut self, config: &Config, base: u64, failures: u32) -> u64 {
        let random = self.next_u64();
        let d = delay(config, base, failures, self.prev, random);
        // The wait after a healthy stream is no backoff delay: the previous delay stays
        // "none" (see `reset`), so that decorrelated jitter starts again from its base.
        if failures > 0 {
            self.prev = d;
        }
        d
    }
}

/// The delay in ms for `failures` consecutive failed attempts, reconnection time `base`,
/// previous delay `prev` (0: none) and a `random` number.
pub(super) fn delay(config: &Config, base: u64, failures: u32, prev: u64, random: u64) -> u64 {
    // "2. Wait a delay equal to the reconnection time of the event source." A floor.
    if failures == 0 {
        return base;
    }
    // "3. Optionally, wait some more. In particular, if the previous attempt failed, then
    // user agents might introduce an exponential backoff delay to avoid overloading a
    // potentially already overloaded server."
    let cap = millis(config.max_backoff);
    let b = base.max(millis(config.min_backoff));
    match config.jitter {
        Jitter::None => base.max(envelope(b, cap, failures)),
        Jitter::Full => uniform(random, base, base.max(envelope(b, cap, failures))),
        Jitter::Decorrelated => {
            let prev = if prev == 0 { b } else { prev };
            let d = uniform(random, b, b.max(prev.saturating_mul(3)));
            d.min(cap).max(base)
        }
    }
}

/// `min(cap, b · 2^n)`, saturating.
fn envelope(b: u64, cap: u64, n: u32) -> u64 {
    let factor = 1u64.checked_shl(n).unwrap_or(u64::MAX);
    b.saturating_mul(factor).min(cap)
}

/// A number in `[lo, hi]` from `random`, spread evenly (multiply-shift; `hi < lo` gives `lo`).
fn uniform(random: u64, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        return lo;
    }
    let span = u128::from(hi - lo) + 1;
    // < span ≤ u64::MAX + 1, so it fits.
    let offset = (u128::from(random) * span) >> 64;
    lo + u64::try_from(offset).unwrap_or(hi - lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1000;

    fn cfg(jitter: Jitter) -> Config {
        Config::DEFAULT
            .with_jitter(jitter)
            .with_min_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_secs(60))
    }

    #[test]
    fn no_failure_waits_exactly_the_reconnection_time() {
        for jitter in [Jitter::None, Jitter::Full, Jitter::Decorrelated] {
            for random in [0, 1 << 63, u64::MAX] {
                assert_eq!(delay(&cfg(jitter), 3 * SEC, 0, 7 * SEC, random), 3 * SEC);
            }
        }
    }

    #[test]
    fn full_jitter_stays_within_the_envelope_and_the_cap() {
        let c = cfg(Jitter::Full);
        for n in 1..=40u32 {
            let upper = (3 * SEC).saturating_mul(1u64 << n.min(63)).min(60 * SEC);
            let lo = delay(&c, 3 * SEC, n, 0, 0);
            let hi = delay(&c, 3 * SEC, n, 0, u64::MAX);
            let mid = delay(&c, 3 * SEC, n, 0, 1 << 63);
            // The brief's full-jitter bound [0, min(cap, base·2^n)], with the floor `base`.
            assert_eq!(lo, 3 * SEC, "n={n}");
            assert_eq!(hi, upper, "n={n}");
            assert!(lo <= mid && mid <= hi, "n={n}: {mid}");
            assert!(hi <= 60 * SEC);
        }
        // The top of the window grows as 2^n until the cap.
        assert_eq!(delay(&c, 3 * SEC, 1, 0, u64::MAX), 6 * SEC);
        assert_eq!(delay(&c, 3 * SEC, 2, 0, u64::MAX), 12 * SEC);
        assert_eq!(delay(&c, 3 * SEC, 4, 0, u64::MAX), 48 * SEC);
        assert_eq!(delay(&c, 3 * SEC, 5, 0, u64::MAX), 60 * SEC);
        // The middle of the random range lands in the middle of the window.
        assert_eq!(delay(&c, 3 * SEC, 1, 0, 1 << 63), 4500);
    }

    #[test]
    fn no_jitter_doubles_up_to_the_cap() {
        let c = cfg(Jitter::None);
        let seq: [u64; 6] = core::array::from_fn(|i| delay(&c, 3 * SEC, i as u32, 0, 12345));
        assert_eq!(seq, [3, 6, 12, 24, 48, 60].map(|s| s * SEC));
        assert_eq!(delay(&c, 3 * SEC, u32::MAX, 0, 0), 60 * SEC);
    }

    #[test]
    fn decorrelated_jitter_stays_between_base_and_cap() {
        let c = cfg(Jitter::Decorrelated);
        // First failure: prev is the base, so [b, 3b].
        assert_eq!(delay(&c, 3 * SEC, 1, 0, 0), 3 * SEC);
        assert_eq!(delay(&c, 3 * SEC, 1, 0, u64::MAX), 9 * SEC);
        // Later: up to 3 × the previous delay, capped.
        assert_eq!(delay(&c, 3 * SEC, 2, 9 * SEC, u64::MAX), 27 * SEC);
        assert_eq!(delay(&c, 3 * SEC, 3, 27 * SEC, u64::MAX), 60 * SEC);
        assert_eq!(delay(&c, 3 * SEC, 3, 27 * SEC, 0), 3 * SEC);
    }

    #[test]
    fn a_server_retry_above_the_cap_is_still_honoured() {
        for jitter in [Jitter::None, Jitter::Full, Jitter::Decorrelated] {
            for random in [0, u64::MAX] {
                assert_eq!(delay(&cfg(jitter), 600 * SEC, 3, 0, random), 600 * SEC);
            }
        }
    }

    #[test]
    fn retry_zero_backs_off_from_the_minimum_base() {
        let c = cfg(Jitter::None);
        assert_eq!(delay(&c, 0, 0, 0, 0), 0);
        assert_eq!(delay(&c, 0, 1, 0, 0), 200);
        assert_eq!(delay(&c, 0, 3, 0, 0), 800);
        // Full jitter: the floor is the server's 0, the window grows from the minimum base.
        assert_eq!(delay(&cfg(Jitter::Full), 0, 3, 0, u64::MAX), 800);
    }

    #[test]
    fn huge_values_saturate_instead_of_overflowing() {
        let c = cfg(Jitter::Full).with_max_backoff(Duration::MAX);
        assert_eq!(delay(&c, u64::MAX, 70, 0, u64::MAX), u64::MAX);
        assert_eq!(delay(&c, u64::MAX / 2, 70, 0, u64::MAX), u64::MAX);
        assert_eq!(envelope(5, u64::MAX, 64), u64::MAX);
        assert_eq!(envelope(5, u64::MAX, 63), u64::MAX);
        assert_eq!(envelope(5, u64::MAX, 2), 20);
        assert_eq!(uniform(u64::MAX, 0, u64::MAX), u64::MAX);
        assert_eq!(uniform(0, 0, u64::MAX), 0);
        assert_eq!(uniform(7, 9, 3), 9);
    }

    #[test]
    fn the_generator_is_splitmix64() {
        // The reference outputs of SplitMix64 (Vigna's splitmix64.c) for seeds 0 and 1234567.
        let mut b = Backoff::new(0);
        assert_eq!(
            [b.next_u64(), b.next_u64(), b.next_u64()],
            [
                0xE220_A839_7B1D_CDAF,
                0x6E78_9E6A_A1B9_65F4,
                0x06C4_5D18_8009_454F
            ]
        );
        let mut b = Backoff::new(1_234_567);
        assert_eq!(
            [b.next_u64(), b.next_u64(), b.next_u64()],
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423
            ]
        );
    }

    #[test]
    fn the_generator_is_seeded_and_deterministic() {
        let c = cfg(Jitter::Full);
        let run = |seed| {
            let mut b = Backoff::new(seed);
            [1, 2, 3, 4].map(|n| b.delay(&c, 1000, n))
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }
}
