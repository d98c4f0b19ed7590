//! MD5 and SHA-256 (and HMAC over it), written small: loops instead of unrolled rounds,
//! one buffering hasher for both. The webhook wasm module ships this instead of the RustCrypto
//! crates, which cost several times the code. Checked against the RFC 1321 / FIPS 180-2 /
//! RFC 4231 vectors below and against node:crypto in the Node differential test.

use crate::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Md5,
    Sha256,
}

/// A streaming MD5 or SHA-256.
#[derive(Clone)]
pub struct Hasher {
    kind: Kind,
    state: [u32; 8],
    block: [u8; 64],
    filled: usize,
    total: u64,
}

impl Hasher {
    pub fn new(kind: Kind) -> Hasher {
        let state = match kind {
            Kind::Md5 => [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0, 0, 0, 0],
            Kind::Sha256 => [
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
            ],
        };
        Hasher { kind, state, block: [0; 64], filled: 0, total: 0 }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.filled > 0 {
            let take = (64 - self.filled).min(data.len());
            self.block[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled < 64 {
                return;
            }
            let block = self.block;
            self.compress(&block);
            self.filled = 0;
        }
        // Whole blocks straight from the input, without copying them into `block`.
        let mut blocks = data.chunks_exact(64);
        for b in &mut blocks {
            self.compress(b.try_into().unwrap_or(&[0; 64]));
        }
        let rest = blocks.remainder();
        self.block[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    pub fn finish(mut self) -> Vec<u8> {
        let bits = self.total.wrapping_mul(8);
        self.block[self.filled] = 0x80;
        self.block[self.filled + 1..].fill(0);
        if self.filled >= 56 {
            let block = self.block;
            self.compress(&block);
            self.block.fill(0);
        }
        let (len, words) = match self.kind {
            Kind::Md5 => (bits.to_le_bytes(), 4),
            Kind::Sha256 => (bits.to_be_bytes(), 8),
        };
        self.block[56..].copy_from_slice(&len);
        let block = self.block;
        self.compress(&block);
        self.state[..words]
            .iter()
            .flat_map(|w| if self.kind == Kind::Md5 { w.to_le_bytes() } else { w.to_be_bytes() })
            .collect()
    }

    #[inline]
    fn compress(&mut self, block: &[u8; 64]) {
        match self.kind {
            Kind::Md5 => md5_block(&mut self.state, block),
            Kind::Sha256 => sha256_block(&mut self.state, block),
        }
    }
}

pub fn digest(kind: Kind, parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Hasher::new(kind);
    parts.iter().for_each(|p| h.update(p));
    h.finish()
}

/// HMAC-SHA256 (RFC 2104) of the concatenated parts.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Mac::hmac_sha256(key);
    parts.iter().for_each(|p| mac.update(p));
    mac.finish()
}

/// A plain hash or an HMAC-SHA256, fed in pieces.
pub struct Mac {
    inner: Hasher,
    /// HMAC: the key block (already hashed if longer than a block).
    key: Option<[u8; 64]>,
}

impl Mac {
    pub fn plain(kind: Kind) -> Mac {
        Mac { inner: Hasher::new(kind), key: None }
    }

    pub fn hmac_sha256(key: &[u8]) -> Mac {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..32].copy_from_slice(&digest(Kind::Sha256, &[key]));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut inner = Hasher::new(Kind::Sha256);
        inner.update(&k.map(|b| b ^ 0x36));
        Mac { inner, key: Some(k) }
    }

    #[inline]
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    pub fn finish(self) -> Vec<u8> {
        match self.key {
            None => self.inner.finish(),
            Some(k) => digest(Kind::Sha256, &[&k.map(|b| b ^ 0x5c), &self.inner.finish()]),
        }
    }
}

const MD5_K: [u32; 64] = [0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391];

/// One MD5 block, unrolled: the message word and shift of every step are constants, so
/// each step is a handful of adds, a rotate and the round function (the hot loop of `verify`).
fn md5_block(state: &mut [u32; 8], block: &[u8; 64]) {
    let m: [u32; 16] = core::array::from_fn(|i| u32::from_le_bytes([block[4 * i], block[4 * i + 1], block[4 * i + 2], block[4 * i + 3]]));
    let [mut a, mut b, mut c, mut d] = [state[0], state[1], state[2], state[3]];
    macro_rules! step {
        ($f:expr, $a:ident, $b:ident, $c:ident, $d:ident, $i:expr, $g:expr, $s:expr) => {
            $a = $b.wrapping_add(
                $a.wrapping_add($f($b, $c, $d)).wrapping_add(MD5_K[$i]).wrapping_add(m[$g]).rotate_left($s),
            );
        };
    }
    macro_rules! four {
        ($f:expr, $i:expr, $g:expr, $s:expr) => {
            step!($f, a, b, c, d, $i, $g($i), $s[0]);
            step!($f, d, a, b, c, $i + 1, $g($i + 1), $s[1]);
            step!($f, c, d, a, b, $i + 2, $g($i + 2), $s[2]);
            step!($f, b, c, d, a, $i + 3, $g($i + 3), $s[3]);
        };
    }
    macro_rules! round {
        ($f:expr, $base:expr, $g:expr, $s:expr) => {
            four!($f, $base, $g, $s);
            four!($f, $base + 4, $g, $s);
            four!($f, $base + 8, $g, $s);
            four!($f, $base + 12, $g, $s);
        };
    }
    let f1 = |b: u32, c: u32, d: u32| d ^ (b & (c ^ d));
    let f2 = |b: u32, c: u32, d: u32| c ^ (d & (b ^ c));
    let f3 = |b: u32, c: u32, d: u32| b ^ c ^ d;
    let f4 = |b: u32, c: u32, d: u32| c ^ (b | !d);
    round!(f1, 0, |i: usize| i, [7, 12, 17, 22]);
    round!(f2, 16, |i: usize| (5 * i + 1) % 16, [5, 9, 14, 20]);
    round!(f3, 32, |i: usize| (3 * i + 5) % 16, [4, 11, 16, 23]);
    round!(f4, 48, |i: usize| (7 * i) % 16, [6, 10, 15, 21]);
    for (s, v) in state.iter_mut().zip([a, b, c, d]) {
        *s = s.wrapping_add(v);
    }
}

const SHA256_K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

fn sha256_block(state: &mut [u32; 8], block: &[u8; 64]) {
    let mut w = [0u32; 64];
    for i in 0..64 {
        w[i] = if i < 16 {
            u32::from_be_bytes([block[4 * i], block[4 * i + 1], block[4 * i + 2], block[4 * i + 3]])
        } else {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1)
        };
    }
    let mut v = *state;
    for i in 0..64 {
        let [a, b, c, d, e, f, g, h] = v;
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = h.wrapping_add(s1).wrapping_add(ch).wrapping_add(SHA256_K[i]).wrapping_add(w[i]);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        v = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
    }
    for (s, x) in state.iter_mut().zip(v) {
        *s = s.wrapping_add(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::digest::hex_upper;

    #[test]
    fn md5_rfc1321() {
        for (input, hex) in [
            ("", "D41D8CD98F00B204E9800998ECF8427E"),
            ("abc", "900150983CD24FB0D6963F7D28E17F72"),
            ("message digest", "F96B697D7CB7938D525A2F31AAF161D0"),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57EDF4A22BE3C955AC49DA2E2107B67A",
            ),
        ] {
            assert_eq!(hex_upper(&digest(Kind::Md5, &[input.as_bytes()])), hex, "{input}");
        }
    }

    #[test]
    fn sha256_fips180() {
        assert_eq!(
            hex_upper(&digest(Kind::Sha256, &[b"abc"])),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
        );
        assert_eq!(
            hex_upper(&digest(Kind::Sha256, &[b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"])),
            "248D6A61D20638B8E5C026930C3E6039A33CE45964FF2167F6ECEDD419DB06C1"
        );
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            hex_upper(&digest(Kind::Sha256, &[&million[..333], &million[333..]])),
            "CDC76E5C9914FB9281A1C7E284D73E67F1809A48A497200E046D39CCC7112CD0"
        );
    }

    #[test]
    fn hmac_sha256_rfc4231() {
        assert_eq!(
            hex_upper(&hmac_sha256(&[0x0b; 20], &[b"Hi There"])),
            "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7"
        );
        assert_eq!(
            hex_upper(&hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"])),
            "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        assert_eq!(
            hex_upper(&hmac_sha256(&[0xaa; 131], &[b"Test Using Larger Than Block-Size Key - Hash Key First"])),
            "60E431591EE0B67F0D8A26AACBF5B77F8E0BC6213728C5140546040F0EE37F54"
        );
    }
}
