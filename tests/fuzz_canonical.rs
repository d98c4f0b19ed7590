//! Randomised robustness run of the canonicaliser: mutated and generated bodies must never
//! panic, and whatever it accepts must be stable: the `JSON.stringify` text it writes for a
//! nested value, fed back in as a value, comes out unchanged.
//!
//! A short run is part of `cargo test`; the long one is `make fuzz` (FUZZ_SECONDS, default 120).

use qbitpay::webhook::signing_string;
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const ATOMS: &[&str] = &[
    "0",
    "-0",
    "1.50",
    "1e21",
    "5e-7",
    "1E+2",
    "9007199254740993",
    "123456789012345678901234567890",
    "1e400",
    "-1e400",
    "1e-400",
    "4.9e-324",
    "0.1",
    "true",
    "false",
    "null",
    "\"\"",
    "\"a\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"\\ud83d\\ude00\"",
    "\"é\u{2028}\u{1F600}\"",
    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
];
const KEYS: &[&str] = &[
    "\"a\"",
    "\"b\"",
    "\"0\"",
    "\"42\"",
    "\"01\"",
    "\"-1\"",
    "\"4294967294\"",
    "\"4294967295\"",
    "\"\\u0061\"",
    "\"\u{FF5E}\"",
    "\"\u{1F600}\"",
    "\"__proto__\"",
    "\"\"",
];
const WS: &[&str] = &["", "", " ", "\n", "\t", "\r\n  "];

fn value(rng: &mut Rng, depth: usize, out: &mut String) {
    let ws = |rng: &mut Rng, out: &mut String| out.push_str(rng.pick(WS));
    match if depth > 6 { 0 } else { rng.below(4) } {
        0 | 1 => out.push_str(rng.pick(ATOMS)),
        2 => {
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, out);
                value(rng, depth + 1, out);
                ws(rng, out);
            }
            out.push(']');
        }
        _ => {
            out.push('{');
            for i in 0..rng.below(5) {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, out);
                out.push_str(rng.pick(KEYS));
                ws(rng, out);
                out.push(':');
                ws(rng, out);
                value(rng, depth + 1, out);
            }
            out.push('}');
        }
    }
}

fn event(rng: &mut Rng) -> String {
    let mut s = String::from("{");
    for i in 0..rng.below(6) {
        if i > 0 {
            s.push(',');
        }
        s.push_str(rng.pick(KEYS));
        s.push(':');
        value(rng, 1, &mut s);
    }
    s.push('}');
    s
}

fn mutate(rng: &mut Rng, body: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        let at = if body.is_empty() { 0 } else { rng.below(body.len()) };
        match rng.below(5) {
            0 if !body.is_empty() => body[at] = rng.next() as u8,
            1 => body.insert(at, rng.pick(&b"{}[]\",:\\u0e-+.9 \x00\xff\xed\xa0"[..])),
            2 if !body.is_empty() => {
                body.remove(at);
            }
            3 => body.truncate(at),
            _ => {
                let piece = rng.pick(ATOMS).as_bytes().to_vec();
                body.splice(at..at, piece);
            }
        }
    }
}

/// Run for `budget`; return how many bodies were tried.
fn run(seed: u64, budget: Duration) -> u64 {
    let mut rng = Rng(seed | 1);
    let start = Instant::now();
    let mut cases = 0u64;
    while start.elapsed() < budget {
        for _ in 0..256 {
            let mut body = event(&mut rng).into_bytes();
            if rng.below(2) == 0 {
                mutate(&mut rng, &mut body);
            }
            cases += 1;
            let Ok(signing) = signing_string(&body) else { continue };
            // Every `k=v` whose v is an object or array is JSON.stringify output: feeding it
            // back as a value must reproduce it exactly.
            let text = String::from_utf8(signing).expect("signing string is UTF-8");
            for pair in text.split('&') {
                if let Some((_, v)) = pair.split_once('=') {
                    if (v.starts_with('{') && v.ends_with('}')) || (v.starts_with('[') && v.ends_with(']')) {
                        if let Ok(again) = signing_string(format!("{{\"k\":{v}}}").as_bytes()) {
                            assert_eq!(
                                String::from_utf8(again).unwrap(),
                                format!("k={v}"),
                                "body: {}",
                                String::from_utf8_lossy(&body)
                            );
                        }
                    }
                }
            }
        }
    }
    cases
}

#[test]
fn short_randomised_run() {
    let seed = 0x5eed_1234;
    let cases = run(seed, Duration::from_secs(2));
    println!("canonicaliser: {cases} random bodies in 2 s, no panic (seed {seed:#x})");
}

#[test]
#[ignore = "long run: make fuzz"]
fn long_randomised_run() {
    let secs: u64 = std::env::var("FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(120);
    let seed = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    let cases = run(seed, Duration::from_secs(secs));
    println!("canonicaliser: {cases} random bodies in {secs} s, no panic (FUZZ_SEED={seed})");
}
