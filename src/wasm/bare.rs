//! The runtime of the std-less webhook module: a panic handler that traps instead of
//! formatting a message, and a tiny arena allocator.
//!
//! Every allocation in this module lives for one call from JavaScript (the arguments the
//! glue copies in, the buffers of one verification, the string handed back and freed by
//! the glue right after). So the arena bumps, and rewinds to its start whenever nothing is
//! live: no free lists, no fragmentation, a few hundred bytes of code instead of dlmalloc.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::Cell;

const PAGE: usize = 65536;

struct Arena {
    start: Cell<usize>,
    next: Cell<usize>,
    end: Cell<usize>,
    live: Cell<usize>,
}

// wasm32 without threads: one thread touches it.
unsafe impl Sync for Arena {}

#[global_allocator]
static ARENA: Arena = Arena { start: Cell::new(0), next: Cell::new(0), end: Cell::new(0), live: Cell::new(0) };

impl Arena {
    /// Make room for `size` bytes at `from` by growing linear memory. The arena owns every
    /// page grown after its first allocation, so they are contiguous.
    fn reserve(&self, from: usize, size: usize) -> bool {
        let need = from.saturating_add(size);
        if need <= self.end.get() {
            return true;
        }
        let pages = (need - self.end.get()).div_ceil(PAGE).max(16);
        if wasm32::memory_grow(0, pages) == usize::MAX {
            return false;
        }
        self.end.set(self.end.get() + pages * PAGE);
        true
    }
}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.start.get() == 0 {
            // First use: the arena begins where linear memory currently ends.
            let base = wasm32::memory_size(0) * PAGE;
            self.start.set(base);
            self.next.set(base);
            self.end.set(base);
        }
        let at = (self.next.get() + layout.align() - 1) & !(layout.align() - 1);
        if !self.reserve(at, layout.size()) {
            return core::ptr::null_mut();
        }
        self.next.set(at + layout.size());
        self.live.set(self.live.get() + 1);
        at as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.live.set(self.live.get() - 1);
        if self.live.get() == 0 {
            self.next.set(self.start.get());
        } else if ptr as usize + layout.size() == self.next.get() {
            self.next.set(ptr as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The newest allocation grows in place (the common case: one Vec being filled).
        if ptr as usize + layout.size() == self.next.get() {
            if new_size <= layout.size() || self.reserve(ptr as usize, new_size) {
                self.next.set(ptr as usize + new_size);
                return ptr;
            }
            return core::ptr::null_mut();
        }
        let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
        if !new.is_null() {
            core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    wasm32::unreachable()
}
