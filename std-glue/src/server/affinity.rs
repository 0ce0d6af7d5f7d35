//! Pinning a worker thread to one CPU core (Linux `sched_setaffinity`).
//!
//! A thread-per-core server keeps each worker's caches warm and its
//! connections' data on one core. Elsewhere pinning is a no-op: macOS has
//! no hard affinity and the BSDs spell it differently; the server still
//! works, the kernel just moves threads as it likes.

/// Pins the calling thread to the `index`-th CPU this process may run on
/// (wrapping around when there are more workers than CPUs). Returns the
/// CPU's number, or `None` if pinning is not supported or failed (the
/// thread then runs unpinned; pinning is an optimisation, not a need).
#[cfg(target_os = "linux")]
pub(super) fn pin_current_thread(index: usize) -> Option<usize> {
    use std::mem;
    // SAFETY: `cpu_set_t` is a plain bit set; all zeroes is the empty set.
    let mut allowed: libc::cpu_set_t = unsafe { mem::zeroed() };
    // SAFETY: `allowed` is a writable `cpu_set_t` of the size passed; pid 0
    // is the calling thread.
    let rc = unsafe { libc::sched_getaffinity(0, mem::size_of::<libc::cpu_set_t>(), &mut allowed) };
    if rc != 0 {
        return None;
    }
    let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below `CPU_SETSIZE`, the set's capacity.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &allowed) })
        .collect();
    let cpu = *cpus.get(index % cpus.len().max(1))?;
    // SAFETY: as above, all zeroes is the empty set.
    let mut only: libc::cpu_set_t = unsafe { mem::zeroed() };
    // SAFETY: `cpu` is below `CPU_SETSIZE`.
    unsafe { libc::CPU_SET(cpu, &mut only) };
    // SAFETY: `only` is a valid `cpu_set_t` of the size passed; pid 0 is
    // the calling thread.
    let rc = unsafe { libc::sched_setaffinity(0, mem::size_of::<libc::cpu_set_t>(), &only) };
    (rc == 0).then_some(cpu)
}

/// Not supported on this platform: the thread runs unpinned.
#[cfg(not(target_os = "linux"))]
pub(super) fn pin_current_thread(_index: usize) -> Option<usize> {
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn pins_a_thread_to_an_allowed_cpu() {
        let cpu = std::thread::spawn(|| super::pin_current_thread(1))
            .join()
            .unwrap();
        let cpu = cpu.expect("pinning works on Linux");
        let here = std::thread::spawn(move || {
            super::pin_current_thread(1);
            // SAFETY: `sched_getcpu` has no preconditions.
            unsafe { libc::sched_getcpu() }
        })
        .join()
        .unwrap();
        assert_eq!(here as usize, cpu);
    }
}
