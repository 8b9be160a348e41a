//! When to try a transient failure again: exponential backoff with jitter,
//! never sooner than the server's `Retry-After`.

use std::time::Duration;

/// The first wait.
pub const BASE: Duration = Duration::from_secs(5);
/// The longest wait between two attempts.
pub const CAP: Duration = Duration::from_secs(30 * 60);
/// After this many attempts a still-transient op is given up as failed, so
/// that it waits for the user instead of retrying for ever (the user can
/// retry it).
pub const MAX_ATTEMPTS: u32 = 12;

/// The wait before attempt `attempts + 1`, given `attempts` made so far
/// (at least 1). `jitter` in [0, 1) spreads clients that failed together
/// over the second half of the interval.
pub fn delay(attempts: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    let exp = attempts.saturating_sub(1).min(20);
    let full = BASE.saturating_mul(1u32 << exp.min(16)).min(CAP);
    let jitter = jitter.clamp(0.0, 1.0);
    let wait = full.mul_f64(0.5 + 0.5 * jitter);
    match retry_after {
        Some(server) => wait.max(server.min(CAP * 4)),
        None => wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_jitter_stays_in_the_upper_half() {
        assert_eq!(delay(1, None, 1.0), BASE);
        assert_eq!(delay(1, None, 0.0), BASE / 2);
        assert_eq!(delay(2, None, 1.0), BASE * 2);
        assert_eq!(delay(4, None, 1.0), BASE * 8);
        assert_eq!(delay(30, None, 1.0), CAP);
        assert_eq!(delay(u32::MAX, None, 1.0), CAP);
        for a in 1..40 {
            assert!(delay(a, None, 0.3) <= delay(a + 1, None, 0.3));
        }
    }

    #[test]
    fn retry_after_is_honoured_but_bounded() {
        let ra = Duration::from_secs(120);
        assert_eq!(delay(1, Some(ra), 0.5), ra);
        assert_eq!(delay(1, Some(Duration::from_secs(1)), 1.0), BASE);
        assert_eq!(delay(1, Some(Duration::from_secs(86_400)), 1.0), CAP * 4);
    }
}
