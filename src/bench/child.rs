//! Runs a command as a child process and measures what a user would: wall time from spawn to
//! exit, and the child's peak resident set size as the kernel counted it.
//!
//! The peak comes from `wait4(2)`'s `ru_maxrss`, which the kernel keeps for the child (no
//! sampling). Linux folds into it the high-water mark of the address space the child `exec`ed
//! from, which is the parent's: so before spawning, the parent gives its free memory back and
//! resets its own high-water mark, and the parent's resident size at spawn is returned as the
//! floor below which the figure says nothing.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of the child did.
#[derive(Debug, Clone)]
pub struct ChildRun {
    /// From just before spawn to just after the child was reaped.
    pub wall: Duration,
    /// Peak resident set size of the child, in bytes.
    pub peak_rss: u64,
    /// The parent's resident size when it spawned the child, in bytes: `peak_rss` is exact when
    /// above it, and only says "at most this" when equal.
    pub floor_rss: u64,
    /// CPU time the child used (user and system, all threads): on a loaded machine a steadier
    /// measure of the work than wall time.
    pub cpu: Duration,
    /// The exit code, or `None` when a signal ended the child.
    pub code: Option<i32>,
    /// What the child wrote to stdout.
    pub stdout: String,
}

/// Why a child could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    #[error("failed to start {program}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to read the output of {program}")]
    Output {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to wait for {program}")]
    Wait {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

/// Runs `program args...` with stdout captured and stderr discarded, and waits for it.
pub fn run(program: &Path, args: &[&std::ffi::OsStr]) -> Result<ChildRun, ChildError> {
    let name = program.display().to_string();
    let floor_rss = shrink_self();
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| ChildError::Spawn {
            program: name.clone(),
            source,
        })?;
    let mut stdout = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        // Read to EOF first: a child blocked on a full pipe would never exit.
        pipe.read_to_string(&mut stdout)
            .map_err(|source| ChildError::Output {
                program: name.clone(),
                source,
            })?;
    }
    let (status, usage) = wait4(child.id()).map_err(|source| ChildError::Wait {
        program: name,
        source,
    })?;
    let wall = start.elapsed();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ok(ChildRun {
        wall,
        // Linux reports ru_maxrss in KiB.
        peak_rss: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
        floor_rss,
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        code,
        stdout,
    })
}

/// Returns freed heap to the kernel, resets this process's high-water mark to its current
/// resident size, and returns that size in bytes (Linux; 0 elsewhere).
fn shrink_self() -> u64 {
    // SAFETY: malloc_trim only releases free memory of glibc's allocator.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::malloc_trim(0);
    }
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}

/// CPU time this process has used so far (user and system, all threads).
pub fn self_cpu() -> Duration {
    // SAFETY: rusage is plain old data; getrusage writes it whole.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer is to a live, writable local.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

/// Reaps `pid` and returns its wait status and resource usage.
fn wait4(pid: u32) -> std::io::Result<(libc::c_int, libc::rusage)> {
    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live, writable locals of the types wait4 expects.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_exit_code_output_and_peak_rss() {
        let sh = Path::new("/bin/sh");
        if !sh.exists() {
            return;
        }
        let small = run(sh, &["-c".as_ref(), "echo hi; exit 3".as_ref()]).unwrap();
        assert_eq!(small.code, Some(3));
        assert_eq!(small.stdout, "hi\n");
        assert!(small.peak_rss > 0);
    }
}
