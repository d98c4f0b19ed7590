//! The two signature schemes of the spec: MD5 (the default) and HMAC-SHA256, both over
//! `signing string + "&key=" + api_key`, written as upper-case hex.

use crate::checked::At;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

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

    /// The raw digest of `signing_string&key=api_key`, the signing string given in pieces
    /// (32 bytes; MD5 uses the first 16).
    pub fn digest<'a>(self, pieces: impl IntoIterator<Item = &'a [u8]>, api_key: &'a [u8]) -> Digest32 {
        // One call site of each hash's `update` (its block buffering is inlined at each).
        let all = pieces.into_iter().chain([&b"&key="[..], api_key]);
        match self {
            Algorithm::Md5 => {
                let mut h = Md5::new();
                all.for_each(|p| h.update(p));
                let mut out = Digest32 { bytes: [0; 32], len: 16 };
                out.bytes[..16].copy_from_slice(&h.finalize());
                out
            }
            Algorithm::HmacSha256 => {
                // Any key length is valid for HMAC.
                let mut h =
                    <Hmac<Sha256> as Mac>::new_from_slice(api_key).expect("HMAC takes keys of any length");
                all.for_each(|p| h.update(p));
                Digest32 { bytes: h.finalize().into_bytes().into(), len: 32 }
            }
        }
    }
}

/// A digest of either scheme, without a heap allocation per verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest32 {
    bytes: [u8; 32],
    len: usize,
}

impl Digest32 {
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.at(..self.len)
    }
}

/// Upper-case hex, as the `QbitPay-Signature` header carries it.
pub fn hex_upper(bytes: &[u8]) -> String {
    // Into a buffer, then upper-cased: smaller in the module than `encode_upper`'s char iterator.
    let mut text = vec![0; bytes.len() * 2];
    let _ = hex::encode_to_slice(bytes, &mut text);
    text.make_ascii_uppercase();
    String::from_utf8(text).unwrap_or_default()
}
