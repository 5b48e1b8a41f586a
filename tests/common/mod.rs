//! Builds capture text the way MicroPython prints it, for hand-made variants of the format.
#![allow(dead_code)]

use std::fmt::Write as _;

/// One heap area for [`dump`]: its pointer and its blocks as layout characters.
pub struct Area<'a> {
    pub ptr: &'a str,
    pub blocks: &'a str,
}

/// How [`dump`] prints.
#[derive(Clone, Copy)]
pub struct Style {
    /// Bytes per block.
    pub block_size: u64,
    /// Hex digits of the offset column (5 before v1.20, 8 since).
    pub digits: usize,
    /// Added to every printed offset before masking (old firmware printed masked pointers).
    pub offset_base: u64,
    pub mem_line: bool,
    pub summary: bool,
    pub table: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            block_size: 16,
            digits: 8,
            offset_base: 0,
            mem_line: false,
            summary: true,
            table: true,
        }
    }
}

/// The rows of one area as `gc_dump_alloc_table` prints them: 64 blocks a row, and a run of two or
/// more all-free rows (counted from a row start, possibly running into the next row) replaced by
/// `       (N lines all free)`; a run reaching the end of the area ends the area.
pub fn layout_rows(blocks: &str, style: Style) -> String {
    let b = blocks.as_bytes();
    let n = b.len();
    let mut out = String::new();
    let mut bl = 0;
    let mask = if style.digits <= 5 {
        (1u64 << 20) - 1
    } else {
        u64::MAX
    };
    while bl < n {
        if bl % 64 == 0 {
            let mut bl2 = bl;
            while bl2 < n && b[bl2] == b'.' {
                bl2 += 1;
            }
            if bl2 - bl >= 128 {
                writeln!(out, "       ({} lines all free)", (bl2 - bl) / 64).unwrap();
                bl = bl2 & !63;
                if bl >= n {
                    break;
                }
            }
            let off = (style.offset_base + bl as u64 * style.block_size) & mask;
            write!(out, "{:0width$x}: ", off, width = style.digits).unwrap();
        }
        out.push(b[bl] as char);
        bl += 1;
        if bl % 64 == 0 || bl == n {
            out.push('\n');
        }
    }
    out
}

/// A whole dump (`@@@ <ticks>` ... `@@@`) whose GC line agrees with its blocks.
pub fn dump(ticks: u64, areas: &[Area<'_>], style: Style) -> String {
    let mut out = format!("@@@ {ticks}\n");
    let all: String = areas.iter().map(|a| a.blocks).collect();
    let used = all.bytes().filter(|&c| c != b'.').count() as u64 * style.block_size;
    let total = all.len() as u64 * style.block_size;
    if style.mem_line {
        writeln!(out, "mem: total=1000, current=500, peak=800").unwrap();
    }
    if style.summary {
        writeln!(out, "stack: 1296 out of 80000").unwrap();
        writeln!(
            out,
            "GC: total: {total}, used: {used}, free: {}",
            total - used
        )
        .unwrap();
        let ones = all.len(); // not checked by memanim
        writeln!(
            out,
            " No. of 1-blocks: {ones}, 2-blocks: 0, max blk sz: 1, max free sz: {}",
            longest_free(&all)
        )
        .unwrap();
    }
    if style.table {
        for a in areas {
            writeln!(out, "GC memory layout; from {}:", a.ptr).unwrap();
            out.push_str(&layout_rows(a.blocks, style));
        }
    }
    out.push_str("@@@\n");
    out
}

fn longest_free(s: &str) -> usize {
    s.split(|c| c != '.').map(str::len).max().unwrap_or(0)
}

/// A heap pattern of `n` blocks: a few objects at the start, then free space, a few in the middle.
pub fn pattern(n: usize, seed: usize) -> String {
    let kinds = [
        "h=", "S==", "L", "D===", "T=", "A=====", "F", "B==", "M=", "h",
    ];
    let mut s = String::new();
    let mut i = seed;
    while s.len() < n / 3 {
        s.push_str(kinds[i % kinds.len()]);
        if i % 3 == 0 {
            s.push_str("...");
        }
        i += 1;
    }
    while s.len() < n / 2 + seed % 50 {
        s.push('.');
    }
    while s.len() < 2 * n / 3 {
        s.push_str(kinds[i % kinds.len()]);
        i += 1;
    }
    s.truncate(2 * n / 3);
    // A tail never follows free space.
    let mut fixed: Vec<u8> = s.into_bytes();
    for k in 0..fixed.len() {
        if fixed[k] == b'=' && (k == 0 || fixed[k - 1] == b'.') {
            fixed[k] = b'h';
        }
    }
    let mut s = String::from_utf8(fixed).unwrap();
    while s.len() < n {
        s.push('.');
    }
    s
}

/// Parses text with default options.
pub fn parse(text: &str) -> (memanim::Capture, memanim::Warnings) {
    memanim::parse(
        text.as_bytes(),
        "test.log",
        &memanim::ParseOptions::default(),
    )
    .expect("the text has dumps")
}

/// Parses bytes, returning the error too.
pub fn try_parse(bytes: &[u8]) -> memanim::Result<(memanim::Capture, memanim::Warnings)> {
    memanim::parse(bytes, "test.log", &memanim::ParseOptions::default())
}

/// The layout characters of a parsed area, for comparing with what was printed.
pub fn chars(area: &memanim::heap::HeapArea) -> String {
    area.blocks.iter().map(|k| k.to_char()).collect()
}

/// A decoded GIF: the global palette, each frame composited onto the canvas, and the delays.
pub struct DecodedGif {
    pub width: u32,
    pub height: u32,
    pub palette: Vec<u8>,
    pub frames: Vec<Vec<u8>>,
    pub delays: Vec<u16>,
    pub repeat: gif::Repeat,
}

impl DecodedGif {
    pub fn rgb(&self, frame: usize, x: u32, y: u32) -> [u8; 3] {
        let i = self.frames[frame][(y * self.width + x) as usize] as usize;
        [
            self.palette[i * 3],
            self.palette[i * 3 + 1],
            self.palette[i * 3 + 2],
        ]
    }
}

/// Decodes a GIF as indices, applying each frame's rectangle and transparency to the canvas.
pub fn decode_gif(path: &std::path::Path) -> DecodedGif {
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::Indexed);
    let mut d = opts.read_info(std::fs::File::open(path).unwrap()).unwrap();
    let (w, h) = (d.width() as u32, d.height() as u32);
    let palette = d.global_palette().expect("a global palette").to_vec();
    let mut canvas = vec![0u8; (w * h) as usize];
    let mut frames = Vec::new();
    let mut delays = Vec::new();
    while let Some(f) = d.read_next_frame().unwrap() {
        assert!(f.palette.is_none(), "no local palettes");
        for y in 0..f.height as u32 {
            for x in 0..f.width as u32 {
                let p = f.buffer[(y * f.width as u32 + x) as usize];
                if Some(p) != f.transparent {
                    canvas[((f.top as u32 + y) * w + f.left as u32 + x) as usize] = p;
                }
            }
        }
        frames.push(canvas.clone());
        delays.push(f.delay);
    }
    DecodedGif {
        width: w,
        height: h,
        palette,
        frames,
        delays,
        repeat: d.repeat(),
    }
}

/// A fresh empty directory under the target dir (removed first if it exists).
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Loads a capture shipped with the project (path relative to the crate root).
pub fn load(path: &str) -> memanim::Capture {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let f = std::fs::File::open(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    memanim::parse(std::io::BufReader::new(f), path, &Default::default())
        .unwrap()
        .0
}

/// The MicroPython unix port: $MEMANIM_MICROPYTHON, target/mpy-venv (installed by .ci/run), or
/// `micropython` on PATH. When none is there, says loudly which test did not run.
pub fn micropython(what: &str) -> Option<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("MEMANIM_MICROPYTHON").map(std::path::PathBuf::from),
        Some(root.join("target/mpy-venv/bin/micropython")),
    ];
    if let Some(p) = candidates.into_iter().flatten().find(|c| c.is_file()) {
        return Some(p);
    }
    if std::process::Command::new("micropython")
        .args(["-c", "pass"])
        .output()
        .is_ok()
    {
        return Some("micropython".into());
    }
    eprintln!(
        "\n*** SKIPPED: MicroPython not found (install it with `bash .ci/run`, or set MEMANIM_MICROPYTHON); {what} did not run ***\n"
    );
    None
}

/// Runs the memanim binary with `args`, writes `input` to its standard input and closes it, and
/// returns what it did.
pub fn memanim_fed(args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_memanim"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs a script from tests/device on the MicroPython unix port with the given heap size and
/// arguments, and returns what it printed (stdout; the script must succeed).
pub fn run_device_script(mp: &std::path::Path, heap: &str, script: &str, args: &[&str]) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/device");
    let out = std::process::Command::new(mp)
        .arg("-X")
        .arg(format!("heapsize={heap}"))
        .arg(script)
        .args(args)
        .current_dir(&dir)
        .output()
        .expect("micropython runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The dumps of a capture shipped with the project (path relative to the crate root), each as the
/// text between its `@@@ <ticks>` and `@@@` lines.
pub fn dumps_of(path: &str) -> Vec<String> {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        if let Some(d) = cur.as_mut() {
            if line == "@@@" {
                out.push(cur.take().unwrap());
            } else {
                d.push_str(line);
                d.push('\n');
            }
        } else if line.starts_with("@@@ ") && !line.ends_with(')') {
            cur = Some(String::new());
        }
    }
    out
}

/// The lines of a capture shipped with the project (path relative to the crate root).
pub fn lines_of(path: &str) -> impl Iterator<Item = String> {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    text.lines()
        .map(str::to_owned)
        .collect::<Vec<_>>()
        .into_iter()
}

/// The `ticks_ms` of each dump of a capture shipped with the project, from its `@@@ <ticks>` lines.
pub fn ticks_of(path: &str) -> Vec<u64> {
    lines_of(path)
        .filter_map(|l| l.strip_prefix("@@@ ")?.trim().parse().ok())
        .collect()
}

/// A long capture made of real dumps: `n` dumps `period_ms` apart, walking through `dumps`
/// forwards then backwards (so consecutive dumps stay close, as a running app's do), after a sync
/// line, with a log line every 10 dumps.
pub fn replay(dumps: &[String], n: usize, period_ms: u64) -> String {
    let mut out = String::from("INFO:test:start\n@@@ 1000 (2026, 11, 25, 12, 0, 0, 2, 329)\n");
    let cycle = (2 * dumps.len()).saturating_sub(2).max(1);
    for i in 0..n {
        let k = i % cycle;
        let d = if k < dumps.len() { k } else { cycle - k };
        write!(
            out,
            "@@@ {}\n{}@@@\n",
            1000 + i as u64 * period_ms,
            dumps[d]
        )
        .unwrap();
        if i % 10 == 9 {
            writeln!(out, "INFO:test:dump {i}").unwrap();
        }
    }
    out
}
