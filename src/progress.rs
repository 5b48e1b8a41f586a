//! The one place progress bars are made: hidden for `--quiet` and when stderr is not a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// A rate for people: `120/s`, `3.5/s` below 10, `0/s` before the first step.
pub fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        "0/s".into()
    } else if per_sec < 10.0 {
        format!("{per_sec:.1}/s")
    } else {
        format!("{per_sec:.0}/s")
    }
}

/// A bar of `len` steps, labelled `what`.
pub fn bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} {rate} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            // indicatif's {per_sec} prints four decimals ("119.6186/s"): whole units read better.
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", rate(s.per_sec()));
            })
            .progress_chars("=> "),
    );
    pb.set_prefix(what.to_string());
    pb
}

#[cfg(test)]
mod tests {
    #[test]
    fn rates_carry_no_float_noise() {
        assert_eq!(super::rate(119.6186), "120/s");
        assert_eq!(super::rate(3.4567), "3.5/s");
        assert_eq!(super::rate(f64::NAN), "0/s");
    }
}
