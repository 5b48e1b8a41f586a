//! Coverage-guided fuzzing of the parser, and of the timeline and the frames of whatever it
//! accepts: the last frame alone, and the first few as one run (drawn over each other), coloured
//! by age. Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run parse fuzz/corpus/parse -- -max_total_time=1800`
//! (see README, "Bad input").
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((capture, _)) = memanim::parse(data, "fuzz", &Default::default()) {
        let schedule = memanim::timeline::resolve(&capture, &Default::default());
        let style = memanim::options::StyleOptions {
            cell: Some(memanim::options::CellSize::square(1)),
            log_lines: 2,
            color: memanim::options::ColorBy::Age,
            ..Default::default()
        };
        let renderer = memanim::render::Renderer::new(&capture, &schedule, &style);
        let l = &renderer.layout;
        if (l.width as u64) * (l.height as u64) < 4 << 20 {
            renderer.render(schedule.frames.len() - 1);
            let first: Vec<usize> = (0..schedule.frames.len().min(8)).collect();
            let mut tracker = renderer.age_tracker();
            let ages: Vec<_> = first
                .iter()
                .map(|&n| tracker.as_mut().map(|t| renderer.observe(t, n)))
                .collect();
            renderer.render_run(&first, &ages);
        }
    }
});
