//! The HTML report in a real browser: Debian's headless Chromium, driven over WebDriver by
//! `chromedriver`. These tests FAIL (they do not skip) when the browser is missing, naming the
//! packages `chromium` and `chromium-driver`; `.ci/run` installs them.
//!
//! One browser session serves all the checks of a test, each a named step, so the whole file
//! costs two browser starts.

mod common;
mod webdriver;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use clap::Parser as _;
use memanim::heap::{BlockKind, Snapshot};
use memanim::render::palette;
use memanim::timeline::Schedule;
use memanim::{Capture, RenderOptions};
use serde_json::{json, Value};
use webdriver::{file_url, Browser};

const LEFT: &str = "\u{E012}";
const RIGHT: &str = "\u{E014}";
const HOME: &str = "\u{E011}";
const END: &str = "\u{E010}";

/// Runs the memanim binary and insists that it succeeds.
fn memanim(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_memanim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "memanim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the report of a capture holds, worked out with the library (the same defaults as the
/// command line): the schedule, the layout, and each frame's capture-wide snapshot number.
struct Expect {
    capture: Capture,
    schedule: Schedule,
    layout: memanim::render::Layout,
}

impl Expect {
    fn new(capture: Capture, options: &RenderOptions) -> Expect {
        let schedule = memanim::timeline::resolve(&capture, &options.timing);
        let layout = memanim::render::Renderer::with_marks(
            &capture,
            &schedule,
            &options.style,
            memanim::error_marks(&capture),
        )
        .layout;
        Expect {
            capture,
            schedule,
            layout,
        }
    }

    /// The capture-wide number (1-based) of frame `k`'s snapshot.
    fn number(&self, k: usize) -> usize {
        let s = self.schedule.frames[k].snap;
        self.capture.sessions[..s.session]
            .iter()
            .map(|x| x.snapshots.len())
            .sum::<usize>()
            + s.index
            + 1
    }

    fn snapshot(&self, k: usize) -> Snapshot {
        let s = self.schedule.frames[k].snap;
        self.capture.sessions[s.session].snapshots.get(s.index)
    }
}

/// The page's heap map as RGB rows: (width, height, pixels).
fn canvas_pixels(b: &Browser, id: &str) -> (u32, u32, Vec<u8>) {
    let v = b.exec(
        "const c = document.getElementById(arguments[0]);
         const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
         let s = '';
         for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode.apply(null, d.subarray(i, i + 0x8000));
         return [c.width, c.height, btoa(s)];",
        json!([id]),
    );
    let rgba = base64::engine::general_purpose::STANDARD
        .decode(v[2].as_str().unwrap())
        .unwrap();
    (
        v[0].as_u64().unwrap() as u32,
        v[1].as_u64().unwrap() as u32,
        rgba,
    )
}

fn frame_now(b: &Browser) -> usize {
    b.exec("return window.memanimReport.frame();", json!([]))
        .as_u64()
        .unwrap() as usize
}

/// Opens frame `k` as a bug report's link would: by its snapshot number in the fragment.
fn open_snapshot(b: &Browser, e: &Expect, k: usize) {
    let n = e.number(k);
    b.exec("location.hash = '#s=' + arguments[0];", json!([n]));
    b.wait_for(
        &format!("return window.memanimReport.frame() === {k};"),
        Duration::from_secs(5),
    );
}

/// Compares the page's map of frame `k` with the still memanim writes for it: every cell's
/// centre, then every pixel of each area's cells (gaps, joins and change marks included).
fn assert_map_matches_still(b: &Browser, e: &Expect, k: usize, still: &Path, what: &str) {
    let img = image::open(still).unwrap().to_rgb8();
    let l = &e.layout;
    assert_eq!((img.width(), img.height()), (l.width, l.height), "{what}");
    let (w, h, rgba) = canvas_pixels(b, "map");
    assert_eq!(
        (w, h),
        (l.width, l.map_h),
        "{what}: the canvas is the map band of the frame"
    );
    let page = |x: u32, y: u32| -> [u8; 3] {
        let p = (((y - l.map_y) * w + x) * 4) as usize;
        [rgba[p], rgba[p + 1], rgba[p + 2]]
    };
    let session = e.schedule.frames[k].snap.session;
    let (fill, fill_h) = l.cell_fill();
    let mut cells = 0;
    for (a, slot) in l.areas(session).iter().enumerate() {
        for i in 0..slot.blocks {
            let (x, y) = l.cell_origin(session, a, i);
            let (cx, cy) = (x + fill / 2, y + fill_h / 2);
            assert_eq!(
                page(cx, cy),
                img.get_pixel(cx, cy).0,
                "{what}: frame {k}, area {a}, block {i}: cell centre ({cx},{cy})"
            );
            cells += 1;
        }
        for y in slot.y..slot.y + slot.rows * l.cell_h {
            for x in l.map_x..l.map_x + l.columns * l.cell {
                assert_eq!(
                    page(x, y),
                    img.get_pixel(x, y).0,
                    "{what}: frame {k}, area {a}: pixel ({x},{y})"
                );
            }
        }
    }
    assert!(cells > 0, "{what}: frame {k} has cells");
}

/// Console messages at level SEVERE (errors, CSP violations, uncaught exceptions).
fn console_errors(b: &Browser) -> Vec<String> {
    b.console()
        .into_iter()
        .filter(|(level, _)| level == "SEVERE")
        .map(|(_, m)| m)
        .collect()
}

/// Viewport coordinates (CSS px) of a frame pixel inside the page's map canvas.
fn viewport_point(b: &Browser, e: &Expect, x: u32, y: u32) -> (i64, i64) {
    let r = b.exec(
        "const r = document.getElementById('overlay').getBoundingClientRect(); return [r.left, r.top];",
        json!([]),
    );
    (
        r[0].as_f64().unwrap().round() as i64 + x as i64,
        r[1].as_f64().unwrap().round() as i64 + (y - e.layout.map_y) as i64,
    )
}

/// An object in the capture, followed through every snapshot of its session by the rule the
/// report documents (same area, head, kind and length; a marked head matches any kind): the
/// oracle for ages, births and deaths.
struct Allocation {
    head: usize,
    len: usize,
    kind: BlockKind,
    /// Snapshot indices (in the session) of its first and of its first absence.
    born: usize,
    gone: Option<usize>,
}

fn allocation_at(snap: &Snapshot, area: usize, head: usize) -> Option<(BlockKind, usize)> {
    let blocks = &snap.areas.get(area)?.blocks;
    let kind = *blocks.get(head)?;
    if !kind.is_head() {
        return None;
    }
    let len = 1 + blocks[head + 1..]
        .iter()
        .take_while(|&&k| k == BlockKind::Tail)
        .count();
    Some((kind, len))
}

fn follow(e: &Expect, k: usize, area: usize, head: usize) -> Allocation {
    let spec = &e.schedule.frames[k];
    let snaps = &e.capture.sessions[spec.snap.session].snapshots;
    let here = snaps.get(spec.snap.index);
    let (kind, len) = allocation_at(&here, area, head).expect("an allocation");
    let same = |i: usize| {
        allocation_at(&snaps.get(i), area, head).is_some_and(|(k2, l2)| {
            l2 == len && (k2 == kind || k2 == BlockKind::Marked || kind == BlockKind::Marked)
        })
    };
    let mut born = spec.snap.index;
    while born > 0 && same(born - 1) {
        born -= 1;
    }
    let gone = (spec.snap.index + 1..snaps.len()).find(|&i| !same(i));
    Allocation {
        head,
        len,
        kind,
        born,
        gone,
    }
}

/// The first frame (of the session of frame `k`) that shows a snapshot at or after `index`.
fn first_frame_from(e: &Expect, k: usize, index: usize) -> Option<usize> {
    let session = e.schedule.frames[k].snap.session;
    e.schedule
        .frames
        .iter()
        .position(|f| f.snap.session == session && f.snap.index >= index)
}

#[test]
fn report_in_headless_chromium() {
    let started = Instant::now();
    let dir = common::scratch("html_browser");
    let page = dir.join("heap.html");
    let sample = "samples/frag_small.log";
    memanim(&[sample, "-o", page.to_str().unwrap(), "-q"]);
    let e = Expect::new(common::load(sample), &RenderOptions::default());
    let n = e.schedule.frames.len();
    assert!(n > 120, "the sample has {n} frames");
    let b = Browser::start(&dir);
    let url = file_url(&page);

    // Loads, with no console errors (CSP violations and script errors are SEVERE).
    b.goto(&url);
    b.wait_for(
        "return document.body.dataset.ready === 'true';",
        Duration::from_secs(10),
    );
    assert_eq!(
        console_errors(&b),
        Vec::<String>::new(),
        "console errors on load"
    );
    assert_eq!(frame_now(&b), 0, "opens at the first frame");

    // The fragment link opens at its snapshot.
    let k120 = (0..n).rfind(|&k| e.number(k) <= 120).unwrap();
    b.goto(&format!("{url}#s=120"));
    b.wait_for(
        "return document.body.dataset.ready === 'true';",
        Duration::from_secs(10),
    );
    assert_eq!(frame_now(&b), k120, "#s=120 opens at snapshot 120");
    let pos = b.exec(
        "return document.getElementById('position').textContent;",
        json!([]),
    );
    assert!(
        pos.as_str()
            .unwrap()
            .starts_with(&format!("snapshot {}/", e.number(k120))),
        "{pos}"
    );
    // Moving on updates the fragment, so the address bar can be pasted into a bug report.
    b.key(RIGHT);
    let hash = b.exec("return location.hash;", json!([]));
    assert_eq!(hash, json!(format!("#s={}", e.number(k120 + 1))));

    // The map of a snapshot is the still's picture: frames at the start, middle and end.
    for k in [0, 1, n / 2, k120, n - 1] {
        let still = dir.join(format!("still_{k}.png"));
        memanim(&[
            sample,
            "--frame",
            &(k + 1).to_string(),
            "-o",
            still.to_str().unwrap(),
            "-q",
        ]);
        open_snapshot(&b, &e, k);
        assert_map_matches_still(&b, &e, k, &still, "colour by kind");
    }

    // Hovering a block of a known allocation tells its kind, size, address and age.
    let k = n / 2;
    open_snapshot(&b, &e, k);
    let snap = e.snapshot(k);
    let area = &snap.areas[0];
    let bs = area.block_size as usize;
    // A long-lived allocation of 2 blocks or more, born before this frame.
    let half = area.blocks.len() / 2;
    let alloc = (half..area.blocks.len())
        .chain(0..half)
        .filter(|&h| allocation_at(&snap, 0, h).is_some_and(|(_, len)| len >= 2))
        .map(|h| follow(&e, k, 0, h))
        .find(|a| a.born + 3 <= e.schedule.frames[k].snap.index && a.gone.is_some())
        .expect("a long-lived object of 2 blocks or more that is freed later");
    let (x, y) = e.layout.cell_origin(0, 0, alloc.head + 1);
    let (fill, fill_h) = e.layout.cell_fill();
    let (vx, vy) = viewport_point(&b, &e, x + fill / 2, y + fill_h / 2);
    b.move_to(vx, vy);
    b.wait_for(
        "return !document.getElementById('tip').hidden;",
        Duration::from_secs(5),
    );
    let tip = b
        .exec(
            "return document.getElementById('tip').textContent;",
            json!([]),
        )
        .as_str()
        .unwrap()
        .to_string();
    let age = e.schedule.frames[k].snap.index - alloc.born;
    let ptr = area.ptr;
    let offset = alloc.head * bs;
    for want in [
        format!(
            "{} ({}), block 2 of {}",
            alloc.kind.name(),
            alloc.kind.to_char(),
            alloc.len
        ),
        format!("size: {} blocks, {} bytes", alloc.len, alloc.len * bs),
        format!(
            "address: {:#x} (area {ptr:#x} + {offset:#x})",
            ptr + offset as u64
        ),
        format!("age: {age} snapshots"),
    ] {
        assert!(tip.contains(&want), "tooltip lacks {want:?}:\n{tip}");
    }

    // Clicking highlights the whole allocation and says when it was allocated and freed.
    b.click_at(vx, vy);
    b.wait_for(
        "return document.getElementById('sel-allocated') !== null;",
        Duration::from_secs(5),
    );
    let (ow, _, overlay) = canvas_pixels(&b, "overlay");
    let alpha = |i: usize| {
        let (x, y) = e.layout.cell_origin(0, 0, i);
        let (cx, cy) = (x + fill / 2, y + fill_h / 2 - e.layout.map_y);
        overlay[((cy * ow + cx) * 4 + 3) as usize]
    };
    for i in alloc.head..alloc.head + alloc.len {
        assert!(alpha(i) > 0, "block {i} of the allocation is highlighted");
    }
    let outside = [alloc.head.wrapping_sub(1), alloc.head + alloc.len];
    for i in outside.into_iter().filter(|&i| i < area.blocks.len()) {
        assert_eq!(
            alpha(i),
            0,
            "block {i} next to the allocation is not highlighted"
        );
    }
    let allocated = first_frame_from(&e, k, alloc.born).unwrap();
    let freed = first_frame_from(&e, k, alloc.gone.unwrap());
    let data_frame = |id: &str| {
        b.exec(
            "const e = document.getElementById(arguments[0]); return e && Number(e.dataset.frame);",
            json!([id]),
        )
    };
    assert_eq!(
        data_frame("sel-allocated"),
        json!(allocated),
        "allocated at"
    );
    assert_eq!(
        data_frame("sel-freed"),
        freed.map_or(Value::Null, |f| json!(f)),
        "freed by"
    );
    assert_eq!(
        b.exec(
            "return document.getElementById('sel-here').textContent;",
            json!([])
        ),
        json!("In this snapshot (highlighted).")
    );
    // The README's screenshot: the page as a user sees it, pointing at the selected block
    // (copied to samples/report.png).
    let shot = b.screenshot();
    assert!(shot.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(dir.join("report.png"), shot).unwrap();
    // The listed moments are links: at the one where it was freed, it is no longer there.
    if freed.is_some() {
        b.click("#sel-freed");
        assert_eq!(Some(frame_now(&b)), freed);
        let (_, _, overlay) = canvas_pixels(&b, "overlay");
        assert!(
            overlay.chunks(4).all(|p| p[3] == 0),
            "nothing highlighted once freed"
        );
    }
    b.click("#sel-allocated");
    assert_eq!(frame_now(&b), allocated);

    // Keys: End, Home, Right, Left, and Space to play and pause.
    b.key(END);
    assert_eq!(frame_now(&b), n - 1, "End");
    b.key(HOME);
    assert_eq!(frame_now(&b), 0, "Home");
    b.key(RIGHT);
    b.key(RIGHT);
    assert_eq!(frame_now(&b), 2, "Right twice");
    b.key(LEFT);
    assert_eq!(frame_now(&b), 1, "Left");
    b.key(" ");
    b.wait_for(
        "return window.memanimReport.frame() > 1;",
        Duration::from_secs(5),
    );
    b.key(" ");
    let paused = frame_now(&b);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(frame_now(&b), paused, "Space pauses");

    // Play advances snapshots (the button), and pauses again.
    b.key(HOME);
    b.click("#play");
    b.wait_for(
        "return window.memanimReport.frame() >= 3;",
        Duration::from_secs(5),
    );
    b.click("#play");
    let paused = frame_now(&b);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(frame_now(&b), paused, "the button pauses");

    // Clicking a log line jumps to the frame where it is first on screen.
    open_snapshot(&b, &e, n / 2);
    let rows = b.exec(
        "return [...document.querySelectorAll('#logs .log')].map(r => [Number(r.dataset.line), Number(r.dataset.frame)]);",
        json!([]),
    );
    let rows = rows.as_array().unwrap();
    assert!(rows.len() >= 5, "log lines around the snapshot: {rows:?}");
    let (line, target) = rows
        .iter()
        .map(|r| (r[0].as_u64().unwrap(), r[1].as_u64().unwrap() as usize))
        .find(|&(_, f)| f != n / 2)
        .expect("a log line of another frame");
    let index = (0..e.schedule.logs.len())
        .find(|&i| e.schedule.log(&e.capture, i).line == line)
        .unwrap();
    let expected = e
        .schedule
        .frames
        .iter()
        .position(|f| f.logs_end > index)
        .unwrap_or(n - 1);
    assert_eq!(
        target, expected,
        "log line {line} belongs to frame {expected}"
    );
    b.click(&format!("#logs .log[data-line='{line}']"));
    assert_eq!(frame_now(&b), expected, "clicking log line {line}");

    // Clicking the usage chart jumps to the frame on screen at that time.
    let r = b.exec(
        "const r = document.getElementById('chart').getBoundingClientRect(); return [r.left, r.top, r.width, r.height];",
        json!([]),
    );
    let (cl, ct, cw, ch) = (
        r[0].as_f64().unwrap(),
        r[1].as_f64().unwrap(),
        r[2].as_f64().unwrap(),
        r[3].as_f64().unwrap(),
    );
    let frames = &e.schedule.frames;
    let t0 = frames[0].elapsed_ms as f64;
    let step = (frames[n - 1].elapsed_ms as f64 - t0) / (n - 1) as f64;
    let t1 = frames[n - 1].elapsed_ms as f64 + step;
    for share in [0.25, 0.7] {
        let px = (6.0 + share * (cw - 13.0)).round();
        let t = t0 + (px - 6.0) / (cw - 13.0) * (t1 - t0);
        let want = frames
            .iter()
            .rposition(|f| f.elapsed_ms as f64 <= t)
            .unwrap();
        b.click_at((cl + px) as i64, (ct + ch / 2.0) as i64);
        assert_eq!(frame_now(&b), want, "chart click at {share}");
    }

    // Coloured by age, the map is again the still's.
    let aged = dir.join("age.html");
    memanim(&[sample, "--color", "age", "-o", aged.to_str().unwrap(), "-q"]);
    b.goto(&file_url(&aged));
    b.wait_for(
        "return document.body.dataset.ready === 'true';",
        Duration::from_secs(10),
    );
    for k in [0, n / 3, n - 1] {
        let still = dir.join(format!("age_{k}.png"));
        memanim(&[
            sample,
            "--color",
            "age",
            "--frame",
            &(k + 1).to_string(),
            "-o",
            still.to_str().unwrap(),
            "-q",
        ]);
        open_snapshot(&b, &e, k);
        assert_map_matches_still(&b, &e, k, &still, "colour by age");
    }

    // Other geometries: cells without gaps in 80 columns; four heap areas at scale 2 without
    // change marks. The page takes them from the data as they are.
    for (capture, look) in [
        (
            "samples/unix32_blocks16.log",
            &["--columns", "80", "--cell", "3"][..],
        ),
        (
            "samples/split_heap_coverage.log",
            &["--scale", "2", "--no-changes"][..],
        ),
    ] {
        let options = options_of(capture, look);
        let e = Expect::new(common::load(capture), &options);
        let n = e.schedule.frames.len();
        let page = dir.join("geometry.html");
        memanim(&[&[capture, "-o", page.to_str().unwrap(), "-q"], look].concat());
        b.goto(&file_url(&page));
        b.wait_for(
            "return document.body.dataset.ready === 'true';",
            Duration::from_secs(10),
        );
        for k in [n / 4, n - 1] {
            let still = dir.join(format!("geometry_{k}.png"));
            let frame = (k + 1).to_string();
            memanim(
                &[
                    &[
                        capture,
                        "--frame",
                        &frame,
                        "-o",
                        still.to_str().unwrap(),
                        "-q",
                    ],
                    look,
                ]
                .concat(),
            );
            open_snapshot(&b, &e, k);
            assert_map_matches_still(&b, &e, k, &still, &format!("{capture} {look:?}"));
        }
    }

    // Zoomed in, the pointer still finds its block.
    b.goto(&url);
    b.wait_for(
        "return document.body.dataset.ready === 'true';",
        Duration::from_secs(10),
    );
    open_snapshot(&b, &e, k);
    b.exec(
        "const z = document.getElementById('zoom'); z.value = '2'; z.dispatchEvent(new Event('change'));",
        json!([]),
    );
    let (x, y) = e.layout.cell_origin(0, 0, alloc.head);
    let r = b.exec(
        "const r = document.getElementById('overlay').getBoundingClientRect(); return [r.left, r.top, r.width];",
        json!([]),
    );
    assert_eq!(
        r[2].as_f64().unwrap() as u32,
        2 * e.layout.width,
        "the canvas is shown twice as large"
    );
    b.move_to(
        r[0].as_f64().unwrap().round() as i64 + 2 * (x + fill / 2) as i64,
        r[1].as_f64().unwrap().round() as i64 + 2 * (y - e.layout.map_y + fill_h / 2) as i64,
    );
    let tip = b.exec(
        "return document.getElementById('tip').textContent;",
        json!([]),
    );
    assert!(
        tip.as_str()
            .unwrap()
            .contains(&format!("address: {:#x}", ptr + offset as u64)),
        "at zoom 2: {tip}"
    );

    assert_eq!(
        console_errors(&b),
        Vec::<String>::new(),
        "console errors while used"
    );
    eprintln!(
        "browser checks took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The options the command line makes of `look` (render options after the capture's name).
fn options_of(capture: &str, look: &[&str]) -> RenderOptions {
    let args = [&["memanim", capture, "-o", "x.html"], look].concat();
    memanim::cli::Cli::try_parse_from(args)
        .unwrap()
        .render
        .plan()
        .unwrap()
        .options
}

/// A capture whose text is markup and script: log lines, a banner after a reset and the file
/// name itself. The page runs none of it, shows it as text, and marks the reset.
#[test]
fn hostile_capture_runs_nothing_and_sessions_are_marked() {
    let dir = common::scratch("html_hostile");
    let blocks = |seed: usize| common::pattern(640, seed);
    let hostile = [
        "</script><script>window.__pwned = 1; document.title = 'PWNED'</script>",
        "<img src=x onerror=\"window.__pwned = 2; document.title = 'PWNED'\">",
        "<!-- & &amp; &lt;b&gt; \u{2028}line\u{2029}break -->",
    ];
    let mut text = format!("{}\n", hostile[0]);
    let b0 = blocks(1);
    let b1 = blocks(2);
    let b2 = blocks(3);
    let b3 = blocks(4);
    for (i, b) in [&b0, &b1, &b2].into_iter().enumerate() {
        text.push_str(&common::dump(
            1000 + 350 * i as u64,
            &[common::Area {
                ptr: "3ffb0000",
                blocks: b,
            }],
            Default::default(),
        ));
        text.push_str(hostile[i]);
        text.push('\n');
    }
    text.push_str("MPY: soft reboot\n");
    text.push_str(
        "MicroPython v1.23.0 on 2024-06-01; <script>window.__pwned = 4</script> with ESP32\n",
    );
    for (i, b) in [&b3, &b0, &b2].into_iter().enumerate() {
        text.push_str(&common::dump(
            200 + 350 * i as u64,
            &[common::Area {
                ptr: "3ffc8000",
                blocks: b,
            }],
            Default::default(),
        ));
        text.push_str(hostile[2 - i]);
        text.push('\n');
    }
    let name = "<img src=x onerror=window.__pwned=3>.log";
    let capture_path = dir.join(name);
    std::fs::write(&capture_path, &text).unwrap();
    let page = dir.join("hostile.html");
    let out = Command::new(env!("CARGO_BIN_EXE_memanim"))
        .arg(name)
        .args(["-o", "hostile.html", "-q"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // In the file: the payloads only as escaped JSON, and exactly the page's own two scripts.
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "only the page's own script elements"
    );
    assert!(!html.contains("<img"), "no img markup from the capture");
    assert!(html.contains("\\u003c/script\\u003e\\u003cscript\\u003ewindow.__pwned"));
    assert!(html.contains(
        "http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'sha256-"
    ));

    let (capture, _) = memanim::parse(text.as_bytes(), name, &Default::default()).unwrap();
    let e = Expect::new(capture, &RenderOptions::default());
    assert_eq!(e.capture.sessions.len(), 2);
    let n = e.schedule.frames.len();
    let b = Browser::start(&dir);
    b.goto(&file_url(&page));
    b.wait_for(
        "return document.body.dataset.ready === 'true';",
        Duration::from_secs(10),
    );
    assert_eq!(
        console_errors(&b),
        Vec::<String>::new(),
        "console errors on load"
    );

    let state = || {
        b.exec(
            "return [window.__pwned === undefined, document.title, document.querySelectorAll('script').length, document.querySelectorAll('img').length];",
            json!([]),
        )
    };
    assert_eq!(
        state(),
        json!([true, format!("{name} - memanim"), 2, 0]),
        "nothing ran, the title is the file name as text"
    );
    assert_eq!(
        b.exec(
            "return document.getElementById('title').textContent;",
            json!([])
        ),
        json!(format!("Heap of {name}"))
    );

    // Every log line is on screen at some frame, as the text it was.
    let mut seen: Vec<String> = Vec::new();
    for k in 0..n {
        open_snapshot(&b, &e, k);
        let texts = b.exec(
            "return [...document.querySelectorAll('#logs .log .t')].map(t => t.textContent);",
            json!([]),
        );
        seen.extend(
            texts
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string()),
        );
    }
    for h in hostile {
        assert!(
            seen.iter().any(|s| s == h),
            "{h:?} is shown as text; shown: {seen:?}"
        );
    }
    let sessions = b.exec(
        "return [...document.querySelectorAll('#sessions li')].map(li => li.textContent);",
        json!([]),
    );
    let sessions: Vec<&str> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert!(
        sessions[1].contains("<script>window.__pwned = 4</script>")
            && sessions[1].contains("MPY: soft reboot"),
        "the banner and the reset are listed as text: {sessions:?}"
    );
    assert_eq!(
        state(),
        json!([true, format!("{name} - memanim"), 2, 0]),
        "still nothing ran"
    );

    // The reset is marked on the scrubber and in the chart, where the second session begins.
    let start = (1..n)
        .find(|&k| e.schedule.frames[k].snap.session != e.schedule.frames[k - 1].snap.session)
        .unwrap();
    let marks = b.exec(
        "return [...document.querySelectorAll('#marks .mark')].map(m => Number(m.dataset.frame));",
        json!([]),
    );
    assert_eq!(
        marks,
        json!([start]),
        "one mark, at the first frame of session 2"
    );
    let (cw, _, chart) = canvas_pixels(&b, "chart");
    let frames = &e.schedule.frames;
    let t0 = frames[0].elapsed_ms as f64;
    let step = (frames[n - 1].elapsed_ms as f64 - t0) / (n - 1) as f64;
    let t1 = frames[n - 1].elapsed_ms as f64 + step;
    let x = 6
        + ((frames[start].elapsed_ms as f64 - t0) / (t1 - t0) * (cw as f64 - 13.0)).round() as u32;
    // The cursor (white) may sit elsewhere; look at the top row, above the curves.
    let p = ((2 * cw + x) * 4) as usize;
    assert_eq!(
        [chart[p], chart[p + 1], chart[p + 2]],
        palette::rgb()[palette::ix::FREED as usize],
        "a red line at x={x} in the chart"
    );

    // Each session's map is drawn in its own layout, as the stills are.
    for k in [start - 1, start, n - 1] {
        let still = dir.join(format!("still_{k}.png"));
        let out = Command::new(env!("CARGO_BIN_EXE_memanim"))
            .arg(name)
            .args([
                "--frame",
                &(k + 1).to_string(),
                "-o",
                still.to_str().unwrap(),
                "-q",
            ])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        open_snapshot(&b, &e, k);
        assert_map_matches_still(&b, &e, k, &still, "after a reset");
    }
    assert_eq!(
        console_errors(&b),
        Vec::<String>::new(),
        "console errors while used"
    );

    // The policy is in force: an inline script added to the page does not run (and the
    // browser reports the violation).
    b.exec(
        "const s = document.createElement('script'); s.textContent = 'window.__csp = 1'; document.body.append(s);",
        json!([]),
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        b.exec("return window.__csp === undefined;", json!([])),
        json!(true)
    );
    let errors = console_errors(&b);
    assert!(
        errors.iter().any(|m| m.contains("Content Security Policy")),
        "the violation is reported: {errors:?}"
    );
}
