//! The one parser (and printer) for the times the command line takes, so `--max-idle 1m30s` reads
//! exactly like `--from 1m30s`.
//!
//! Two kinds of value: a *duration* (`--max-idle`, `--last-frame`, `--every`, `capture
//! --duration`), and a *point* in a capture (`--from`, `--to`, `--at`, `diff --at`, `plot
//! --from/--to`), which is a duration since the first snapshot, a share of the capture's span
//! (`30%`), or a snapshot by its number (`#12`, 1-based in file order, as `info` and `stats`
//! count them). Whether a point lies inside a capture is checked by the timeline, which knows the
//! capture; here only the spelling is checked.

use std::fmt;

/// Examples quoted by every error about a duration.
const DURATION_EXAMPLES: &str = "examples: 90, 2.5s, 500ms, 1m30s, 1h";

/// Parses a duration into milliseconds: `90` (seconds), `2.5s`, `500ms`, `1m30s`, `1h2m3s`.
///
/// A bare number is seconds. Parts with units may be combined from the largest unit down, each
/// unit at most once. Negative, infinite or NaN values are refused.
pub fn parse_duration_ms(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let bad = || format!("'{s}' is not a duration ({DURATION_EXAMPLES})");
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(v) = t.parse::<f64>() {
        return if v.is_finite() && v >= 0.0 {
            Ok(v * 1000.0)
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

/// A duration in seconds (for the options that keep seconds), parsed as [`parse_duration_ms`].
pub fn parse_seconds(s: &str) -> Result<f64, String> {
    parse_duration_ms(s).map(|ms| ms / 1000.0)
}

/// A duration in seconds that must be more than zero (`--every`, `capture --duration`).
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
pub fn seconds(ms: f64) -> String {
    let s = format!("{:.3}", ms / 1000.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{} s", if s == "-0" { "0" } else { s })
}

/// A duration for messages: `20 ms` under a second, else as [`seconds`].
pub fn duration(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{} ms", ms.round())
    } else {
        seconds(ms)
    }
}

/// `1 frame`, `2 frames`: a count with its noun, singular or plural.
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
