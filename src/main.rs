fn main() {
    let path = std::env::args().nth(1).unwrap();
    let f = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    match memanim::parse(f, &path, &Default::default()) {
        Ok((c, w)) => {
            println!("{} sessions, {} snaps, {} logs, digits {}", c.sessions.len(), c.snapshot_count(), c.log_count(), c.offset_digits);
            let s = &c.sessions[0].snapshots[0];
            println!("bs {:?} areas {} blocks {}", s.block_size(), s.areas.len(), s.block_count());
            for l in w.report(&path) { println!("{l}"); }
        }
        Err(e) => println!("error: {e}"),
    }
}
