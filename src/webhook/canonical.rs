//! The signing string ("stringA") of a raw event body, as the sender's JavaScript builds it
//! from `JSON.parse(body)`: top-level keys sorted by UTF-16 code units, null and "" values
//! dropped, `key=value` joined with `&`, where strings are written as is, numbers and
//! booleans as `String(v)`, objects and arrays as `JSON.stringify(v)`.
//!
//! One pass over the bytes, no JSON tree. A nested value that is already `JSON.stringify`
//! text (what a sender's `JSON.stringify` wrote) is checked and copied whole; any other is
//! written straight into its `JSON.stringify` form. The only rewrites are local: when an
//! object closes and it had integer-like keys out of order or duplicated keys, its
//! already-written members are reordered in place (JavaScript puts array-index keys first,
//! ascending, and a repeated key keeps its first position with its last value). The parser
//! keeps an explicit stack, so depth costs heap, not call stack, and is capped at
//! [`MAX_DEPTH`].

use super::error::concat;
use super::number::{self, Number};
use crate::checked::{out_of_range, At};
use core::fmt;

/// Deepest nesting accepted. `JSON.stringify` itself overflows V8's stack a few thousand
/// levels down, so no sender can sign anything deeper.
pub const MAX_DEPTH: usize = 1000;

/// Members of an object among which a repeated key is looked for as each key comes; in a
/// larger object a key whose hash bucket is taken makes its keys sorted when it closes.
const DUPLICATE_SCAN: usize = 64;

/// Why a body is not a signable event: not JSON as `JSON.parse` reads it, not an object,
/// or nested too deep. `offset` is the byte where reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadError {
    pub kind: PayloadErrorKind,
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadErrorKind {
    /// The body ends in the middle of a value.
    UnexpectedEnd,
    /// A byte that JSON does not allow here.
    UnexpectedByte(u8),
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// A backslash escape JSON does not know, or a bad `\u` sequence.
    InvalidEscape,
    /// A raw control character (below U+0020) inside a string.
    ControlCharacter,
    /// A number that breaks JSON's grammar (leading zero, lone `-`, `1.`, `1e`).
    InvalidNumber,
    /// Valid JSON, but the event must be an object.
    NotAnObject,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl PayloadError {
    /// What went wrong and where, for people.
    pub fn message(&self) -> String {
        use PayloadErrorKind::*;
        let at = &number::count(self.offset as f64);
        match self.kind {
            UnexpectedEnd => concat(&["the body is not complete JSON (it ends at byte ", at, ")"]),
            UnexpectedByte(b) if b.is_ascii_graphic() => concat(&[
                "invalid JSON: unexpected '",
                char::from(b).encode_utf8(&mut [0; 4]),
                "' at byte ",
                at,
            ]),
            UnexpectedByte(b) => {
                let hex = [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]];
                concat(&[
                    "invalid JSON: unexpected byte 0x",
                    core::str::from_utf8(&hex).unwrap_or("??"),
                    " at byte ",
                    at,
                ])
            }
            InvalidUtf8 => concat(&["the body is not valid UTF-8 (byte ", at, ")"]),
            InvalidEscape => concat(&["invalid JSON: bad escape sequence at byte ", at]),
            ControlCharacter => {
                concat(&["invalid JSON: unescaped control character in a string at byte ", at])
            }
            InvalidNumber => concat(&["invalid JSON: malformed number at byte ", at]),
            NotAnObject => "the event must be a JSON object".to_owned(),
            TooDeep => {
                concat(&["the event is nested deeper than ", &number::count(MAX_DEPTH as f64), " levels"])
            }
        }
    }
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for PayloadError {}

/// The string the signature covers (without the `&key=` suffix), as UTF-8 bytes.
pub fn signing_string(body: &[u8]) -> Result<Vec<u8>, PayloadError> {
    Ok(canonicalise(body)?.signing_string())
}

/// A body read once: its signing string (as pieces, so it can be hashed without being
/// assembled), and the event's `createdAt` for age checks.
pub struct Canonical {
    /// Every top-level member as the signing string shows it, `&key=value`, in source order.
    text: Vec<u8>,
    /// The kept members, sorted: their ranges of `text` (the first without its `&`).
    members: Vec<(usize, usize)>,
    /// The signing string in one piece, when `text` holds a lone surrogate (WTF-8, from a
    /// `\u` escape): written as U+FFFD, as JavaScript's UTF-8 encoding of the string does.
    lossy: Option<Vec<u8>>,
    /// Its one range.
    lossy_range: [(usize, usize); 1],
    created_at: Option<(usize, usize)>,
    /// The body holds U+FFFD (raw, not escaped).
    replacement_char: bool,
    /// The raw body's size in bytes (`None` for a parsed event).
    body_len: Option<usize>,
    /// The first kept member whose pieces could be read another way (see [`Ambiguity`]).
    ambiguity: Option<(Ambiguity, (usize, usize))>,
}

/// How a top-level member can make the signing string readable as another event's: the
/// signing string joins `key=value` pieces with `&`, and writes strings, numbers and booleans
/// alike, so a key holding `&` or `=`, or a string value holding `&`, lets the pieces of a
/// signed event be cut and glued anew (`"id": "evt_1&livemode=false"` signs as the id `evt_1`
/// and a `livemode` false), and a member of the event given another type signs the same
/// (`"livemode": "false"`, a truthy string, for `false`; `data` as a string of its JSON for
/// the object). The sender makes none of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ambiguity {
    /// A key holds `&` or `=`.
    Key,
    /// A string value holds `&`.
    Value,
    /// A member of the event's own (`id`, `livemode`, `data`...) is not of its type.
    Type(Kind),
    /// A key or string value holds U+FFFD or a lone surrogate, which all sign as U+FFFD
    /// (`"id": "evt_\ud800"` as the id `evt_\ufffd`, or `evt_\udc00`).
    Unpaired,
}

/// The JSON type of a top-level value, as far as [`Ambiguity`] needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Number,
    Boolean,
    Object,
    /// An array (or, for a parsed event, whatever else `JSON.stringify` wrote).
    Other,
}

impl Kind {
    /// "a string", "an object", ... for messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "a string",
            Kind::Number => "a number",
            Kind::Boolean => "a boolean",
            Kind::Object => "an object",
            Kind::Other => "an array",
        }
    }
}

/// The members of an event and their types, as the API defines the event.
pub(crate) const EVENT_MEMBERS: [(&[u8], Kind); 7] = [
    (b"id", Kind::String),
    (b"type", Kind::String),
    (b"object", Kind::String),
    (b"createdAt", Kind::String),
    (b"pendingWebhooks", Kind::Number),
    (b"livemode", Kind::Boolean),
    (b"data", Kind::Object),
];

impl Canonical {
    /// The signing string, piece by piece.
    pub fn pieces(&self) -> impl Iterator<Item = &[u8]> + Clone {
        let (text, members) = match &self.lossy {
            Some(whole) => (&whole[..], &self.lossy_range[..]),
            None => (&self.text[..], &self.members[..]),
        };
        members.iter().map(move |&(a, b)| text.at(a..b))
    }

    /// The signing string in one piece.
    pub fn signing_string(&self) -> Vec<u8> {
        self.pieces().flatten().copied().collect()
    }

    /// The raw body's size in bytes; `None` for an event parsed already.
    pub fn body_len(&self) -> Option<usize> {
        self.body_len
    }

    /// Whether the body holds a raw U+FFFD: what a JS string's lone surrogate becomes when
    /// encoded as UTF-8.
    pub fn has_replacement_char(&self) -> bool {
        self.replacement_char
    }

    /// The first top-level member (as `(why, key)`) that makes the signing string readable
    /// as another event's; the verifier refuses such an event.
    pub fn ambiguity(&self) -> Option<(Ambiguity, &[u8])> {
        self.ambiguity.map(|(why, (a, b))| (why, self.text.at(a..b)))
    }

    /// The top-level `createdAt` as the signing string shows it (a string's text, a
    /// number's digits), if kept and valid UTF-8.
    pub fn created_at(&self) -> Option<&str> {
        self.created_at.and_then(|(a, b)| core::str::from_utf8(self.text.at(a..b)).ok())
    }

    /// The signing string of an event that JavaScript parsed already, given as its top-level
    /// members: `(key, value as written, dropped, kind)` (see [`super::parsed`]).
    pub(crate) fn from_members(members: &[(&[u8], &[u8], bool, Kind)]) -> Canonical {
        let mut text = Vec::with_capacity(members.iter().map(|(k, v, _, _)| k.len() + v.len() + 2).sum());
        let mut top = Vec::with_capacity(members.len());
        for &(key, value, dropped, kind) in members {
            text.push(b'&');
            let k0 = text.len();
            text.extend_from_slice(key);
            let key = (k0, text.len());
            text.push(b'=');
            let v0 = text.len();
            text.extend_from_slice(value);
            top.push(TopMember { key, value: (v0, text.len()), dropped, kind });
        }
        // A key with a lone surrogate (WTF-8 0xED 0xA0..): sorted as such, hashed as U+FFFD.
        let lossy = members.iter().any(|(k, _, _, _)| k.windows(2).any(|w| w[0] == 0xED && w[1] >= 0xA0));
        join(text, top, lossy, false)
    }
}

/// The text of a JSON string literal (quotes included) as `JSON.parse` decodes it, in WTF-8
/// (lone surrogates kept); `None` if it is not exactly one string literal.
pub fn decode_string(literal: &[u8]) -> Option<Vec<u8>> {
    let mut c = Canonicaliser::new(literal);
    if c.peek() != Some(b'"') {
        return None;
    }
    c.string(StrMode::Raw).ok()?;
    (c.pos == literal.len()).then_some(c.out)
}

pub fn canonicalise(body: &[u8]) -> Result<Canonical, PayloadError> {
    let mut c = Canonicaliser::new(body);
    match c.event() {
        Ok(top) => {
            Ok(Canonical { body_len: Some(body.len()), ..join(c.out, top, c.lossy, c.replacement_char) })
        }
        Err(Stop) => Err(c.fail.get()),
    }
}

/// Sort the top-level members by key (UTF-16 code units; a repeated key keeps its last
/// value) and drop null/"".
fn join(out: Vec<u8>, top: Vec<TopMember>, lossy: bool, replacement_char: bool) -> Canonical {
    let key = |i: usize| {
        let (a, b) = top.at(i).key;
        out.at(a..b)
    };
    // Among equal keys, keep source order so the last one written wins.
    let mut order: Vec<usize> = (0..top.len()).collect();
    sort_indices(&mut order, &|a, b| utf16_cmp(key(a), key(b)).then(a.cmp(&b)));
    let mut members = Vec::with_capacity(top.len());
    let mut created_at = None;
    let mut ambiguity = None;
    let mut i = 0;
    while i < order.len() {
        let mut last = i;
        while last + 1 < order.len() && key(*order.at(last + 1)) == key(*order.at(i)) {
            last += 1;
        }
        let m = top.at(*order.at(last));
        if !m.dropped {
            // The first member without its `&`.
            members.push((m.key.0 - usize::from(!members.is_empty()), m.value.1));
            if key(*order.at(last)) == b"createdAt" {
                created_at = Some(m.value);
            }
            if ambiguity.is_none() {
                let has = |range: (usize, usize), what: &[u8]| {
                    out.at(range.0..range.1).iter().any(|b| what.contains(b))
                };
                let why = if has(m.key, b"&=") {
                    Some(Ambiguity::Key)
                } else if m.kind == Kind::String && has(m.value, b"&") {
                    Some(Ambiguity::Value)
                } else if unpaired(out.at(m.key.0..m.key.1))
                    || m.kind == Kind::String && unpaired(out.at(m.value.0..m.value.1))
                {
                    Some(Ambiguity::Unpaired)
                } else {
                    let typed = EVENT_MEMBERS.iter().find(|(name, _)| *name == key(*order.at(last)));
                    typed.filter(|&&(_, kind)| kind != m.kind).map(|&(_, kind)| Ambiguity::Type(kind))
                };
                ambiguity = why.map(|why| (why, m.key));
            }
        }
        i = last + 1;
    }
    let mut c = Canonical {
        text: out,
        members,
        lossy: None,
        lossy_range: [(0, 0)],
        created_at,
        replacement_char,
        body_len: None,
        ambiguity,
    };
    if lossy {
        let mut whole = Vec::with_capacity(c.text.len());
        c.pieces().for_each(|p| push_utf8_lossy(&mut whole, p));
        c.lossy_range = [(0, whole.len())];
        c.lossy = Some(whole);
    }
    c
}

/// Whether WTF-8 text holds U+FFFD or a lone surrogate (0xED 0xA0..0xBF, never in UTF-8).
fn unpaired(text: &[u8]) -> bool {
    text.windows(3).any(|w| w[0] == 0xED && w[1] >= 0xA0 || w == "\u{FFFD}".as_bytes())
}

/// A member of an object that is still open: where its `"key":value` text sits in `out`
/// (from its key to the comma before the next member's key, or the end of `out`).
struct Member {
    key: (usize, usize),
    /// A hash of the key's text, to rule out most repeats without comparing bytes.
    hash: u32,
    /// Array-index keys ("0".."4294967294") sort first in JavaScript objects.
    index: Option<u32>,
}

struct Frame {
    object: bool,
    /// Offset in `out` of the opening bracket.
    start: usize,
    /// First of this object's entries in `members`.
    first_member: usize,
    /// Members so far are already in JavaScript's order (index keys first, ascending).
    in_order: bool,
    /// One bit per key hash seen (64 buckets): a key whose bit is already set may repeat.
    seen: u64,
    /// A key repeats among the members so far (or, past [`DUPLICATE_SCAN`] members, may).
    duplicates: bool,
}

/// A top-level member: key and value as they are written into the signing string.
struct TopMember {
    key: (usize, usize),
    value: (usize, usize),
    /// null or "" — left out of the signing string.
    dropped: bool,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq)]
enum StrMode {
    /// `JSON.stringify` form, quotes included.
    Json,
    /// The decoded value as WTF-8 (lone surrogates kept, so keys compare as JS strings do).
    Raw,
}

struct Canonicaliser<'a> {
    src: &'a [u8],
    pos: usize,
    out: Vec<u8>,
    frames: Vec<Frame>,
    members: Vec<Member>,
    /// A raw (top-level) string holds a lone surrogate.
    lossy: bool,
    /// A string holds a raw U+FFFD.
    replacement_char: bool,
    /// Why reading stopped (set with the `Stop` that ends it).
    fail: core::cell::Cell<PayloadError>,
}

/// Reading stopped: the reason is in `Canonicaliser::fail`. A unit error keeps the happy
/// path's results in registers (a `PayloadError` would go through memory on every call).
struct Stop;

type Res<T> = Result<T, Stop>;

const HEX: &[u8; 16] = b"0123456789abcdef";

impl<'a> Canonicaliser<'a> {
    fn new(src: &'a [u8]) -> Self {
        Canonicaliser {
            src,
            pos: 0,
            out: Vec::with_capacity(src.len() + 16),
            frames: Vec::with_capacity(16),
            members: Vec::with_capacity(64),
            lossy: false,
            replacement_char: false,
            fail: core::cell::Cell::new(PayloadError { kind: PayloadErrorKind::UnexpectedEnd, offset: 0 }),
        }
    }

    #[cold]
    fn err<T>(&self, kind: PayloadErrorKind) -> Res<T> {
        self.fail.set(PayloadError { kind, offset: self.pos });
        Err(Stop)
    }

    #[cold]
    #[inline(never)]
    fn unexpected<T>(&self) -> Res<T> {
        match self.src.get(self.pos) {
            None => self.err(PayloadErrorKind::UnexpectedEnd),
            Some(&b) => self.err(PayloadErrorKind::UnexpectedByte(b)),
        }
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.src.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn expect(&mut self, b: u8) -> Res<()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            self.unexpected()
        }
    }

    /// The whole body: `{ members }` with nothing but whitespace around it.
    fn event(&mut self) -> Res<Vec<TopMember>> {
        self.skip_ws();
        if self.peek() != Some(b'{') {
            // Tell "valid JSON but not an object" apart from "not JSON".
            self.json_value()?;
            self.skip_ws();
            if self.pos < self.src.len() {
                return self.unexpected();
            }
            self.pos = 0;
            return self.err(PayloadErrorKind::NotAnObject);
        }
        self.pos += 1;
        let mut top: Vec<TopMember> = Vec::with_capacity(16);
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                if self.peek() != Some(b'"') {
                    return self.unexpected();
                }
                self.out.push(b'&');
                let k0 = self.out.len();
                self.string(StrMode::Raw)?;
                let key = (k0, self.out.len());
                self.skip_ws();
                self.expect(b':')?;
                self.skip_ws();
                self.out.push(b'=');
                let v0 = self.out.len();
                let kind = match self.peek() {
                    Some(b'"') => Kind::String,
                    Some(b'{') => Kind::Object,
                    Some(b't' | b'f') => Kind::Boolean,
                    Some(b'-' | b'0'..=b'9') => Kind::Number,
                    _ => Kind::Other,
                };
                let dropped = self.top_value()?;
                top.push(TopMember { key, value: (v0, self.out.len()), dropped, kind });
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return self.unexpected(),
                }
            }
        }
        self.skip_ws();
        if self.pos < self.src.len() {
            return self.unexpected();
        }
        Ok(top)
    }

    /// A top-level value, written as the signing string shows it. Returns whether it is
    /// dropped (null or the empty string).
    fn top_value(&mut self) -> Res<bool> {
        match self.peek() {
            Some(b'"') => {
                let v0 = self.out.len();
                self.string(StrMode::Raw)?;
                Ok(self.out.len() == v0)
            }
            Some(b'n') => {
                self.literal(b"null")?;
                self.out.truncate(self.out.len() - 4);
                Ok(true)
            }
            Some(b'-' | b'0'..=b'9') => {
                // String(v): like JSON except that an overflowing number prints as Infinity.
                if let Number::Infinite { negative } = self.number()? {
                    self.out.extend_from_slice(if negative { b"-Infinity" } else { b"Infinity" });
                }
                Ok(false)
            }
            _ => {
                // A sender's `JSON.stringify` text is its own canonical form: checked, then
                // copied whole; anything else is rewritten.
                if !self.copy_stringified() {
                    self.json_value()?;
                }
                Ok(false)
            }
        }
    }

    /// Any JSON value in `JSON.stringify` form, without recursion.
    fn json_value(&mut self) -> Res<()> {
        let base = self.frames.len();
        'value: loop {
            // Each pass reads one value, closes what it completes, and ends on the key of the
            // next member of an object (one call site for `member_key`).
            'key: {
                self.skip_ws();
                match self.peek() {
                    // Inside the value the check gave up on, each member that is a container
                    // is checked again on its own (so each byte is checked at most twice).
                    Some(b'{' | b'[') if self.frames.len() == base + 1 && self.copy_stringified() => {}
                    Some(b'{') => {
                        self.open(true)?;
                        self.skip_ws();
                        if self.peek() != Some(b'}') {
                            break 'key;
                        }
                        self.pos += 1;
                        self.frames.pop();
                        self.out.push(b'}');
                    }
                    Some(b'[') => {
                        self.open(false)?;
                        self.skip_ws();
                        if self.peek() != Some(b']') {
                            continue 'value;
                        }
                        self.pos += 1;
                        self.frames.pop();
                        self.out.push(b']');
                    }
                    Some(b'"') => self.string(StrMode::Json)?,
                    Some(b't') => self.literal(b"true")?,
                    Some(b'f') => self.literal(b"false")?,
                    Some(b'n') => self.literal(b"null")?,
                    Some(b'-' | b'0'..=b'9') => {
                        if let Number::Infinite { .. } = self.number()? {
                            self.out.extend_from_slice(b"null");
                        }
                    }
                    _ => return self.unexpected(),
                }
                // A value is complete: close every container it completes.
                loop {
                    if self.frames.len() == base {
                        return Ok(());
                    }
                    let object = self.frames.last().map_or_else(|| out_of_range(), |f| f.object);
                    self.skip_ws();
                    match (object, self.peek()) {
                        (true, Some(b',')) => {
                            self.pos += 1;
                            self.out.push(b',');
                            self.skip_ws();
                            break 'key;
                        }
                        (true, Some(b'}')) => {
                            self.pos += 1;
                            self.close_object();
                        }
                        (false, Some(b',')) => {
                            self.pos += 1;
                            self.out.push(b',');
                            break;
                        }
                        (false, Some(b']')) => {
                            self.pos += 1;
                            self.frames.pop();
                            self.out.push(b']');
                        }
                        _ => return self.unexpected(),
                    }
                }
                continue 'value;
            }
            self.member_key()?;
        }
    }

    /// The value at `pos` copied whole if it is `JSON.stringify` text ([`stringified_end`]).
    fn copy_stringified(&mut self) -> bool {
        let Some(end) = stringified_end(self.src, self.pos) else { return false };
        self.out.extend_from_slice(self.src.at(self.pos..end));
        self.pos = end;
        true
    }

    fn open(&mut self, object: bool) -> Res<()> {
        if self.frames.len() >= MAX_DEPTH {
            return self.err(PayloadErrorKind::TooDeep);
        }
        self.pos += 1;
        self.frames.push(Frame {
            object,
            start: self.out.len(),
            first_member: self.members.len(),
            in_order: true,
            seen: 0,
            duplicates: false,
        });
        self.out.push(if object { b'{' } else { b'[' });
        Ok(())
    }

    /// `"key":` of the next member of the innermost object.
    // Not inlined (nor is `close_object`): off the path of `JSON.stringify` text, and smaller apart.
    #[inline(never)]
    fn member_key(&mut self) -> Res<()> {
        if self.peek() != Some(b'"') {
            return self.unexpected();
        }
        let k0 = self.out.len();
        self.string(StrMode::Json)?;
        let key = (k0, self.out.len());
        let text = self.out.at(k0 + 1..key.1 - 1);
        let (hash, index) = (key_hash(text), array_index(text));
        let Some(frame) = self.frames.last_mut() else { out_of_range() };
        let members = self.members.at(frame.first_member..);
        if let Some(i) = index {
            // Still in order only if every earlier key is a smaller index.
            if let Some(prev) = members.last() {
                if prev.index.map_or(true, |p| p >= i) {
                    frame.in_order = false;
                }
            }
        }
        // Repeated keys: only a key whose hash bucket is taken is compared with the others,
        // and only among the first few members; past them a possible repeat is settled when
        // the object closes, by sorting its keys (a scan per key is quadratic: seconds for the
        // 100,000 keys of a 1 MB body).
        let bit = 1u64 << (hash >> 26);
        if frame.seen & bit != 0 && !frame.duplicates {
            let text = self.out.at(k0..key.1);
            frame.duplicates = members.len() > DUPLICATE_SCAN
                || members.iter().any(|m| m.hash == hash && self.out.at(m.key.0..m.key.1) == text);
        }
        frame.seen |= bit;
        self.members.push(Member { key, hash, index });
        self.skip_ws();
        self.expect(b':')?;
        self.out.push(b':');
        Ok(())
    }

    /// `}` of the innermost object: reorder its members if JavaScript would.
    #[inline(never)]
    fn close_object(&mut self) {
        let Some(frame) = self.frames.pop() else { out_of_range() };
        let members = self.members.at(frame.first_member..);
        let duplicates = frame.duplicates;
        if frame.in_order && !duplicates {
            self.out.push(b'}');
            self.members.truncate(frame.first_member);
            return;
        }
        // Final order: one entry per distinct key at its first position with its last value.
        let key = |i: usize| {
            let (a, b) = members.at(i).key;
            self.out.at(a..b)
        };
        let mut last_of: Vec<usize> = (0..members.len()).collect();
        let mut first: Vec<bool> = vec![true; members.len()];
        if duplicates {
            let mut by_key: Vec<usize> = (0..members.len()).collect();
            sort_indices(&mut by_key, &|a, b| key(a).cmp(key(b)).then(a.cmp(&b)));
            // Each run of equal keys (`chunk_by` brings a panic path of its own).
            let mut rest = &by_key[..];
            while let [head, later @ ..] = rest {
                let n = later.iter().take_while(|&&k| key(k) == key(*head)).count();
                let (run, next) = later.split_at_checked(n).unwrap_or((later, &[]));
                *last_of.at_mut(*head) = *run.last().unwrap_or(head);
                run.iter().for_each(|&later| *first.at_mut(later) = false);
                rest = next;
            }
        }
        let mut order: Vec<usize> = (0..members.len()).filter(|&i| *first.at(i)).collect();
        // Index keys first, ascending; the rest keep their first-seen order.
        let rank = |i: usize| members.at(i).index.map_or(u64::MAX, u64::from);
        sort_indices(&mut order, &|a, b| rank(a).cmp(&rank(b)).then(a.cmp(&b)));
        let mut text = Vec::with_capacity(self.out.len() - frame.start + 1);
        text.push(b'{');
        for (n, &i) in order.iter().enumerate() {
            if n > 0 {
                text.push(b',');
            }
            let j = *last_of.at(i);
            let end = members.get(j + 1).map_or(self.out.len(), |next| next.key.0 - 1);
            text.extend_from_slice(self.out.at(members.at(j).key.0..end));
        }
        text.push(b'}');
        self.out.truncate(frame.start);
        self.out.extend_from_slice(&text);
        self.members.truncate(frame.first_member);
    }

    #[inline(never)]
    fn literal(&mut self, word: &[u8]) -> Res<()> {
        for &b in word {
            if self.peek() != Some(b) {
                return self.unexpected();
            }
            self.pos += 1;
        }
        self.out.extend_from_slice(word);
        Ok(())
    }

    /// A JSON number, written the ECMAScript way (infinite ones are left to the caller).
    fn number(&mut self) -> Res<Number> {
        let start = self.pos;
        match number::scan(self.src, start) {
            Ok(end) => {
                self.pos = end;
                Ok(number::write(self.src.at(start..end), &mut self.out))
            }
            Err(at) => {
                self.pos = at;
                if at >= self.src.len() {
                    self.err(PayloadErrorKind::UnexpectedEnd)
                } else {
                    self.err(PayloadErrorKind::InvalidNumber)
                }
            }
        }
    }

    /// A JSON string at `pos` (on its opening quote), decoded and written in `mode`.
    fn string(&mut self, mode: StrMode) -> Res<()> {
        // The text is copied in runs that need no change; in `Json` mode the quotes go with
        // them (the source has them too).
        let mut run_start = if mode == StrMode::Json { self.pos } else { self.pos + 1 };
        self.pos += 1;
        loop {
            // The longest run that needs no change: plain ASCII found 8 bytes at a time,
            // valid multi-byte UTF-8 stepped over.
            loop {
                self.pos = plain_ascii_end(self.src, self.pos);
                let run = self.pos;
                while let Some(&b) = self.src.get(self.pos) {
                    if b < 0x80 {
                        break;
                    }
                    if b == 0xEF && self.src.get(self.pos + 1..self.pos + 3) == Some(&[0xBF, 0xBD]) {
                        self.replacement_char = true;
                    }
                    self.pos = self.utf8_char(b)?;
                }
                if self.pos == run {
                    break;
                }
            }
            match self.peek() {
                None => return self.err(PayloadErrorKind::UnexpectedEnd),
                Some(b'"') => {
                    self.pos += 1;
                    let end = if mode == StrMode::Json { self.pos } else { self.pos - 1 };
                    self.out.extend_from_slice(self.src.at(run_start..end));
                    return Ok(());
                }
                Some(b'\\') => {
                    self.out.extend_from_slice(self.src.at(run_start..self.pos));
                    self.escape(mode)?;
                    run_start = self.pos;
                }
                Some(_) => return self.err(PayloadErrorKind::ControlCharacter),
            }
        }
    }

    /// The end of the multi-byte UTF-8 character at `pos` (lead byte `lead`).
    #[inline]
    fn utf8_char(&self, lead: u8) -> Res<usize> {
        match utf8_end(self.src, self.pos, lead) {
            Some(end) => Ok(end),
            None => self.err(PayloadErrorKind::InvalidUtf8),
        }
    }

    /// A backslash escape: decode it, then write the character in `mode`.
    fn escape(&mut self, mode: StrMode) -> Res<()> {
        let at = self.pos;
        let Some(&c) = self.src.get(at + 1) else {
            return self.err(PayloadErrorKind::UnexpectedEnd);
        };
        self.pos += 2;
        let unit = match c {
            b'"' => b'"' as u32,
            b'\\' => b'\\' as u32,
            b'/' => b'/' as u32,
            b'b' => 0x08,
            b'f' => 0x0C,
            b'n' => 0x0A,
            b'r' => 0x0D,
            b't' => 0x09,
            b'u' => self.hex4()?,
            _ => {
                self.pos = at;
                return self.err(PayloadErrorKind::InvalidEscape);
            }
        };
        let ch = if (0xD800..0xDC00).contains(&unit) {
            // A high surrogate pairs with an immediately following escaped low one.
            let low = self.src.get(self.pos..self.pos + 6).and_then(|s| {
                if s[0] == b'\\' && s[1] == b'u' {
                    parse_hex4(&s[2..6]).filter(|u| (0xDC00..0xE000).contains(u))
                } else {
                    None
                }
            });
            match low {
                Some(low) => {
                    self.pos += 6;
                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                }
                None => unit,
            }
        } else {
            unit
        };
        self.write_char(ch, mode);
        Ok(())
    }

    fn hex4(&mut self) -> Res<u32> {
        match self.src.get(self.pos..self.pos + 4) {
            Some(s) => match parse_hex4(s) {
                Some(u) => {
                    self.pos += 4;
                    Ok(u)
                }
                None => self.err(PayloadErrorKind::InvalidEscape),
            },
            None => self.err(PayloadErrorKind::UnexpectedEnd),
        }
    }

    /// One decoded character (or lone surrogate) in `mode`.
    fn write_char(&mut self, ch: u32, mode: StrMode) {
        if mode == StrMode::Raw && (0xD800..0xE000).contains(&ch) {
            self.lossy = true;
        }
        let out = &mut self.out;
        if mode == StrMode::Json {
            let short = match ch {
                0x22 => Some(b'"'),
                0x5C => Some(b'\\'),
                0x08 => Some(b'b'),
                0x0C => Some(b'f'),
                0x0A => Some(b'n'),
                0x0D => Some(b'r'),
                0x09 => Some(b't'),
                _ => None,
            };
            if let Some(s) = short {
                out.extend_from_slice(&[b'\\', s]);
                return;
            }
            if ch < 0x20 || (0xD800..0xE000).contains(&ch) {
                out.extend_from_slice(b"\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(HEX[((ch >> shift) & 0xF) as usize]);
                }
                return;
            }
        }
        push_wtf8(out, ch);
    }
}

/// The first byte at or after `i` that a string cannot copy as is: a quote, a backslash,
/// a control character or a non-ASCII byte (or the end). Eight bytes at a time: a byte's
/// high bit in `stop` is set for each of those (borrows only spill above a real hit, so
/// the lowest set bit is exact).
#[inline]
fn plain_ascii_end(src: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = src.get(i..i + 8) {
        let stop = stops(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])));
        if stop != 0 {
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = src.get(i) {
        if !(0x20..0x80).contains(&b) || b == b'"' || b == b'\\' {
            break;
        }
        i += 1;
    }
    i
}

/// Containers nested deeper than this inside a top-level value are left to the writer.
const CHECK_DEPTH: usize = 32;

/// The end of the JSON value at `start` if it is written exactly as `JSON.stringify` would
/// write it (no whitespace, strings with only the escapes it writes, numbers as JavaScript
/// prints them, no array-index or repeated keys); `None` when not, or when unsure (a `\u`
/// escape, U+FFFD, deep nesting, an error): the writer ([`Canonicaliser::json_value`]) then
/// reads it. Reads only.
#[inline(never)]
fn stringified_end(src: &[u8], start: usize) -> Option<usize> {
    // The keys of the open objects, as `start | len << 32`; per open container, whether it is
    // an object (a bit), the hash buckets of its keys so far and its first key in `keys`.
    let mut keys: Vec<u64> = Vec::new();
    let mut objects = 0u64;
    let mut seen = [0u64; CHECK_DEPTH];
    let mut first = [0usize; CHECK_DEPTH];
    let mut depth = 0;
    let mut i = start;
    'value: loop {
        // One value at `i`; then what it completes is closed, ending on the next value.
        'key: {
            match *src.get(i)? {
                open @ (b'{' | b'[') => {
                    i += 1;
                    if src.get(i) == Some(&(open + 2)) {
                        i += 1;
                    } else if depth >= CHECK_DEPTH {
                        return None;
                    } else {
                        seen[depth] = 0;
                        first[depth] = keys.len();
                        depth += 1;
                        if open == b'[' {
                            objects &= !(1 << depth);
                            continue 'value;
                        }
                        objects |= 1 << depth;
                        break 'key;
                    }
                }
                b'"' => i = stringified_string_end(src, i)?,
                b't' if src.get(i..i + 4) == Some(b"true") => i += 4,
                b'f' if src.get(i..i + 5) == Some(b"false") => i += 5,
                b'n' if src.get(i..i + 4) == Some(b"null") => i += 4,
                b'-' | b'0'..=b'9' => i = number::canonical_end(src, i)?,
                _ => return None,
            }
            loop {
                if depth == 0 {
                    return Some(i);
                }
                let object = objects & (1 << depth) != 0;
                match (*src.get(i)?, object) {
                    (b',', true) => {
                        i += 1;
                        break 'key;
                    }
                    (b',', false) => {
                        i += 1;
                        continue 'value;
                    }
                    (b'}', true) | (b']', false) => {
                        i += 1;
                        depth -= 1;
                        keys.truncate(*first.at(depth));
                    }
                    _ => return None,
                }
            }
        }
        // `"key":` of the next member of the innermost object (at `depth - 1`).
        if src.get(i) != Some(&b'"') {
            return None;
        }
        // Most keys are short plain ASCII right before the colon: found in the 16 bytes after
        // the quote and hashed from the same two words (the bytes before the first stop).
        let short = src.get(i + 1..i + 17).and_then(|w| {
            let (a, b) = words(w);
            let below = |stop: u64| ((stop & stop.wrapping_neg()) >> 7).wrapping_sub(1);
            let sa = stops(a);
            let (n, a, b) = if sa != 0 {
                ((sa.trailing_zeros() / 8) as usize, a & below(sa), 0)
            } else {
                let sb = stops(b);
                (8 + (sb.trailing_zeros() / 8) as usize, a, b & below(sb))
            };
            (n <= 14 && w.get(n..n + 2) == Some(b"\":")).then_some((n, a, b))
        });
        let (len, hash) = match short {
            Some((n, a, b)) => (n, mix(a, b, n)),
            None => {
                let end = stringified_string_end(src, i)?;
                if src.get(end) != Some(&b':') {
                    return None;
                }
                (end - i - 2, key_hash(src.at(i + 1..end - 1)))
            }
        };
        let text = src.at(i + 1..i + 1 + len);
        if text.first().is_some_and(u8::is_ascii_digit) && array_index(text).is_some() {
            return None;
        }
        let bit = 1u64 << (hash >> 26);
        // The innermost object's level (`depth` is at least 1 here).
        let level = depth.wrapping_sub(1);
        let seen = seen.at_mut(level);
        if *seen & bit != 0 {
            let earlier = keys.at(*first.at(level)..);
            if earlier.len() > DUPLICATE_SCAN
                || earlier.iter().any(|&k| src.at(k as u32 as usize..).at(..(k >> 32) as usize) == text)
            {
                return None;
            }
        }
        *seen |= bit;
        keys.push((i + 1) as u64 | (len as u64) << 32);
        i += len + 3;
    }
}

/// The end of the string literal at `i` (on its opening quote) if `JSON.stringify` would
/// write its text as it is: valid UTF-8 without U+FFFD, no control characters, and no
/// escapes but `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`.
#[inline(always)]
fn stringified_string_end(src: &[u8], i: usize) -> Option<usize> {
    let mut i = i + 1;
    loop {
        i = plain_ascii_end(src, i);
        match *src.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => match *src.get(i + 1)? {
                b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                _ => return None,
            },
            0xEF if src.get(i + 1..i + 3) == Some(&[0xBF, 0xBD]) => return None,
            lead @ 0x80.. => i = utf8_end(src, i, lead)?,
            _ => return None,
        }
    }
}

/// The end of the multi-byte UTF-8 character at `i` (lead byte `lead`), rejecting what
/// `str::from_utf8` rejects: overlong forms, surrogates, above U+10FFFF, truncation.
#[inline]
fn utf8_end(src: &[u8], i: usize, lead: u8) -> Option<usize> {
    let (width, lo, hi) = match lead {
        0xC2..=0xDF => (2, 0x80, 0xBF),
        0xE0 => (3, 0xA0, 0xBF),
        0xED => (3, 0x80, 0x9F),
        0xE1..=0xEF => (3, 0x80, 0xBF),
        0xF0 => (4, 0x90, 0xBF),
        0xF1..=0xF3 => (4, 0x80, 0xBF),
        0xF4 => (4, 0x80, 0x8F),
        _ => return None,
    };
    match src.get(i + 1..i + width) {
        Some([b1, rest @ ..]) if (lo..=hi).contains(b1) && rest.iter().all(|&b| b & 0xC0 == 0x80) => {
            Some(i + width)
        }
        _ => None,
    }
}

/// The high bit of each byte of `x` (eight bytes of text, little-endian) that a string cannot
/// copy as is (a quote, a backslash, a control character, a non-ASCII byte); borrows only
/// spill above a real hit, so the lowest set bit is exact.
#[inline]
fn stops(x: u64) -> u64 {
    const L: u64 = 0x0101_0101_0101_0101;
    const H: u64 = 0x8080_8080_8080_8080;
    (x.wrapping_sub(L * 0x20)
        | (x ^ (L * b'"' as u64)).wrapping_sub(L)
        | (x ^ (L * b'\\' as u64)).wrapping_sub(L)
        | x)
        & H
}

/// Sixteen bytes as two little-endian words.
#[inline]
fn words(w: &[u8]) -> (u64, u64) {
    let word = |at: usize| u64::from_le_bytes(w[at..at + 8].try_into().unwrap_or([0; 8]));
    (word(0), word(8))
}

fn parse_hex4(s: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &b in s {
        v = v * 16 + (b as char).to_digit(16)?;
    }
    Some(v)
}

/// UTF-8, except that a surrogate code point is encoded too (WTF-8).
fn push_wtf8(out: &mut Vec<u8>, ch: u32) {
    if ch < 0x80 {
        out.push(ch as u8);
    } else if ch < 0x800 {
        out.extend_from_slice(&[0xC0 | (ch >> 6) as u8, 0x80 | (ch & 0x3F) as u8]);
    } else if ch < 0x10000 {
        out.extend_from_slice(&[
            0xE0 | (ch >> 12) as u8,
            0x80 | ((ch >> 6) & 0x3F) as u8,
            0x80 | (ch & 0x3F) as u8,
        ]);
    } else {
        out.extend_from_slice(&[
            0xF0 | (ch >> 18) as u8,
            0x80 | ((ch >> 12) & 0x3F) as u8,
            0x80 | ((ch >> 6) & 0x3F) as u8,
            0x80 | (ch & 0x3F) as u8,
        ]);
    }
}

/// WTF-8 to UTF-8: a lone surrogate becomes U+FFFD, as when JavaScript hashes the string
/// as UTF-8 (`crypto.createHash().update(str)`, `TextEncoder`).
fn push_utf8_lossy(out: &mut Vec<u8>, s: &[u8]) {
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        if s.get(i) == Some(&0xED) && s.get(i + 1).is_some_and(|&b| b >= 0xA0) {
            out.extend_from_slice(s.at(start..i));
            out.extend_from_slice("\u{FFFD}".as_bytes());
            i += 3;
            start = i;
        } else {
            i += 1;
        }
    }
    out.extend_from_slice(s.at(start..));
}

/// Compare two WTF-8 strings the way JavaScript's default sort does: by UTF-16 code units.
fn utf16_cmp(a: &[u8], b: &[u8]) -> core::cmp::Ordering {
    // Byte order is code point order, which is UTF-16 order unless the first difference
    // involves U+D800 and above (lead byte 0xED on: surrogates, U+E000.., supplementary).
    if let (Some(&x), Some(&y)) = (a.first(), b.first()) {
        if x != y && x < 0xED && y < 0xED {
            return x.cmp(&y);
        }
    }
    match a.iter().zip(b).find(|(x, y)| x != y) {
        None => a.len().cmp(&b.len()),
        Some((&x, &y)) if x < 0xED && y < 0xED => x.cmp(&y),
        Some(_) => utf16_units(a).cmp(utf16_units(b)),
    }
}

fn utf16_units(s: &[u8]) -> impl Iterator<Item = u16> + '_ {
    let mut i = 0;
    let mut pending: Option<u16> = None;
    core::iter::from_fn(move || {
        if let Some(u) = pending.take() {
            return Some(u);
        }
        let b = *s.get(i)?;
        // A continuation byte's six bits (the text is WTF-8 this module wrote).
        let c = |k: usize| u32::from(*s.at(i + k) & 0x3F);
        let (cp, w) = match b {
            0x00..=0x7F => (b as u32, 1),
            0xC0..=0xDF => (((b as u32 & 0x1F) << 6) | c(1), 2),
            0xE0..=0xEF => (((b as u32 & 0x0F) << 12) | (c(1) << 6) | c(2), 3),
            _ => (((b as u32 & 0x07) << 18) | (c(1) << 12) | (c(2) << 6) | c(3), 4),
        };
        i += w;
        if cp >= 0x10000 {
            let c = cp - 0x10000;
            pending = Some(0xDC00 | (c & 0x3FF) as u16);
            Some(0xD800 | (c >> 10) as u16)
        } else {
            Some(cp as u16)
        }
    })
}

/// An array index as JavaScript orders object keys: canonical decimal below 2^32 - 1.
fn array_index(key: &[u8]) -> Option<u32> {
    // Most keys start with a letter: one test rules them out.
    let first = *key.first()?;
    if !first.is_ascii_digit() || key.len() > 10 || (key.len() > 1 && first == b'0') {
        return None;
    }
    let mut v: u64 = 0;
    for &b in key {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (b - b'0') as u64;
    }
    (v < u32::MAX as u64).then_some(v as u32)
}

/// A hash of a key's text (between its quotes, as written into the output): its length and
/// its first sixteen bytes (zero-padded; and its last eight, if longer), mixed by one multiply.
fn key_hash(k: &[u8]) -> u32 {
    let mut head = [0u8; 16];
    let n = k.len().min(16);
    head[..n].copy_from_slice(&k[..n]);
    let (a, b) = words(&head);
    let tail =
        if k.len() > 16 { u64::from_le_bytes(k[k.len() - 8..].try_into().unwrap_or([0; 8])) } else { 0 };
    mix(a, b ^ tail, k.len())
}

/// The hash of a key of `n` bytes from its words ([`key_hash`]).
#[inline]
fn mix(a: u64, b: u64, n: usize) -> u32 {
    let x = (a ^ b.rotate_left(29) ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (x >> 32) as u32
}

/// Every sort here orders indices through one small merge sort (stable, O(n log n)),
/// instead of instantiating the standard library's sorts, which dominated the wasm size.
fn sort_indices(v: &mut [usize], cmp: &dyn Fn(usize, usize) -> core::cmp::Ordering) {
    let n = v.len();
    if n <= 24 {
        // Few items (the usual event): insertion sort, also stable, without allocating.
        for i in 1..n {
            let mut j = i;
            while j > 0 {
                let [a, b] = v.at_mut(j - 1..j + 1) else { out_of_range() };
                if cmp(*a, *b) != core::cmp::Ordering::Greater {
                    break;
                }
                core::mem::swap(a, b);
                j -= 1;
            }
        }
        return;
    }
    let mut from = v.to_vec();
    let mut to = vec![0; n];
    let mut width = 1;
    while width < n {
        // (A while loop: step_by's assertion and its panic location add to the module.)
        let mut start = 0;
        while start < n {
            let (mid, end) = ((start + width).min(n), (start + 2 * width).min(n));
            let (mut i, mut j) = (start, mid);
            for slot in to.at_mut(start..end) {
                let take_left =
                    j >= end || (i < mid && cmp(*from.at(i), *from.at(j)) != core::cmp::Ordering::Greater);
                *slot = if take_left {
                    i += 1;
                    *from.at(i - 1)
                } else {
                    j += 1;
                    *from.at(j - 1)
                };
            }
            start = end;
        }
        core::mem::swap(&mut from, &mut to);
        width *= 2;
    }
    v.copy_from_slice(&from);
}

#[cfg(test)]
mod tests;
