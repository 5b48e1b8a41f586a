//! Coverage-guided fuzzing of the parser, and of the timeline and the first frame of whatever it
//! accepts. Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run parse fuzz/corpus/parse -- -max_total_time=1800`
//! (see README, "Bad input").
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((capture, _)) = memanim::parse(data, "fuzz", &Default::default()) {
        let schedule = memanim::timeline::resolve(&capture, &Default::default());
        let style = memanim::options::StyleOptions {
            cell: Some(1),
            log_lines: 2,
            ..Default::default()
        };
        let renderer = memanim::render::Renderer::new(&capture, &schedule, &style);
        let l = &renderer.layout;
        if (l.width as u64) * (l.height as u64) < 4 << 20 {
            renderer.render(schedule.frames.len() - 1);
        }
    }
});
