//! A minimal JSON value, parser and writer: just what the client needs to read its
//! parameters (from `JSON.stringify`) and error bodies, and to write request bodies.
//! Hand-written to keep the wasm module small (no serde). Numbers keep their source text,
//! so a body re-emits exactly what JavaScript produced.

#[allow(unused_imports)]
use crate::prelude::*;
#[allow(unused_imports)]
use alloc::{format, string::ToString};
/// Concatenates string slices: `format!` without core::fmt (which would be a large part
/// of the wasm module).
#[macro_export]
#[doc(hidden)]
macro_rules! cat {
    ($($e:expr),* $(,)?) => {{
        let mut s = $crate::prelude::String::new();
        $(s.push_str($e);)*
        s
    }};
}

/// `parts` joined by `sep` (slice `join` without its generic machinery).
pub fn join(parts: &[&str], sep: &str) -> String {
    let mut s = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        s.push_str(p);
    }
    s
}

/// An integer in decimal, without core::fmt.
pub fn itoa(n: i64) -> String {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let mut s = String::with_capacity(21);
    if n < 0 {
        s.push('-');
    }
    for &b in &buf[i..] {
        s.push(b as char);
    }
    s
}

#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number's source text (already in JavaScript's spelling when it came from JS).
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    /// Members in source order; a duplicated key keeps its last value (as `JSON.parse`).
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Num(n) => parse_num(n),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn num(v: f64) -> Json {
        Json::Num(fmt_num(v))
    }
    pub fn str(s: &str) -> Json {
        Json::Str(s.to_string())
    }
    /// The name JavaScript's `typeof` would roughly give, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Num(_) => "number",
            Json::Str(_) => "string",
            Json::Arr(_) => "array",
            Json::Obj(_) => "object",
        }
    }

    pub fn parse(src: &str) -> Result<Json, ()> {
        let mut p = Parser {
            b: src.as_bytes(),
            i: 0,
        };
        let v = p.value(0)?;
        p.ws();
        if p.i != p.b.len() {
            return Err(());
        }
        Ok(v)
    }

    pub fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => out.push_str(n),
            Json::Str(s) => write_str(out, s),
            Json::Arr(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Json::Obj(m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    pub fn to_string(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }
}

/// A JSON number's value, closely enough for range checks (the text itself is what gets
/// sent). Hand-rolled: core's exact float parser would be a large part of the wasm module.
pub fn parse_num(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let neg = b.first() == Some(&b'-');
    if neg {
        i += 1;
    }
    let (mut mant, mut exp, mut digits) = (0f64, 0i32, 0);
    while i < b.len() && b[i].is_ascii_digit() {
        mant = mant * 10.0 + (b[i] - b'0') as f64;
        i += 1;
        digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            mant = mant * 10.0 + (b[i] - b'0') as f64;
            exp -= 1;
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        let eneg = b.get(i) == Some(&b'-');
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let mut e = 0i32;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            e = e.saturating_mul(10).saturating_add((b[i] - b'0') as i32);
            i += 1;
        }
        if i == start {
            return None;
        }
        exp = exp.saturating_add(if eneg { -e } else { e });
    }
    if i != b.len() {
        return None;
    }
    let mut v = mant;
    // Scale in steps so that 10^exp itself does not overflow before the product would.
    while exp > 0 {
        let k = exp.min(300);
        v *= pow10(k);
        exp -= k;
    }
    while exp < 0 {
        let k = (-exp).min(300);
        v /= pow10(k);
        exp += k;
    }
    Some(if neg { -v } else { v })
}

fn pow10(k: i32) -> f64 {
    let (mut r, mut base, mut k) = (1f64, 10f64, k);
    while k > 0 {
        if k & 1 == 1 {
            r *= base;
        }
        base *= base;
        k >>= 1;
    }
    r
}

/// Whether `v` is an integer (within the range where f64 integers are exact).
pub fn is_int(v: f64) -> bool {
    v.abs() < 9.0e15 && v == (v as i64) as f64
}

/// A number as JavaScript prints it, for the values Rust produces: integers, and
/// fractions (Retry-After seconds) to at most 3 decimals. No float formatting machinery.
pub fn fmt_num(v: f64) -> String {
    if is_int(v) {
        return itoa(v as i64);
    }
    if v.is_nan() || v.abs() >= 9.0e12 {
        return String::from("null"); // not produced by the client
    }
    let neg = v < 0.0;
    let milli = ((if neg { -v } else { v }) * 1000.0 + 0.5) as i64;
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push_str(&itoa(milli / 1000));
    let mut frac = milli % 1000;
    if frac != 0 {
        s.push('.');
        let mut div = 100;
        while frac != 0 {
            s.push((b'0' + (frac / div) as u8) as char);
            frac %= div;
            div /= 10;
        }
    }
    s
}

/// Writes `s` as a JSON string literal, escaping as `JSON.stringify` does.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn lit(&mut self, word: &str, v: Json) -> Result<Json, ()> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(())
        }
    }
    fn value(&mut self, depth: usize) -> Result<Json, ()> {
        if depth > MAX_DEPTH {
            return Err(());
        }
        self.ws();
        match self.peek().ok_or(())? {
            b'n' => self.lit("null", Json::Null),
            b't' => self.lit("true", Json::Bool(true)),
            b'f' => self.lit("false", Json::Bool(false)),
            b'"' => self.string().map(Json::Str),
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Json::Arr(a));
                }
                loop {
                    a.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(a));
                        }
                        _ => return Err(()),
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut m: Vec<(String, Json)> = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(m));
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return Err(());
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.peek() != Some(b':') {
                        return Err(());
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    match m.iter_mut().find(|(mk, _)| *mk == k) {
                        Some(slot) => slot.1 = v,
                        None => m.push((k, v)),
                    }
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(m));
                        }
                        _ => return Err(()),
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                if self.peek() == Some(b'-') {
                    self.i += 1;
                }
                let digits = |p: &mut Self| {
                    let s = p.i;
                    while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                        p.i += 1;
                    }
                    p.i > s
                };
                if self.peek() == Some(b'0') {
                    self.i += 1;
                } else if !digits(self) {
                    return Err(());
                }
                if self.peek() == Some(b'.') {
                    self.i += 1;
                    if !digits(self) {
                        return Err(());
                    }
                }
                if matches!(self.peek(), Some(b'e' | b'E')) {
                    self.i += 1;
                    if matches!(self.peek(), Some(b'+' | b'-')) {
                        self.i += 1;
                    }
                    if !digits(self) {
                        return Err(());
                    }
                }
                // The slice is ASCII by construction.
                Ok(Json::Num(
                    core::str::from_utf8(&self.b[start..self.i])
                        .map_err(|_| ())?
                        .into(),
                ))
            }
            _ => Err(()),
        }
    }
    fn hex4(&mut self) -> Result<u32, ()> {
        let h = self.b.get(self.i..self.i + 4).ok_or(())?;
        let s = core::str::from_utf8(h).map_err(|_| ())?;
        let v = u32::from_str_radix(s, 16).map_err(|_| ())?;
        self.i += 4;
        Ok(v)
    }
    fn string(&mut self) -> Result<String, ()> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while self
                .peek()
                .is_some_and(|c| c != b'"' && c != b'\\' && c >= 0x20)
            {
                self.i += 1;
            }
            out.push_str(core::str::from_utf8(&self.b[start..self.i]).map_err(|_| ())?);
            match self.peek().ok_or(())? {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.i += 1;
                    let e = self.peek().ok_or(())?;
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp)
                                && self.b[self.i..].starts_with(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                } else {
                                    self.i = save;
                                }
                            }
                            // A lone surrogate cannot live in a Rust string: U+FFFD.
                            out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                        }
                        _ => return Err(()),
                    }
                }
                _ => return Err(()), // raw control character
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            r#"{"a":1,"b":[true,false,null],"c":"x\"y\\z\n\u0001","d":{"e":-1.5e-7}}"#,
            r#"[]"#,
            r#"{}"#,
            r#""é😀""#,
            r#"0"#,
        ] {
            assert_eq!(Json::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn parses_escapes_and_whitespace() {
        let v = Json::parse(" { \"k\" : \"\\ud83d\\ude00\\/\" , \"k\": 2 } ").unwrap();
        assert_eq!(v.get("k"), Some(&Json::Num("2".into())));
        let v = Json::parse(r#""\ud83d\ude00\/""#).unwrap();
        assert_eq!(v.as_str(), Some("😀/"));
    }

    #[test]
    fn numbers() {
        for (src, v) in [
            ("0", 0.0),
            ("-1.5", -1.5),
            ("100", 100.0),
            ("1e3", 1000.0),
            ("2.5E-1", 0.25),
            ("1e400", f64::INFINITY),
            ("1e-400", 0.0),
            ("0.1", 0.1),
        ] {
            assert_eq!(parse_num(src), Some(v), "{src}");
        }
        for bad in ["", "-", "1e", "abc", "1.2.3"] {
            assert_eq!(parse_num(bad), None, "{bad}");
        }
        for (v, s) in [
            (0.0, "0"),
            (100.0, "100"),
            (-3.0, "-3"),
            (1.5, "1.5"),
            (0.25, "0.25"),
            (2.125, "2.125"),
            (-0.5, "-0.5"),
        ] {
            assert_eq!(fmt_num(v), s);
        }
        for n in [0i64, 7, -7, 10, 1234567890, i64::MIN, i64::MAX] {
            assert_eq!(itoa(n), n.to_string());
        }
        assert_eq!(fmt_num(1.05), "1.05");
        assert!(is_int(3.0) && !is_int(3.5) && !is_int(f64::NAN) && !is_int(1e20));
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "{",
            "[1,]",
            "01",
            "1.",
            "-",
            "tru",
            "\"a",
            "{\"a\" 1}",
            "<html>",
            "1 2",
            "\"\u{1}\"",
        ] {
            assert!(Json::parse(s).is_err(), "{s:?}");
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(Json::parse(&deep).is_err());
    }
}
