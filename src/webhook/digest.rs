//! The two signature schemes of the spec: MD5 (the default) and HMAC-SHA256, both over
//! `signing string + "&key=" + api_key`, written as upper-case hex.

use super::hash::{self, Kind};
use crate::prelude::*;

/// Where a signing string goes, piece by piece.
pub type Sink<'a> = dyn FnMut(&[u8]) + 'a;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    #[default]
    Md5,
    HmacSha256,
}

impl Algorithm {
    /// Parse the JS option spelling: `md5` or `hmac-sha256`.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "md5" => Some(Algorithm::Md5),
            "hmac-sha256" => Some(Algorithm::HmacSha256),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::HmacSha256 => "hmac-sha256",
        }
    }

    /// Length of the hex signature this scheme produces.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::HmacSha256 => 64,
        }
    }

    /// The raw digest of `signing_string&key=api_key`.
    pub fn digest(self, signing_string: &[u8], api_key: &str) -> Vec<u8> {
        self.digest_with(api_key.as_bytes(), &mut |sink| sink(signing_string))
    }

    /// The same, with the signing string handed over in pieces by `write`.
    pub fn digest_with(self, api_key: &[u8], write: &mut dyn FnMut(&mut Sink)) -> Vec<u8> {
        let mut h = match self {
            Algorithm::Md5 => hash::Mac::plain(Kind::Md5),
            Algorithm::HmacSha256 => hash::Mac::hmac_sha256(api_key),
        };
        write(&mut |piece| h.update(piece));
        h.update(b"&key=");
        h.update(api_key);
        h.finish()
    }
}

pub fn hex_upper(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Decode hex of either case; `None` if any character is not hex or the length is odd.
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    decode_hex_bytes(text.as_bytes())
}

/// The same over ASCII bytes.
pub fn decode_hex_bytes(t: &[u8]) -> Option<Vec<u8>> {
    if t.len() % 2 != 0 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = Vec::with_capacity(t.len() / 2);
    for p in t.chunks_exact(2) {
        out.push(nibble(p[0])? << 4 | nibble(p[1])?);
    }
    Some(out)
}

/// Equal bytes, in time that depends only on the length.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}
