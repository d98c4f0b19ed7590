//! Message building without `core::fmt`, whose machinery would double the size of the
//! webhook wasm module.

use crate::prelude::*;

/// The parts, joined.
pub fn cat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    parts.iter().for_each(|p| s.push_str(p));
    s
}

/// `n` in decimal.
pub fn decimal(mut n: u64) -> String {
    let mut digits = Vec::with_capacity(20);
    loop {
        digits.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimal_and_cat() {
        assert_eq!(super::decimal(0), "0");
        assert_eq!(super::decimal(u64::MAX), u64::MAX.to_string());
        assert_eq!(super::cat(&["a", "", "bc"]), "abc");
    }
}
