//! The one parser (and printer) for the times and sizes the command line takes, so `--max-idle
//! 1m30s` reads exactly like `--from 1m30s`, and a size in a message reads like `--max-size`.
//!
//! In go the words an option was given (`1m30s`, `30%`, `#12`, `10M`); out come numbers in the
//! library's units (milliseconds, seconds, bytes) or a [`TimePoint`], and errors as plain text
//! that clap prints after the flag's name. The printers go the other way, from those units to
//! words for messages (`9.96 MB`, `4 min 05 s`). Two kinds of time are read: a *duration*
//! (`--max-idle`, `--last-frame`, `--every`, `--duration`, `capture --duration`,
//! `--ticks-period`), and a *point* in a capture (`--from`, `--to`, `--at`, `diff --at`, `plot
//! --from/--to`), which is a duration since the first snapshot, a share of the capture's span
//! (`30%`), or a snapshot by its number (`#12`, 1-based in file order, as `info` and `stats`
//! count them). Whether a point lies inside a capture is checked by the timeline, which knows the
//! capture; here only the spelling is checked.
//!
//! ```
//! use memanim::units::{parse_duration_ms, parse_size, TimePoint};
//!
//! assert_eq!(parse_duration_ms("1m30s"), Ok(90_000.0));
//! assert_eq!(parse_size("10M"), Ok(10_000_000));
//! assert_eq!(TimePoint::parse("30%"), Ok(TimePoint::Percent(30.0)));
//! assert!(parse_duration_ms("30%").is_err(), "a share of a capture is no length");
//! ```

use std::fmt;

/// Examples quoted by every error about a duration.
const DURATION_EXAMPLES: &str = "examples: 90, 2.5s, 500ms, 1m30s, 1h";

/// Parses a duration into milliseconds: `90` (seconds), `2.5s`, `500ms`, `1m30s`, `1h2m3s`.
///
/// A bare number is seconds. Parts with units may be combined from the largest unit down, each
/// unit at most once. Negative, infinite or NaN values are refused, and so is a share (`50%`),
/// which is a point in a capture ([`TimePoint`]), not a length.
///
/// ```
/// use memanim::units::parse_duration_ms;
///
/// assert_eq!(parse_duration_ms("1m30s"), Ok(90_000.0));
/// assert_eq!(parse_duration_ms("90"), Ok(90_000.0));
/// assert_eq!(parse_duration_ms("2.5s"), Ok(2_500.0));
/// assert_eq!(parse_duration_ms("500ms"), Ok(500.0));
/// assert!(parse_duration_ms("30s1m").is_err(), "largest unit first");
/// ```
pub fn parse_duration_ms(s: &str) -> Result<f64, String> {
    parse_ms(s, 1000.0, DURATION_EXAMPLES)
}

/// The grammar every duration is read by: a bare number counts `bare_ms` milliseconds each;
/// `<number><unit>` parts (h, m, s, ms) come from the largest unit down, each at most once.
/// `examples` ends every message about a value that does not read.
fn parse_ms(s: &str, bare_ms: f64, examples: &str) -> Result<f64, String> {
    let t = s.trim();
    let bad = || format!("'{s}' is not a duration ({examples})");
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(v) = t.parse::<f64>() {
        return if v.is_finite() && v >= 0.0 {
            Ok(v * bare_ms)
        } else if v < 0.0 {
            Err(format!("'{s}': a duration cannot be negative"))
        } else {
            Err(bad())
        };
    }
    // <number><unit> parts, units in decreasing size: h, m, s, ms.
    const UNITS: [(&str, f64); 4] = [
        ("h", 3_600_000.0),
        ("m", 60_000.0),
        ("s", 1000.0),
        ("ms", 1.0),
    ];
    let mut total = 0.0;
    let mut rest = t;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let v: f64 = rest[..n].parse().map_err(|_| bad())?;
        let after = &rest[n..];
        // "ms" before "m", so 500ms is not read as 500 minutes and an "s".
        let unit = ["ms", "h", "m", "s"]
            .into_iter()
            .find(|u| after.starts_with(u))
            .ok_or_else(bad)?;
        let k = UNITS.iter().position(|(u, _)| *u == unit).ok_or_else(bad)?;
        if k < next_unit {
            return Err(bad());
        }
        next_unit = k + 1;
        total += v * UNITS[k].1;
        rest = &after[unit.len()..];
    }
    if total.is_finite() {
        Ok(total)
    } else {
        Err(bad())
    }
}

/// Examples quoted by every error about a period in milliseconds.
const PERIOD_EXAMPLES: &str = "milliseconds, as 1073741824, or a duration: 500ms, 2.5s, 1m30s";

/// Parses a period in whole milliseconds, at least 2 (`--ticks-period`): a bare number is
/// milliseconds, as `ticks_ms` counts them (`1073741824` is 2^30 ms); any other spelling is a
/// duration as [`parse_duration_ms`] reads it (`1m30s`, `2.5s`, `500ms`).
///
/// ```
/// use memanim::units::parse_period_ms;
///
/// assert_eq!(parse_period_ms("1073741824"), Ok(1 << 30));
/// assert_eq!(parse_period_ms("1m30s"), Ok(90_000));
/// assert!(parse_period_ms("1").is_err(), "at least 2 ms");
/// ```
pub fn parse_period_ms(s: &str) -> Result<u64, String> {
    let short = || {
        format!("'{s}': give a period of at least 2 ms, in whole milliseconds ({PERIOD_EXAMPLES})")
    };
    // A whole number of ms is read exactly, however large (an f64 would round it).
    if let Ok(n) = s.trim().parse::<u64>() {
        return if n >= 2 { Ok(n) } else { Err(short()) };
    }
    let ms = parse_ms(s, 1.0, PERIOD_EXAMPLES)?;
    if ms >= 2.0 && ms.fract() == 0.0 && ms <= u64::MAX as f64 {
        Ok(ms as u64)
    } else {
        Err(short())
    }
}

/// A duration in seconds (for the options that keep seconds), parsed as [`parse_duration_ms`].
///
/// ```
/// assert_eq!(memanim::units::parse_seconds("1m30s"), Ok(90.0));
/// ```
pub fn parse_seconds(s: &str) -> Result<f64, String> {
    parse_duration_ms(s).map(|ms| ms / 1000.0)
}

/// A duration in seconds that must be more than zero (`--every`, `capture --duration`).
///
/// ```
/// use memanim::units::parse_positive_seconds;
///
/// assert_eq!(parse_positive_seconds("500ms"), Ok(0.5));
/// assert!(parse_positive_seconds("0s").is_err());
/// ```
pub fn parse_positive_seconds(s: &str) -> Result<f64, String> {
    let v = parse_seconds(s)?;
    if v > 0.0 {
        Ok(v)
    } else {
        Err(format!(
            "'{s}': give a duration longer than 0 ({DURATION_EXAMPLES})"
        ))
    }
}

/// Examples quoted by every error about a size.
const SIZE_EXAMPLES: &str = "examples: 10M, 9.5M, 256k, 8MiB, 5000000";

/// Parses a file size into bytes: `10M`, `1.5M`, `256k`, `5000000` (bytes), `10MB`, `8MiB`.
///
/// `k`, `M` and `G` are powers of 1000, as hosts state their upload limits ("images up to 10
/// MB"): `10M` is 10,000,000 bytes, which is also under 10 MiB (10,485,760), so a file made to
/// fit `10M` fits whichever meaning a host has in mind. `Ki`, `Mi` and `Gi` are powers of 1024.
/// Letters are case-insensitive and a trailing `B` is allowed. Zero, negative and fractional
/// byte counts are refused.
///
/// ```
/// use memanim::units::parse_size;
///
/// assert_eq!(parse_size("10M"), Ok(10_000_000));
/// assert_eq!(parse_size("256k"), Ok(256_000));
/// assert_eq!(parse_size("8MiB"), Ok(8 * 1024 * 1024));
/// assert!(parse_size("1.5").is_err(), "bytes are whole");
/// ```
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let bad = || format!("'{s}' is not a size ({SIZE_EXAMPLES})");
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.parse().map_err(|_| bad())?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let k: f64 = match unit {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "ki" => 1024.0,
        "mi" => 1024.0 * 1024.0,
        "gi" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    let bytes = (v * k).floor();
    if !bytes.is_finite() || bytes > 1e15 {
        return Err(bad());
    }
    if bytes < 1.0 {
        return Err(format!(
            "'{s}': give a size of at least one byte ({SIZE_EXAMPLES})"
        ));
    }
    if unit.is_empty() && num.contains('.') {
        return Err(format!(
            "'{s}': a number of bytes is whole ({SIZE_EXAMPLES})"
        ));
    }
    Ok(bytes as u64)
}

/// A file size for messages, in the units [`parse_size`] reads: `812 B`, `25.6 kB`, `9.96 MB`.
/// Three significant digits, rounded down, so a file shown as fitting a limit does fit it.
///
/// ```
/// use memanim::units::size;
///
/// assert_eq!(size(812), "812 B");
/// assert_eq!(size(9_999_999), "9.99 MB");
/// ```
pub fn size(bytes: u64) -> String {
    let (v, unit) = match bytes {
        b if b < 1000 => return format!("{b} B"),
        b if b < 1_000_000 => (b as f64 / 1e3, "kB"),
        b if b < 1_000_000_000 => (b as f64 / 1e6, "MB"),
        b => (b as f64 / 1e9, "GB"),
    };
    let decimals = if v < 10.0 {
        2
    } else if v < 100.0 {
        1
    } else {
        0
    };
    let k = 10f64.powi(decimals);
    // Round down on the digits shown; the small nudge keeps 9.96 from printing as 9.95.
    let v = ((v * k) + 1e-9).floor() / k;
    let s = format!("{v:.*}", decimals as usize);
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    format!("{s} {unit}")
}

/// How long an animation plays, for messages: `12.5 s`, `4 min 05 s`, `1 h 02 min`.
///
/// ```
/// use memanim::units::play_time;
///
/// assert_eq!(play_time(12_540.0), "12.5 s");
/// assert_eq!(play_time(245_000.0), "4 min 05 s");
/// ```
pub fn play_time(ms: f64) -> String {
    let ms = ms.max(0.0);
    if ms < 60_000.0 {
        let s = format!("{:.1}", ms / 1000.0);
        return format!("{} s", s.strip_suffix(".0").unwrap_or(&s));
    }
    let s = (ms / 1000.0).round() as u64;
    if s < 3600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        let m = (s + 30) / 60;
        format!("{} h {:02} min", m / 60, m % 60)
    }
}

/// A point in a capture, as the user wrote it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimePoint {
    /// Milliseconds since the capture's first snapshot.
    Ms(f64),
    /// A share of the capture's span, 0 to 100.
    Percent(f64),
    /// A snapshot by its number: 1-based, every snapshot of the capture in file order.
    Snapshot(usize),
    /// The dump before the Nth MemoryError of the capture (1-based): `oom`, `oom:2`.
    MemoryError(usize),
}

impl TimePoint {
    /// Parses `12.5`, `12.5s`, `500ms`, `1m30s`, `1h`, `30%`, `#12`, or `oom`/`oom:2` (the dump
    /// before a MemoryError; only a still resolves it, see `crate::render`).
    ///
    /// ```
    /// use memanim::units::TimePoint;
    ///
    /// assert_eq!(TimePoint::parse("1m30s"), Ok(TimePoint::Ms(90_000.0)));
    /// assert_eq!(TimePoint::parse("50%"), Ok(TimePoint::Percent(50.0)));
    /// assert_eq!(TimePoint::parse("#12"), Ok(TimePoint::Snapshot(12)));
    /// assert_eq!(TimePoint::parse("oom:2"), Ok(TimePoint::MemoryError(2)));
    /// ```
    pub fn parse(s: &str) -> Result<TimePoint, String> {
        let t = s.trim();
        if let Some(n) = t.strip_prefix("oom") {
            let n = n.strip_prefix(':').unwrap_or(n);
            return match n.trim() {
                "" => Ok(TimePoint::MemoryError(1)),
                n => match n.parse::<usize>() {
                    Ok(n) if n >= 1 => Ok(TimePoint::MemoryError(n)),
                    _ => Err(format!(
                        "'{s}' is not a MemoryError: write oom (the first) or oom:2 (the second)"
                    )),
                },
            };
        }
        if let Some(n) = t.strip_prefix('#') {
            return match n.trim().parse::<usize>() {
                Ok(n) if n >= 1 => Ok(TimePoint::Snapshot(n)),
                _ => Err(format!(
                    "'{s}' is not a snapshot number: snapshots are numbered from #1"
                )),
            };
        }
        if let Some(p) = t.strip_suffix('%') {
            return match p.trim().parse::<f64>() {
                Ok(v) if (0.0..=100.0).contains(&v) => Ok(TimePoint::Percent(v)),
                Ok(_) => Err(format!("'{s}': a percentage is between 0 and 100")),
                Err(_) => Err(Self::bad(s)),
            };
        }
        parse_duration_ms(t)
            .map(TimePoint::Ms)
            .map_err(|_| Self::bad(s))
    }

    fn bad(s: &str) -> String {
        format!("'{s}' is not a time (examples: 12.5s, 500ms, 1m30s, 30%, or #12 for the 12th snapshot)")
    }
}

impl fmt::Display for TimePoint {
    /// As a user would write it: `12.5 s`, `30%`, `#12`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TimePoint::Ms(ms) => f.write_str(&seconds(ms)),
            TimePoint::Percent(p) => write!(f, "{p}%"),
            TimePoint::Snapshot(n) => write!(f, "#{n}"),
            TimePoint::MemoryError(n) => write!(f, "oom:{n}"),
        }
    }
}

/// Milliseconds as seconds for messages, without float noise: `12.5 s`, `0.056 s`, `90 s`.
///
/// ```
/// assert_eq!(memanim::units::seconds(12_500.0), "12.5 s");
/// ```
pub fn seconds(ms: f64) -> String {
    let s = format!("{:.3}", ms / 1000.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{} s", if s == "-0" { "0" } else { s })
}

/// A duration for messages: `20 ms` under a second, else as [`seconds`].
///
/// ```
/// use memanim::units::duration;
///
/// assert_eq!(duration(20.0), "20 ms");
/// assert_eq!(duration(1500.0), "1.5 s");
/// ```
pub fn duration(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{} ms", ms.round())
    } else {
        seconds(ms)
    }
}

/// `1 frame`, `2 frames`: a count with its noun, singular or plural.
///
/// ```
/// use memanim::units::count;
///
/// assert_eq!(count(1u32, "frame", "frames"), "1 frame");
/// assert_eq!(count(39u32, "frame", "frames"), "39 frames");
/// ```
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_spelling() {
        assert_eq!(parse_duration_ms("90"), Ok(90_000.0));
        assert_eq!(parse_duration_ms("2.5s"), Ok(2500.0));
        assert_eq!(parse_duration_ms("500ms"), Ok(500.0));
        assert_eq!(parse_duration_ms("1m30s"), Ok(90_000.0));
        assert_eq!(parse_duration_ms("1h2m3s"), Ok(3_723_000.0));
        assert_eq!(parse_duration_ms("2m"), Ok(120_000.0));
        assert_eq!(parse_duration_ms(" 0 "), Ok(0.0));
        assert_eq!(parse_duration_ms("1s500ms"), Ok(1500.0));
        for bad in [
            "", "-1", "abc", "5x", "30s1m", "1m1m", "inf", "NaN", "1.2.3s", "50%", "#3",
        ] {
            assert!(parse_duration_ms(bad).is_err(), "{bad}");
        }
        assert!(parse_duration_ms("-1").unwrap_err().contains("negative"));
        assert!(parse_duration_ms("soon").unwrap_err().contains("1m30s"));
        assert_eq!(parse_seconds("1m30s"), Ok(90.0));
        assert!(parse_positive_seconds("0s")
            .unwrap_err()
            .contains("longer than 0"));
        assert_eq!(parse_positive_seconds("10s"), Ok(10.0));
    }

    #[test]
    fn periods_are_milliseconds_or_durations() {
        assert_eq!(parse_period_ms("1073741824"), Ok(1 << 30));
        assert_eq!(parse_period_ms("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_period_ms("90"), Ok(90));
        assert_eq!(parse_period_ms("2"), Ok(2));
        assert_eq!(parse_period_ms("500ms"), Ok(500));
        assert_eq!(parse_period_ms("2.5s"), Ok(2500));
        assert_eq!(parse_period_ms("1m30s"), Ok(90_000));
        for bad in ["", "0", "1", "1.5", "1.5ms", "-4", "50%", "soon"] {
            assert!(parse_period_ms(bad).is_err(), "{bad}");
        }
        assert!(parse_period_ms("1").unwrap_err().contains("at least 2 ms"));
    }

    #[test]
    fn points_are_times_shares_or_snapshot_numbers() {
        assert_eq!(TimePoint::parse("500ms"), Ok(TimePoint::Ms(500.0)));
        assert_eq!(TimePoint::parse("12.5"), Ok(TimePoint::Ms(12_500.0)));
        assert_eq!(TimePoint::parse("1h2m3s"), Ok(TimePoint::Ms(3_723_000.0)));
        assert_eq!(TimePoint::parse("30%"), Ok(TimePoint::Percent(30.0)));
        assert_eq!(TimePoint::parse("#12"), Ok(TimePoint::Snapshot(12)));
        assert!(TimePoint::parse("120%")
            .unwrap_err()
            .contains("between 0 and 100"));
        assert!(TimePoint::parse("#0").unwrap_err().contains("from #1"));
        assert!(TimePoint::parse("#x").is_err());
        assert!(TimePoint::parse("soon").unwrap_err().contains("#12"));
        assert_eq!(TimePoint::Snapshot(3).to_string(), "#3");
        assert_eq!(TimePoint::Ms(6056.0).to_string(), "6.056 s");
        assert_eq!(TimePoint::Ms(90_000.0).to_string(), "90 s");
    }

    #[test]
    fn sizes_are_si_unless_binary_is_asked_for() {
        assert_eq!(parse_size("10M"), Ok(10_000_000));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size(" 10 mb "), Ok(10_000_000));
        assert_eq!(parse_size("1.5M"), Ok(1_500_000));
        assert_eq!(parse_size("256k"), Ok(256_000));
        assert_eq!(parse_size("256K"), Ok(256_000));
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("64Ki"), Ok(64 << 10));
        assert_eq!(parse_size("1G"), Ok(1_000_000_000));
        assert_eq!(parse_size("5000000"), Ok(5_000_000));
        for bad in [
            "", "M", "-1M", "0", "0k", "10X", "10 MBs", "1.5", "inf", "NaN", "1e3k", "10M5",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(parse_size("soon").unwrap_err().contains("10M"));
        assert!(parse_size("0M").unwrap_err().contains("at least one byte"));
    }

    #[test]
    fn sizes_and_play_times_print_for_people() {
        assert_eq!(size(812), "812 B");
        assert_eq!(size(25_600), "25.6 kB");
        assert_eq!(size(9_960_000), "9.96 MB");
        assert_eq!(size(9_999_999), "9.99 MB", "never rounded up past a limit");
        assert_eq!(size(10_000_000), "10 MB");
        assert_eq!(size(256_000), "256 kB");
        assert_eq!(size(1_500_000), "1.5 MB");
        assert_eq!(size(2_000_000_000), "2 GB");
        // What size() prints, parse_size() reads back as no more than the size.
        for b in [1234u64, 987_654, 9_999_999, 123_456_789] {
            let shown = size(b).replace(' ', "");
            assert!(parse_size(&shown).unwrap() <= b, "{b}: {shown}");
        }
        assert_eq!(play_time(30_000.0), "30 s");
        assert_eq!(play_time(12_540.0), "12.5 s");
        assert_eq!(play_time(245_000.0), "4 min 05 s");
        assert_eq!(play_time(3_720_000.0), "1 h 02 min");
    }

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(1u32, "frame", "frames"), "1 frame");
        assert_eq!(count(0u32, "frame", "frames"), "0 frames");
        assert_eq!(count(39u32, "frame", "frames"), "39 frames");
        assert_eq!(seconds(0.0), "0 s");
        assert_eq!(seconds(12_345.0), "12.345 s");
        assert_eq!(duration(20.0), "20 ms");
        assert_eq!(duration(1500.0), "1.5 s");
    }
}
