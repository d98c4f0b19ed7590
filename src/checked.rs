//! Indexing whose range the code has made sure of already, still checked.

use core::slice::SliceIndex;

/// `&s[i]` / `&s[a..b]` where the code knows the index to be in range. One that is not
/// ends the program as indexing does, but without core's panic: its message formats the
/// index and length (integer formatting, in a module that has none otherwise), and each
/// call site carries its file, line and column.
pub(crate) trait At<T> {
    fn at<I: SliceIndex<[T]>>(&self, i: I) -> &I::Output;
    fn at_mut<I: SliceIndex<[T]>>(&mut self, i: I) -> &mut I::Output;
}

impl<T> At<T> for [T] {
    #[inline(always)]
    fn at<I: SliceIndex<[T]>>(&self, i: I) -> &I::Output {
        match self.get(i) {
            Some(x) => x,
            None => out_of_range(),
        }
    }

    #[inline(always)]
    fn at_mut<I: SliceIndex<[T]>>(&mut self, i: I) -> &mut I::Output {
        match self.get_mut(i) {
            Some(x) => x,
            None => out_of_range(),
        }
    }
}

/// `&s[a..b]` on a `str` where the code knows the range to be in `s` and on character
/// boundaries. One that is not ends the program as slicing does, but without core's panic
/// message, which names the character it cuts (`char`'s `Debug` and Unicode tables).
#[cfg(feature = "client")]
pub(crate) trait AtStr {
    fn at<I: SliceIndex<str>>(&self, i: I) -> &I::Output;
}

#[cfg(feature = "client")]
impl AtStr for str {
    #[inline(always)]
    fn at<I: SliceIndex<str>>(&self, i: I) -> &I::Output {
        match self.get(i) {
            Some(x) => x,
            None => out_of_range(),
        }
    }
}

/// An index out of range: a bug. In wasm a trap (what a panic ends in there); elsewhere a
/// panic.
#[cold]
#[inline(never)]
pub(crate) fn out_of_range() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    panic!("index out of range")
}
