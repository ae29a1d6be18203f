//! The binary's allocator: mimalloc, asked for each block by the call that
//! serves it from its usual free lists.
//!
//! The `mimalloc` crate asks for every block by mimalloc's aligned call. Its
//! fast path takes a block only from a size class's ready list; a block the
//! thread frees goes to a second list, which only the slow path of the
//! unaligned call moves back. When the ready list is empty the aligned call
//! serves the block from its usual lists only if its size class is a power
//! of two of at most 4 KiB (whose blocks start at multiples of their size:
//! `mi_malloc_is_naturally_aligned`, `MI_PAGE_MAX_START_BLOCK_ALIGN2`), and
//! else over-allocates, every time. A run allocates and frees a task and a
//! future per request, so the ready list was always empty there: this saves
//! about 150 instructions of a request's 6,900 (callgrind), and 0.5% of a
//! derive's.
//!
//! So a block aligned to at most 8 bytes (a word: every block of mimalloc's
//! is, its size classes being whole words) is asked for by the unaligned
//! call; one aligned to more than 16 whose size and
//! alignment round up to a power of two of at most [`NATURAL_UP_TO`] is asked
//! for at that size (a 192-byte task aligned to 128 takes 256 bytes), which
//! the aligned call serves naturally; any other by the aligned call as it is.
//! Frees and resizes are mimalloc's own: it frees a block by its address.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// Over-aligned blocks up to this size are asked for at a power-of-two size
/// (mimalloc's `MI_PAGE_MAX_START_BLOCK_ALIGN2`).
pub const NATURAL_UP_TO: usize = 4096;
/// What every mimalloc block is aligned to: a word (its size classes are whole words, and a
/// 24-byte block is aligned to 8 only).
pub const WORD_ALIGN: usize = 8;
/// An alignment up to this takes the aligned call as it is (16 is `MI_MAX_ALIGN_SIZE`, which
/// most classes meet on their own).
pub const USUAL_ALIGN: usize = 16;

unsafe extern "C" {
    fn mi_malloc(size: usize) -> *mut c_void;
    fn mi_zalloc(size: usize) -> *mut c_void;
}

/// mimalloc, asked for each block by the call that serves it from its usual lists.
pub struct Allocator;

/// How a block of `layout` is asked for.
#[derive(Debug, PartialEq)]
pub enum Ask {
    /// By the unaligned call, at its size: mimalloc aligns every block this much.
    Unaligned(usize),
    /// By the aligned call, at this layout.
    Aligned(Layout),
}

/// How to ask for a block of `layout`: see the module's doc.
pub fn ask(layout: Layout) -> Ask {
    if layout.align() <= WORD_ALIGN {
        return Ask::Unaligned(layout.size());
    }
    if layout.align() <= USUAL_ALIGN {
        return Ask::Aligned(layout);
    }
    let size = layout.size().max(layout.align()).next_power_of_two();
    match Layout::from_size_align(size, layout.align()) {
        Ok(natural) if size <= NATURAL_UP_TO => Ask::Aligned(natural),
        _ => Ask::Aligned(layout),
    }
}

// SAFETY: every block is mimalloc's, of at least the size and at least the alignment asked for
// (the unaligned call's blocks are word-aligned, a natural layout only grows the size);
// mimalloc frees any of its blocks by its address, and its aligned resize keeps the alignment.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match ask(layout) {
            // SAFETY: a plain call into the linked allocator.
            Ask::Unaligned(size) => unsafe { mi_malloc(size) }.cast(),
            // SAFETY: as the impl says; the layout's size is not zero when `layout`'s is not.
            Ask::Aligned(layout) => unsafe { mimalloc::MiMalloc.alloc(layout) },
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match ask(layout) {
            // SAFETY: a plain call into the linked allocator, which zeroes the block.
            Ask::Unaligned(size) => unsafe { mi_zalloc(size) }.cast(),
            // SAFETY: as for `alloc`.
            Ask::Aligned(layout) => unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a block of this allocator, so of mimalloc.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; mimalloc's aligned resize keeps `layout`'s alignment.
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_over_aligned_blocks_come_aligned_whole_and_resizable_and_the_rest_as_mimalloc_gives_them() {
        let allocator = Allocator;
        let mut held = Vec::new();
        for align in [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096] {
            for size in [1, 7, 100, 128, 192, 300, 640, 1000, 1024, 1025, 4000, 4096, 4097, 70_000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                let rounds = align > 16 && size.max(align) <= NATURAL_UP_TO;
                match ask(layout) {
                    Ask::Unaligned(asked) => assert!(align <= 8 && asked == size, "{size} {align}"),
                    Ask::Aligned(asked) if rounds => {
                        assert!(asked.align() == align && asked.size() >= size.max(align), "{size} {align}");
                        assert!(asked.size().is_power_of_two() && asked.size() <= NATURAL_UP_TO, "{size} {align}");
                    }
                    Ask::Aligned(asked) => assert!(align > 8 && asked == layout, "{size} {align}"),
                }
                for zeroed in [false, true] {
                    // SAFETY: a non-zero size; each block is freed below with its own layout.
                    let block = unsafe { if zeroed { allocator.alloc_zeroed(layout) } else { allocator.alloc(layout) } };
                    assert!(!block.is_null() && block.addr() % align == 0, "{size} {align}");
                    // SAFETY: the block holds `size` bytes.
                    let bytes = unsafe { std::slice::from_raw_parts_mut(block, size) };
                    if zeroed {
                        assert!(bytes.iter().all(|&b| b == 0), "{size} {align}");
                    }
                    bytes.fill(0xA5);
                    held.push((block, layout));
                }
            }
        }
        // Grown and shrunk, a block keeps its bytes and its alignment.
        for (block, layout) in held.iter_mut() {
            let keep = layout.size().min(64);
            // SAFETY: a live block of this allocator, with its layout.
            let grown = unsafe { allocator.realloc(*block, *layout, layout.size() * 3) };
            assert!(!grown.is_null() && grown.addr() % layout.align() == 0);
            // SAFETY: the block holds at least `keep` bytes, kept by the resize.
            assert!(unsafe { std::slice::from_raw_parts(grown, keep) }.iter().all(|&b| b == 0xA5));
            *block = grown;
            *layout = Layout::from_size_align(layout.size() * 3, layout.align()).unwrap();
        }
        for (block, layout) in held {
            // SAFETY: each block once, with the layout it has now.
            unsafe { allocator.dealloc(block, layout) };
        }
    }
}
