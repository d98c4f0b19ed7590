//! Canonicalisation corners: each body's signing string as JavaScript's
//! `JSON.parse` + sort + `String`/`JSON.stringify` produces it.

use super::{signing_string, stringified_end, Canonicaliser, PayloadErrorKind, MAX_DEPTH};

fn canon(body: &str) -> String {
    String::from_utf8(signing_string(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"))).unwrap()
}

fn kind(body: &[u8]) -> PayloadErrorKind {
    signing_string(body).expect_err("should be rejected").kind
}

#[test]
fn corners() {
    let table: &[(&str, &str)] = &[
        // top level: sorted by UTF-16 code units, null and "" dropped, strings raw
        (r#"{"b":1,"a":2,"B":3}"#, "B=3&a=2&b=1"),
        (r#"{"a":null,"b":"","c":0,"d":false}"#, "c=0&d=false"),
        (r#"{"s":"x\"y\\z\n\u0041"}"#, "s=x\"y\\z\nA"),
        (r#"{"10":1,"9":2,"1":3}"#, "1=3&10=1&9=2"),
        ("{\"\u{FF5E}\":1,\"\u{1F600}\":2}", "\u{1F600}=2&\u{FF5E}=1"),
        (r#"{"a":1,"a":2}"#, "a=2"),
        (r#"{"a":1,"a":null}"#, ""),
        (r#"{"a":null,"a":1}"#, "a=1"),
        (r#"{}"#, ""),
        (" \t\r\n{ \"a\" : 1 } \n", "a=1"),
        (r#"{"n":1e400,"m":-1e400}"#, "m=-Infinity&n=Infinity"),
        (r#"{"lone":"\ud800x"}"#, "lone=\u{FFFD}x"),
        // nested: JSON.stringify form
        (
            r#"{"d":{"b":1,"a":[1, 2.50, -0, 1e21, 5e-7, null, true]}}"#,
            r#"d={"b":1,"a":[1,2.5,0,1e+21,5e-7,null,true]}"#,
        ),
        (r#"{"d":{"x":1,"2":2,"1":3,"y":4,"0":5}}"#, r#"d={"0":5,"1":3,"2":2,"x":1,"y":4}"#),
        (r#"{"d":{"a":1,"b":2,"a":3}}"#, r#"d={"a":3,"b":2}"#),
        (
            r#"{"d":{"01":1,"1":2,"-1":3,"4294967295":4,"4294967294":5}}"#,
            r#"d={"1":2,"4294967294":5,"01":1,"-1":3,"4294967295":4}"#,
        ),
        (
            r#"{"d":{"1":{"b":1,"0":2},"0":[{"z":1,"z":{"1":1,"0":0}}]}}"#,
            r#"d={"0":[{"z":{"0":0,"1":1}}],"1":{"0":2,"b":1}}"#,
        ),
        (r#"{"d":"\u00e9\/\u2028\u007f\u001f\b\f"}"#, "d=\u{e9}/\u{2028}\u{7f}\u{1f}\u{8}\u{c}"),
        (
            r#"{"d":["\u00e9\/\u2028\u007f\u001f\b\f\t\r\n\"\\"]}"#,
            "d=[\"\u{e9}/\u{2028}\u{7f}\\u001f\\b\\f\\t\\r\\n\\\"\\\\\"]",
        ),
        (
            r#"{"d":["\ud83d\ude00","\ud83d","\ude00x","\uDBFF\uDFFF"]}"#,
            "d=[\"\u{1F600}\",\"\\ud83d\",\"\\ude00x\",\"\u{10FFFF}\"]",
        ),
        (r#"{"d":{"\u0061":1,"a":2}}"#, r#"d={"a":2}"#),
        (r#"{"d":{}, "e":[], "f":[[]], "g":{"a":{}}}"#, r#"d={}&e=[]&f=[[]]&g={"a":{}}"#),
        (r#"{"d":[1e400,-1e400]}"#, "d=[null,null]"),
        (r#"{"d":{"__proto__":1}}"#, r#"d={"__proto__":1}"#),
        (
            r#"{"n":9007199254740993,"f":0.1,"g":123456789012345678901234567890}"#,
            "f=0.1&g=1.2345678901234568e+29&n=9007199254740992",
        ),
    ];
    for (body, expect) in table {
        assert_eq!(canon(body), *expect, "body: {body}");
    }
}

#[test]
fn many_keys_with_a_duplicate_far_apart() {
    let mut body = String::from("{\"d\":{");
    for i in 0..100 {
        body.push_str(&format!("\"k{i}\":{i},"));
    }
    body.push_str("\"k3\":\"last\"}}");
    let s = canon(&body);
    assert!(s.starts_with("d={\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":\"last\",\"k4\":4"), "{s}");
    assert!(s.ends_with("\"k99\":99}"));
}

/// An object of many distinct keys: repeats settled by one sort when it closes, not by
/// comparing each key with all before it (quadratic: seconds for a 1 MB body).
#[test]
fn an_object_of_many_keys_is_read_in_one_sort() {
    let keys: Vec<String> = (0..50_000).rev().map(|i| format!("aaaaaaaa{i:05}bbbbbbbb")).collect();
    let members: Vec<String> = keys.iter().map(|k| format!("\"{k}\":0")).collect();
    let body = format!("{{\"d\":{{{},\"9\":1,\"1\":2}}}}", members.join(","));
    let started = std::time::Instant::now();
    let s = canon(&body);
    assert_eq!(s, format!("d={{\"1\":2,\"9\":1,{}}}", members.join(",")));
    // With a repeat at the end: first position, last value.
    let repeated = body.replace("\"1\":2}", &format!("\"1\":2,\"{}\":3}}", keys[0]));
    let s = canon(&repeated);
    assert!(
        s.starts_with(&format!("d={{\"1\":2,\"9\":1,\"{}\":3,\"{}\":0", keys[0], keys[1])),
        "{}",
        &s[..80]
    );
    // A 25,000 x 25,000 comparison took over a minute unoptimised; a sort takes well under a second.
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
}

#[test]
fn rejects_what_json_parse_rejects() {
    use PayloadErrorKind::*;
    for (body, expect) in [
        (&b"[1,2]"[..], NotAnObject),
        (b"\"str\"", NotAnObject),
        (b"null", NotAnObject),
        (b"", UnexpectedEnd),
        (b"{\"a\":1", UnexpectedEnd),
        (b"{\"a\":1,}", UnexpectedByte(b'}')),
        (b"{\"a\":01}", InvalidNumber),
        (b"{\"a\":1.}", InvalidNumber),
        (b"{\"a\":-}", InvalidNumber),
        (b"{\"a\":\"\\x\"}", InvalidEscape),
        (b"{\"a\":\"\\u12G4\"}", InvalidEscape),
        (b"{\"a\":\"tab\there\"}", ControlCharacter),
        (b"{\"a\":\"\xff\"}", InvalidUtf8),
        (b"{\"a\":\"\xed\xa0\x80\"}", InvalidUtf8),
        (b"{\"a\":\"\xc0\x80\"}", InvalidUtf8),
        (b"{\"a\":tru}", UnexpectedByte(b'}')),
        (b"{\"a\":1}x", UnexpectedByte(b'x')),
        (b"{\"a\":1}{}", UnexpectedByte(b'{')),
        (b"\xef\xbb\xbf{}", UnexpectedByte(0xef)),
        (b"{'a':1}", UnexpectedByte(b'\'')),
        (b"{\"a\" 1}", UnexpectedByte(b'1')),
        (b"{\"a\":[1 2]}", UnexpectedByte(b'2')),
        (b"{\"a\":{\"b\"}}", UnexpectedByte(b'}')),
        (b"{\"a\":\"x", UnexpectedEnd),
    ] {
        assert_eq!(kind(body), expect, "body: {}", String::from_utf8_lossy(body));
    }
}

#[test]
fn deep_nesting_is_refused_without_recursion() {
    let ok = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
    assert!(signing_string(ok.as_bytes()).is_ok());
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(kind(deep.as_bytes()), PayloadErrorKind::TooDeep);
    let deep_objects = "{\"a\":".repeat(100_000);
    assert_eq!(kind(deep_objects.as_bytes()), PayloadErrorKind::TooDeep);
}

#[test]
fn truncations_of_a_valid_body_are_errors_not_panics() {
    let body =
        br#"{"id":"e1","data":{"amount":12.5,"list":[1,{"k":"\u00e9\ud83d\ude00"}],"t":true},"n":null}"#;
    for cut in 0..body.len() {
        assert!(signing_string(&body[..cut]).is_err(), "cut at {cut}");
    }
    assert!(signing_string(body).is_ok());
}

#[test]
fn utf16_order_fast_path_agrees_with_code_units() {
    // WTF-8 pieces around every boundary where byte order and UTF-16 order part ways.
    let pieces: [&[u8]; 10] = [
        b"a",
        b"z",
        "\u{7FF}".as_bytes(),
        "\u{D7FF}".as_bytes(),
        &[0xED, 0xA0, 0x80],
        &[0xED, 0xBF, 0xBF],
        "\u{E000}".as_bytes(),
        "\u{FFFD}".as_bytes(),
        "\u{10000}".as_bytes(),
        "\u{10FFFF}".as_bytes(),
    ];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut word = || {
        let mut w = Vec::new();
        for _ in 0..(seed % 4) {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            w.extend_from_slice(pieces[(seed >> 33) as usize % pieces.len()]);
        }
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        w
    };
    for _ in 0..20_000 {
        let (a, b) = (word(), word());
        assert_eq!(
            super::utf16_cmp(&a, &b),
            super::utf16_units(&a).cmp(super::utf16_units(&b)),
            "{a:x?} vs {b:x?}"
        );
    }
}

/// Top-level keys ordered by their first eight bytes where those decide, and by code units
/// where they do not: the same order as JavaScript's sort.
#[test]
fn top_level_order_agrees_with_code_units() {
    let pieces =
        ["", "a", "b", "\u{0}", "aaaaaaaa", "aaaaaaab", "\u{7FF}", "\u{FFFD}", "\u{E000}", "\u{10000}", "z"];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for _ in 0..500 {
        let keys: Vec<String> = (0..1 + next() % 12)
            .map(|_| (0..next() % 4).map(|_| pieces[next() % pieces.len()]).collect())
            .collect();
        let mut expected: Vec<(String, usize)> = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            match expected.iter_mut().find(|(e, _)| e == k) {
                Some(e) => e.1 = i,
                None => expected.push((k.clone(), i)),
            }
        }
        expected.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
        let body = format!(
            "{{{}}}",
            keys.iter()
                .enumerate()
                .map(|(i, k)| format!("\"{}\":{i}", k.replace('\0', "\\u0000")))
                .collect::<Vec<_>>()
                .join(",")
        );
        let expect = expected.iter().map(|(k, i)| format!("{k}={i}")).collect::<Vec<_>>().join("&");
        assert_eq!(canon(&body), expect, "{body}");
    }
}

/// Keys of every length around the one-piece copy's (13 bytes), plain or escaped, repeated,
/// and last in the body: each object keeps one member per key, the last value.
#[test]
fn keys_around_the_short_key_length_repeat_as_one() {
    for n in 0..20 {
        let plain = "k".repeat(n);
        let escaped = "\\u006b".repeat(n);
        let body = format!("{{\"d\":{{\"{plain}\":1,\"x\":2,\"{escaped}\":3}},\"{plain}\":{{\"{escaped}\":4,\"{plain}\":5}}}}");
        let got = canon(&body);
        let (d, p) = (format!("d={{\"{plain}\":3,\"x\":2}}"), format!("{plain}={{\"{plain}\":5}}"));
        let expect = if plain.as_str() < "d" { format!("{p}&{d}") } else { format!("{d}&{p}") };
        assert_eq!(got, expect, "{body}");
    }
}

#[test]
fn numbers_copied_as_written_or_not() {
    // (literal, String(JSON.parse(literal)) in Node), at the top level and nested.
    let table = [
        ("0", "0"),
        ("-0", "0"),
        ("-0.5", "-0.5"),
        ("0.5", "0.5"),
        ("0.000001", "0.000001"),
        ("0.0000001", "1e-7"),
        ("-0.0000001", "-1e-7"),
        ("0.0000010", "0.000001"),
        ("1.0", "1"),
        ("12.30", "12.3"),
        ("123456789012345", "123456789012345"),
        ("1234567890123456", "1234567890123456"),
        ("-123456789012345", "-123456789012345"),
        ("12345678901234.5", "12345678901234.5"),
        ("1234567890123.45", "1234567890123.45"),
        ("0.12345678901234", "0.12345678901234"),
        ("0.123456789012345", "0.123456789012345"),
        ("1e2", "100"),
        ("1.5E-3", "0.0015"),
        ("100", "100"),
        ("-100.25", "-100.25"),
        ("9.99", "9.99"),
        ("0.10", "0.1"),
        ("3.14159", "3.14159"),
    ];
    for (lit, js) in table {
        assert_eq!(canon(&format!(r#"{{"n":{lit}}}"#)), format!("n={js}"), "{lit}");
        assert_eq!(canon(&format!(r#"{{"n":[{lit},{lit}]}}"#)), format!("n=[{js},{js}]"), "{lit}");
    }
    for bad in ["01", "-", "1.", "-01", "1.e2", "1e", "--1"] {
        assert_eq!(kind(format!(r#"{{"n":{bad}}}"#).as_bytes()), PayloadErrorKind::InvalidNumber, "{bad}");
    }
}

/// Nested values written compactly, so that the check for `JSON.stringify` text reads them
/// to the byte that makes them differ (or not) from their canonical form.
#[test]
fn compact_values_differing_late_are_rewritten() {
    let deep = |v: &str| format!(r#"{{"d":{{"a":[1,{{"b":"x","c":[true,{{"e":{v}}}]}}]}}}}"#);
    let signed = |v: &str| format!(r#"d={{"a":[1,{{"b":"x","c":[true,{{"e":{v}}}]}}]}}"#);
    for (value, written) in [
        (r#""\u00e9""#, "\"\u{e9}\""),
        ("\"\u{e9}\"", "\"\u{e9}\""),
        (r#""\/""#, r#""/""#),
        (r#""\ud800""#, r#""\ud800""#),
        (r#""\u001f""#, r#""\u001f""#),
        (r#""\u000a""#, r#""\n""#),
        (r#""\n\t\"\\""#, r#""\n\t\"\\""#),
        ("\"\u{FFFD}\"", "\"\u{FFFD}\""),
        ("1.0", "1"),
        ("-0", "0"),
        ("-0.0", "0"),
        ("1e21", "1e+21"),
        ("1E2", "100"),
        ("0.0000001", "1e-7"),
        ("1234567890123456", "1234567890123456"),
        ("12345678901234567", "12345678901234568"),
        ("[ 1]", "[1]"),
        ("[1 ]", "[1]"),
        ("{ }", "{}"),
        (r#"{"k" :1}"#, r#"{"k":1}"#),
        (r#"{"k": 1}"#, r#"{"k":1}"#),
        (r#"{"b":1,"a":2,"b":3}"#, r#"{"b":3,"a":2}"#),
        (r#"{"k":1,"1":2}"#, r#"{"1":2,"k":1}"#),
        (r#"{"0":1}"#, r#"{"0":1}"#),
        (r#"{"01":1,"1a":2,"-1":3}"#, r#"{"01":1,"1a":2,"-1":3}"#),
        (r#"{"4294967295":1,"x":2}"#, r#"{"4294967295":1,"x":2}"#),
        (r#"{"a\"b":1,"a\"b":2}"#, r#"{"a\"b":2}"#),
        (r#"{"long key of twenty":1,"long key of twenty":2}"#, r#"{"long key of twenty":2}"#),
        (r#"{"é":1,"\u00e9":2}"#, "{\"\u{e9}\":2}"),
        (
            "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
            "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        ),
        ("1e400", "null"),
        ("true", "true"),
        ("null", "null"),
    ] {
        assert_eq!(canon(&deep(value)), signed(written), "{value}");
    }
    // Canonical but for the last byte: whitespace before the object's end.
    assert_eq!(canon(r#"{"d":{"a":[1,2],"b":{"c":"x"} }}"#), r#"d={"a":[1,2],"b":{"c":"x"}}"#);
    // A key repeated among many (past the first 64 members).
    let mut many = String::from(r#"{"d":{"#);
    for i in 0..100 {
        many.push_str(&format!(r#""k{i}":{i},"#));
    }
    many.push_str(r#""k70":"x"}}"#);
    let got = canon(&many);
    assert!(got.contains(r#""k69":69,"k70":"x","k71":71"#) && got.ends_with(r#""k99":99}"#), "{got}");
}

/// The check for `JSON.stringify` text against the writer, on random compact values: what
/// the check accepts, the writer leaves byte for byte as it is; and what the writer leaves
/// as it is, the check accepts unless it holds what the check leaves to the writer (a `\u`
/// escape, U+FFFD, a number of 16 digits, an array-index key, deep nesting).
#[test]
fn the_stringify_check_accepts_only_what_the_writer_keeps() {
    const ATOMS: &[&str] = &[
        "0",
        "-0",
        "1",
        "-1",
        "1.5",
        "1.0",
        "1.50",
        "-0.5",
        "1e21",
        "1E2",
        "0.0000001",
        "0.000001",
        "123456789012345",
        "1234567890123456",
        "12345678901234.5",
        "true",
        "false",
        "null",
        "\"\"",
        "\"a\"",
        "\"\\u00e9\"",
        "\"\u{e9}\"",
        "\"\\/\"",
        "\"\\n\\t\\\"\\\\\"",
        "\"\\ud800\"",
        "\"\u{FFFD}\"",
        "\"\\u001f\"",
        "\"\u{1F600}\"",
        "\"\\b\\f\\r\"",
    ];
    const KEYS: &[&str] = &[
        "a",
        "b",
        "id",
        "0",
        "1",
        "01",
        "10",
        "4294967294",
        "4294967295",
        "a\\\"b",
        "\u{e9}",
        "\\u00e9",
        "key of more than sixteen bytes",
        "k\\n",
        "\\u0061",
        "",
    ];
    let mut seed = 0x853C_49E6_748F_EA9Bu64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    fn value(next: &mut dyn FnMut(usize) -> usize, depth: usize, out: &mut String) {
        let ws = |next: &mut dyn FnMut(usize) -> usize, out: &mut String| {
            if next(40) == 0 {
                out.push(' ');
            }
        };
        match if depth > 40 { 0 } else { next(if depth < 3 { 4 } else { 8 }) } {
            1 => {
                out.push('[');
                for i in 0..next(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    ws(next, out);
                    value(next, depth + 1, out);
                }
                out.push(']');
            }
            2 | 3 => {
                out.push('{');
                for i in 0..next(6) {
                    if i > 0 {
                        out.push(',');
                    }
                    let key = KEYS[next(KEYS.len())];
                    out.push('"');
                    out.push_str(if next(3) == 0 { key } else { ["k", "l", "m", "n"][next(4)] });
                    out.push('"');
                    ws(next, out);
                    out.push(':');
                    value(next, depth + 1, out);
                }
                out.push('}');
            }
            _ => out.push_str(ATOMS[next(ATOMS.len())]),
        }
    }
    let write = |src: &[u8]| {
        let mut c = Canonicaliser::new(src);
        c.json_value().ok().filter(|_| c.pos == src.len()).map(|_| c.out)
    };
    let (mut accepted, mut kept) = (0, 0);
    for _ in 0..20_000 {
        let mut text = String::new();
        value(&mut next, 0, &mut text);
        let src = text.as_bytes();
        let Some(written) = write(src) else { continue };
        let checked = stringified_end(src, 0);
        if let Some(end) = checked {
            assert_eq!(end, src.len(), "{text}");
            assert_eq!(written, src, "accepted but rewritten: {text}");
            accepted += 1;
        }
        if written == src {
            kept += 1;
            let left = [
                "\\u",
                "\u{FFFD}",
                "1234567890123456",
                "\"0\":",
                "\"1\":",
                "\"10\":",
                "\"4294967294\":",
                &"[".repeat(33),
            ]
            .iter()
            .any(|s| text.contains(s));
            assert!(checked.is_some() || left, "kept by the writer, refused by the check: {text}");
        }
        // The writer's text is its own canonical form.
        assert_eq!(write(&written).as_deref(), Some(&written[..]), "{text}");
        // A byte changed or cut: whatever the check accepts is still kept by the writer.
        let mut bent = src.to_vec();
        let at = next(bent.len());
        match next(3) {
            0 => bent.truncate(at),
            1 => bent[at] = b"\"\\{}[],: 0e.-\x7f\xff\xed"[next(15)],
            _ => {
                bent.remove(at);
            }
        }
        if let Some(end) = stringified_end(&bent, 0) {
            assert_eq!(
                write(&bent[..end]).as_deref(),
                Some(&bent[..end]),
                "{}",
                String::from_utf8_lossy(&bent)
            );
        }
    }
    assert!(accepted > 2_000 && kept > accepted, "accepted {accepted}, kept {kept}");
}
