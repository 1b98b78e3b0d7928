//! The delay before a reconnection: socket.io-client's backo2 (exponential, jittered,
//! capped), with the randomness drawn from an injected [`Rng`].
//!
//! The pushwire-sse client has its own backoff; the crates are independent and the two
//! formulas differ (SSE: full or decorrelated jitter above a floor; socket.io: backo2's
//! symmetric deviation), so each crate keeps its own small one.

use core::time::Duration;

use super::config::Config;

/// A source of random numbers for the jitter. [`SplitMix64`] is the default; tests inject a
/// fixed one.
pub trait Rng {
    /// A uniformly distributed 32-bit number; it stands for `n / 2³²` in `[0, 1)`, the
    /// `Math.random()` of backo2.
    fn next_u32(&mut self) -> u32;
}

/// SplitMix64 (Steele, Lea, Flood 2014) from a seed: small, fast, and the same sequence for
/// the same seed.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
}

impl Rng for SplitMix64 {
    fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        // The high half: the best-mixed bits.
        u32::try_from((z ^ (z >> 31)) >> 32).unwrap_or(u32::MAX)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// backo2's `duration()` for the attempt numbered `attempts` (0 for the first) and the random
/// number `random` (standing for `random / 2³²`), in milliseconds:
///
/// ```text
/// ms = reconnection_delay · 2^attempts
/// deviation = floor(rand · randomization_factor · ms)
/// ms = floor(rand · 10) is even ? ms − deviation : ms + deviation
/// delay = min(ms, reconnection_delay_max)
/// ```
///
/// ("var ms = this.ms * Math.pow(this.factor, this.attempts++); … var deviation =
/// Math.floor(rand * this.jitter * ms); ms = (Math.floor(rand * 10) & 1) == 0 ? ms -
/// deviation : ms + deviation; … return Math.min(ms, this.max) | 0;", backo2 1.0.2; the
/// factor is backo2's default 2, which socket.io-client never changes.) Integer arithmetic
/// saturates where JavaScript's floats would grow or wrap.
#[must_use]
pub fn backoff_delay(config: &Config, attempts: u32, random: u32) -> Duration {
    let min = millis(config.reconnection_delay);
    let max = millis(config.reconnection_delay_max);
    let factor = 1u64.checked_shl(attempts).unwrap_or(u64::MAX);
    let mut ms = min.saturating_mul(factor);
    // "this.jitter = opts.jitter > 0 && opts.jitter <= 1 ? opts.jitter : 0".
    let jitter = config.randomization_factor;
    if jitter > 0.0 && jitter <= 1.0 {
        let rand = f64::from(random) / 4_294_967_296.0;
        // `as` from a non-negative float truncates (floor) and saturates.
        let deviation = (rand * jitter * ms as f64) as u64;
        // floor(rand · 10) = floor(random · 10 / 2³²), exactly, in integers.
        let tenth = (u64::from(random) * 10) >> 32;
        ms = if tenth & 1 == 0 {
            ms.saturating_sub(deviation)
        } else {
            ms.saturating_add(deviation)
        };
    }
    Duration::from_millis(ms.min(max))
}

/// The attempt counter of backo2 and the generator.
#[derive(Debug, Clone)]
pub(super) struct Backoff<R> {
    pub(super) attempts: u32,
    rng: R,
}

impl<R: Rng> Backoff<R> {
    pub(super) fn new(rng: R) -> Self {
        Backoff { attempts: 0, rng }
    }

    /// The next delay; counts an attempt ("this.attempts++").
    pub(super) fn duration(&mut self, config: &Config) -> Duration {
        let d = backoff_delay(config, self.attempts, self.rng.next_u32());
        self.attempts = self.attempts.saturating_add(1);
        d
    }

    pub(super) fn reset(&mut self) {
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF: u32 = 1 << 31; // rand 0.5: floor(5) is odd, the deviation is added
    const QUARTER: u32 = 1 << 30; // rand 0.25: floor(2.5) is even, it is subtracted

    fn ms(d: Duration) -> u128 {
        d.as_millis()
    }

    #[test]
    fn doubles_from_the_delay_up_to_the_cap_without_jitter() {
        let c = Config::DEFAULT.with_randomization_factor(0.0);
        let seq: [u128; 5] = core::array::from_fn(|a| ms(backoff_delay(&c, a as u32, HALF)));
        assert_eq!(seq, [1000, 2000, 4000, 5000, 5000]);
        assert_eq!(ms(backoff_delay(&c, u32::MAX, 0)), 5000);
    }

    #[test]
    fn the_deviation_side_follows_the_parity_of_the_first_decimal() {
        let c = Config::DEFAULT;
        // 1000 · (1 + 0.5 · 0.5), 2000 · 1.25, 4000 · 1.25 capped.
        assert_eq!(ms(backoff_delay(&c, 0, HALF)), 1250);
        assert_eq!(ms(backoff_delay(&c, 1, HALF)), 2500);
        assert_eq!(ms(backoff_delay(&c, 2, HALF)), 5000);
        // 1000 · (1 − 0.25 · 0.5), 2000 · 0.875, 4000 · 0.875.
        assert_eq!(ms(backoff_delay(&c, 0, QUARTER)), 875);
        assert_eq!(ms(backoff_delay(&c, 1, QUARTER)), 1750);
        assert_eq!(ms(backoff_delay(&c, 2, QUARTER)), 3500);
        // rand 0: no deviation at all.
        assert_eq!(ms(backoff_delay(&c, 0, 0)), 1000);
        // rand just under 1: floor(9.99…) is odd, deviation floor(0.4999… · 1000) = 499.
        assert_eq!(ms(backoff_delay(&c, 0, u32::MAX)), 1499);
    }

    #[test]
    fn a_factor_outside_zero_to_one_means_no_jitter() {
        for f in [-0.5, 0.0, 1.5, f64::NAN] {
            let c = Config::DEFAULT.with_randomization_factor(f);
            assert_eq!(ms(backoff_delay(&c, 0, HALF)), 1000, "{f}");
        }
        let c = Config::DEFAULT.with_randomization_factor(1.0);
        assert_eq!(ms(backoff_delay(&c, 0, HALF)), 1500);
    }

    #[test]
    fn huge_values_saturate() {
        let c = Config::DEFAULT
            .with_reconnection_delay(Duration::MAX)
            .with_reconnection_delay_max(Duration::MAX);
        assert_eq!(ms(backoff_delay(&c, 70, u32::MAX)), u128::from(u64::MAX));
    }

    #[test]
    fn the_counter_grows_and_resets() {
        let c = Config::DEFAULT.with_randomization_factor(0.0);
        let mut b = Backoff::new(SplitMix64::new(1));
        assert_eq!(ms(b.duration(&c)), 1000);
        assert_eq!(ms(b.duration(&c)), 2000);
        assert_eq!(b.attempts, 2);
        b.reset();
        assert_eq!(ms(b.duration(&c)), 1000);
    }

    #[test]
    fn the_generator_is_deterministic() {
        let run = |seed| {
            let mut r = SplitMix64::new(seed);
            [r.next_u32(), r.next_u32(), r.next_u32()]
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }
}
