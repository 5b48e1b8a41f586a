//! Ctrl-C and SIGTERM as a flag the long loops check, so an interrupted run removes its temporary
//! files and says so instead of dying with half a file on disk. A second signal ends the process
//! at once.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    if REQUESTED.swap(true, Ordering::SeqCst) {
        // The second one: the user means it. Only async-signal-safe calls here.
        unsafe { libc::_exit(128 + sig) };
    }
}

/// Installs the handler for SIGINT and SIGTERM (the binary calls this; the library never does).
pub fn install() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only touches an atomic and calls _exit, both async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// Forgets a signal that was handled: `capture` stops on Ctrl-C, and the render that follows must
/// not take the same Ctrl-C as a reason to stop too.
pub fn reset() {
    REQUESTED.store(false, Ordering::SeqCst);
}

/// True once a signal arrived.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Free bytes for an unprivileged user on the file system holding `path`, if the OS says.
///
/// None for a file system that reports no size at all (`/proc`, `/sys`): its "0 bytes free" says
/// nothing about space, and writing there fails for its own reason, which the write reports.
pub fn free_space(path: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid NUL-terminated path and st a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (rc == 0 && st.f_blocks > 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
}
