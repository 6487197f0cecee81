//! Stopping an `--apply` run cleanly on SIGINT or SIGTERM.
//!
//! The first signal only sets a flag; the run checks it before each file write (and before
//! each unit), so it stops *between* files: every file keeps either its old or its new
//! content, and no temporary file is left behind. A second signal of the same kind ends the
//! process at once, as an impatient user expects (the file being written, if any, still has
//! its old content: the rename that replaces it is atomic).

use std::sync::Arc;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static SIGNAL: LazyLock<Arc<AtomicUsize>> = LazyLock::new(|| Arc::new(AtomicUsize::new(0)));
static STOP: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// Install the handlers (the command line does, once). Failing to install them is not fatal:
/// the run then simply cannot be stopped between files.
pub fn install() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        for sig in [SIGINT, SIGTERM] {
            // Second signal: the default action (terminate), registered first so it sees the
            // flag as it was before this signal set it.
            let _ = signal_hook::flag::register_conditional_default(sig, Arc::clone(&STOP));
            let _ = signal_hook::flag::register(sig, Arc::clone(&STOP));
            let _ = signal_hook::flag::register_usize(sig, Arc::clone(&SIGNAL), sig as usize);
        }
    }
}

/// The signal that asked the run to stop, if any.
pub fn requested() -> Option<i32> {
    if !STOP.load(Ordering::SeqCst) {
        return None;
    }
    match SIGNAL.load(Ordering::SeqCst) {
        0 => Some(15),
        n => Some(n as i32),
    }
}

/// Ask the run to stop as if `signal` had been received (tests).
pub fn request(signal: i32) {
    SIGNAL.store(signal.max(1) as usize, Ordering::SeqCst);
    STOP.store(true, Ordering::SeqCst);
}

/// The conventional exit status for a run stopped by `signal`: 128 + its number.
pub fn exit_status(signal: i32) -> i32 {
    128 + signal
}

/// The name of a signal, for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "a signal",
    }
}
