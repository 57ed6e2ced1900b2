//! The Rust heap as a number: every allocation the engine makes goes through this counting
//! wrapper around the system allocator, so the collector can export the bytes the engine holds
//! as a gauge. Go's memory_limiter and runtime metrics cannot see this memory (README
//! "Production configuration").
//!
//! Cost: one relaxed atomic add or subtract per allocation, next to a malloc call.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting the bytes it has handed out and not yet taken back.
pub struct CountingAllocator;

// SAFETY: every call is forwarded unchanged to `System`, which upholds GlobalAlloc's contract;
// the counter is only bookkeeping.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                ALLOCATED.fetch_add(new_size - layout.size(), Ordering::Relaxed);
            } else {
                ALLOCATED.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Bytes currently allocated by Rust code in this process (requested sizes; the system
/// allocator's own headers and free lists are not included, so RSS is somewhat higher).
pub fn allocated_bytes() -> usize {
    ALLOCATED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::allocated_bytes;

    #[test]
    fn a_held_allocation_shows_and_its_release_is_taken_back() {
        // Other tests allocate concurrently, so only a large, held allocation is measured.
        let before = allocated_bytes();
        let mut v: Vec<u8> = Vec::with_capacity(64 << 20);
        v.push(1);
        let during = allocated_bytes();
        assert!(during >= before + (60 << 20), "{before} -> {during}");
        v.reserve_exact(128 << 20); // realloc upwards
        let grown = allocated_bytes();
        assert!(grown >= before + (120 << 20), "{before} -> {grown}");
        drop(v);
        let after = allocated_bytes();
        assert!(after < grown - (120 << 20), "{grown} -> {after}");
    }
}
