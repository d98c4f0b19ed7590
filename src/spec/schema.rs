//! The parameters of an operation as data, and the one validator over them. The client runs
//! it before it sends a call, the sandbox when a request arrives: the same parameters are
//! refused by both, with the same `param` and message. Values are `serde_json::Value`s
//! (with `preserve_order`: members keep the caller's order, and the first member at fault
//! is the one named).
//!
//! The rules every operation shares:
//! - a member the operation does not declare is refused (`Unknown parameter: x`), at any
//!   depth (a payout destination's fields are those of its `type`);
//! - `null` is the same as absent;
//! - text is non-empty (not only blanks) and at most [`MAX_TEXT_CHARS`] characters;
//! - form fields and query parameters, which are all text, are first read as the type their
//!   parameter declares ([`from_text`]), so that they are checked exactly as JSON is.

use crate::spec::{is_http_url, js_number, safe_int, Bounds, MAX_LIST_LIMIT, MAX_TEXT_CHARS};
use serde_json::{Map, Value as Json};

/// A parameter refused: which one (`destination.addr`, `params` for the whole) and why, in
/// words for the person who wrote the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub param: String,
    pub message: String,
}

impl Invalid {
    pub fn new(param: &str, message: impl Into<String>) -> Invalid {
        Invalid { param: param.to_string(), message: message.into() }
    }
}

/// A parameter's type, as validated.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    /// Text: a non-empty string, not only blanks, at most [`MAX_TEXT_CHARS`] characters.
    Str,
    /// A credential or a key: a non-empty string of any length (options, not parameters).
    Token,
    /// An object id (a list's cursor): a non-empty string.
    Id,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// A finite number within these bounds.
    Amount(&'static Bounds),
    /// An absolute http(s) URL ([`is_http_url`]).
    Url,
    /// An integer in `min..=max` (i32: keeps every `Field` in the tables small).
    Int(i32, i32),
    Bool,
    /// An object whose fields depend on the value of its tag field (a payout destination
    /// by `type`). Behind a reference so that `Ty` stays two words.
    Tagged(&'static Union),
}

/// A tagged union of objects: `tag` names the member whose value picks the variant (a
/// payout destination by `type`).
#[derive(Debug)]
pub struct Union {
    pub tag: &'static str,
    pub variants: &'static [Variant],
}

/// One object of a [`Union`]: the tag's value that picks it and the fields it takes.
#[derive(Debug)]
pub struct Variant {
    pub tag: &'static str,
    pub fields: &'static [Field],
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
}

impl Field {
    pub const fn req(name: &'static str, ty: Ty) -> Field {
        Field { name, ty, required: true }
    }
    pub const fn opt(name: &'static str, ty: Ty) -> Field {
        Field { name, ty, required: false }
    }
}

/// The pagination parameters of every list, before its filters: cursors camelCase or in the
/// wire spelling, one of them at most.
pub const PAGINATION: &[Field] = &[
    Field::opt("limit", Ty::Int(1, MAX_LIST_LIMIT as i32)),
    Field::opt("startingAfter", Ty::Id),
    Field::opt("starting_after", Ty::Id),
    Field::opt("endingBefore", Ty::Id),
    Field::opt("ending_before", Ty::Id),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
    /// POST and PUT carry a body and an `Idempotency-Key`.
    pub fn has_body(self) -> bool {
        self != Method::Get
    }
}

/// What a call of an operation takes, and so which URL it hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CallShape {
    /// `op(opts)`: the resource path (+ `Op::suffix`).
    None,
    /// `op(params, opts)`.
    Params,
    /// `op(id, opts)`: `path/{id}`.
    Id,
    /// `op(id, params, opts)`: `path/{id}`.
    IdParams,
    /// `op(params, opts)` returning a list: [`PAGINATION`] comes on top of the filters.
    List,
}

impl CallShape {
    pub fn as_str(self) -> &'static str {
        match self {
            CallShape::None => "none",
            CallShape::Params => "params",
            CallShape::Id => "id",
            CallShape::IdParams => "idParams",
            CallShape::List => "list",
        }
    }
    pub fn has_id(self) -> bool {
        matches!(self, CallShape::Id | CallShape::IdParams)
    }
    pub fn has_params(self) -> bool {
        matches!(self, CallShape::Params | CallShape::IdParams | CallShape::List)
    }
}

/// A rule across parameters, run after each was checked on its own.
#[derive(Debug)]
pub struct Rule {
    /// What it says, for the API reference (`docs/api.md`); not in the wasm module, which
    /// never shows it.
    #[cfg(not(target_arch = "wasm32"))]
    pub says: &'static str,
    pub check: fn(&Map<String, Json>) -> Result<(), Invalid>,
}

impl Rule {
    pub const fn new(says: &'static str, check: fn(&Map<String, Json>) -> Result<(), Invalid>) -> Rule {
        #[cfg(target_arch = "wasm32")]
        let _ = says;
        Rule {
            #[cfg(not(target_arch = "wasm32"))]
            says,
            check,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Op {
    pub name: &'static str,
    pub method: Method,
    pub shape: CallShape,
    /// Appended to the resource path (e.g. `/show`, `/ticker`).
    pub suffix: &'static str,
    /// The parameters (for a list: its filters).
    pub params: &'static [Field],
    pub rule: Option<&'static Rule>,
    /// An access token may make this call (else the API key only).
    pub access_token: bool,
}

impl Op {
    const fn new(method: Method, shape: CallShape, suffix: &'static str, params: &'static [Field]) -> Op {
        Op { name: "", method, shape, suffix, params, rule: None, access_token: false }
    }
    pub const fn create(params: &'static [Field]) -> Op {
        Op::new(Method::Post, CallShape::Params, "", params)
    }
    pub const fn retrieve() -> Op {
        Op::new(Method::Get, CallShape::Id, "", &[])
    }
    pub const fn update(params: &'static [Field]) -> Op {
        Op::new(Method::Put, CallShape::IdParams, "", params)
    }
    /// A list; `filters` come on top of [`PAGINATION`].
    pub const fn list(filters: &'static [Field]) -> Op {
        Op::new(Method::Get, CallShape::List, "", filters)
    }
    /// A singleton read: `GET path + suffix` with no arguments (`accounts.retrieve()`).
    pub const fn show(suffix: &'static str) -> Op {
        Op::new(Method::Get, CallShape::None, suffix, &[])
    }
    /// A read with query parameters: `GET path + suffix ? params` (a ticker).
    pub const fn query(suffix: &'static str, params: &'static [Field]) -> Op {
        Op::new(Method::Get, CallShape::Params, suffix, params)
    }
    /// The operation under the table's name, called as `shape` says: the shape this kind of
    /// operation takes, or the table does not compile.
    pub const fn named(mut self, name: &'static str, shape: CallShape) -> Op {
        assert!(self.shape as u8 == shape as u8, "the arguments do not suit the operation");
        self.name = name;
        self
    }
    pub const fn with_rule(mut self, rule: &'static Rule) -> Op {
        self.rule = Some(rule);
        self
    }
    /// An access token may make this call too.
    pub const fn with_access_token(mut self) -> Op {
        self.access_token = true;
        self
    }

    /// The declarations a call's parameters are checked against, in order.
    pub fn fields(&self) -> [&'static [Field]; 2] {
        match self.shape {
            CallShape::List => [PAGINATION, self.params],
            _ => [self.params, &[]],
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Resource {
    /// The property on the client: `qp.charges`.
    pub name: &'static str,
    /// The collection path, from the API root: `/api/v1/charges`.
    pub path: &'static str,
    pub ops: &'static [Op],
}

impl Resource {
    #[cfg(test)]
    pub fn op(&self, name: &str) -> Option<&'static Op> {
        self.ops.iter().find(|o| o.name == name)
    }

    /// `op`'s parameters checked (`params`: the call's, `null` for none): each declared
    /// parameter on its own, then a list's cursors, then the operation's rule. The members
    /// to send, in the caller's order, `null`s left out.
    pub fn check_params(&self, op: &Op, params: &Json) -> Result<Map<String, Json>, Invalid> {
        if !op.shape.has_params() {
            return match params {
                Json::Null => Ok(Map::new()),
                _ => Err(Invalid::new("params", format!("{}.{} takes no parameters", self.name, op.name))),
            };
        }
        let checked = validate_all(params, &op.fields(), "")?;
        if op.shape == CallShape::List {
            one_cursor(&checked)?;
        }
        if let Some(rule) = op.rule {
            (rule.check)(&checked)?;
        }
        Ok(checked)
    }
}

/// A list's cursor: at most one spelling of each, and one direction.
fn one_cursor(p: &Map<String, Json>) -> Result<(), Invalid> {
    let mut after: Option<&str> = None;
    let mut before: Option<&str> = None;
    for k in p.keys() {
        let slot = match k.as_str() {
            "startingAfter" | "starting_after" => &mut after,
            "endingBefore" | "ending_before" => &mut before,
            _ => continue,
        };
        if let Some(first) = slot {
            return Err(Invalid::new(k, format!("{} and {} are the same parameter; pass one", first, k)));
        }
        *slot = Some(k.as_str());
    }
    match (after, before) {
        (Some(_), Some(k)) => Err(Invalid::new(k, "Pass startingAfter or endingBefore, not both")),
        _ => Ok(()),
    }
}

/// What JavaScript's `typeof` would call a JSON value, for messages.
pub fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// A number as JSON, integral values without a fraction (`10`, not `10.0`).
pub fn num(n: f64) -> Json {
    match safe_int(n) {
        Some(i) => Json::from(i),
        None => Json::from(n),
    }
}

/// An integer JavaScript represents exactly.
pub fn is_int(n: f64) -> bool {
    safe_int(n).is_some()
}

/// Validates `params` (an object, `null` = none) against `fields`: unknown members, missing
/// required fields and wrong types are refused, naming the parameter (`destination.addr`).
/// Returns the members to send, in the caller's order.
pub fn validate(params: &Json, fields: &[Field], prefix: &str) -> Result<Map<String, Json>, Invalid> {
    validate_all(params, &[fields], prefix)
}

/// [`validate`] against several lists of fields at once (a list's pagination and filters).
pub fn validate_all(params: &Json, fields: &[&[Field]], prefix: &str) -> Result<Map<String, Json>, Invalid> {
    let empty = Map::new();
    let members = match params {
        Json::Null => &empty,
        Json::Object(m) => m,
        other => {
            let name = if prefix.is_empty() { "params" } else { prefix.trim_end_matches('.') };
            return Err(Invalid::new(name, format!("{} must be an object, got {}", name, type_name(other))));
        }
    };
    let mut out = Map::new();
    for (k, v) in members {
        let path = Path(prefix, k);
        let Some(f) = fields.iter().find_map(|fs| fs.iter().find(|f| f.name == k)) else {
            let path = path.text();
            return Err(Invalid::new(&path, format!("Unknown parameter: {}", path)));
        };
        if v.is_null() {
            continue;
        }
        out.insert(k.clone(), check_value(v, f.ty, path)?);
    }
    for f in fields.iter().copied().flatten() {
        if f.required && !out.contains_key(f.name) {
            let path = Path(prefix, f.name).text();
            return Err(Invalid::new(&path, format!("Missing required parameter: {}", path)));
        }
    }
    Ok(out)
}

/// A member's name as errors give it (`destination.addr`): its object's prefix and its own
/// name, joined only for an error (a `format!` per member showed in a call's profile).
#[derive(Clone, Copy)]
struct Path<'a>(&'a str, &'a str);

impl Path<'_> {
    fn text(self) -> String {
        [self.0, self.1].concat()
    }
}

fn check_value(v: &Json, ty: Ty, path: Path) -> Result<Json, Invalid> {
    let bad = |what: &str| {
        let path = path.text();
        Err(Invalid::new(&path, format!("Invalid {}: must be {}", path, what)))
    };
    match ty {
        Ty::Str => match v {
            Json::String(s) if s.trim().is_empty() => bad("a non-empty string"),
            // No more characters than bytes: only a longer text is counted.
            Json::String(s) if s.len() > MAX_TEXT_CHARS && s.chars().count() > MAX_TEXT_CHARS => {
                bad(&format!("at most {} characters", MAX_TEXT_CHARS))
            }
            Json::String(_) => Ok(v.clone()),
            _ => bad("a non-empty string"),
        },
        Ty::Token => match v {
            Json::String(s) if !s.trim().is_empty() => Ok(v.clone()),
            _ => bad("a non-empty string"),
        },
        Ty::Id => match v {
            Json::String(s) if !s.is_empty() => Ok(v.clone()),
            _ => bad("an object id (a non-empty string)"),
        },
        Ty::Enum(allowed) => match v.as_str() {
            Some(s) if allowed.contains(&s) => Ok(v.clone()),
            _ => bad(&format!("one of {}", allowed.join(", "))),
        },
        Ty::Amount(&Bounds { min, max }) => match v.as_f64() {
            Some(n) if n >= min && n <= max => Ok(v.clone()),
            _ => bad(&format!("a number from {} to {}", js_number(min), js_number(max))),
        },
        Ty::Url => match v.as_str() {
            Some(s) if is_http_url(s) => Ok(v.clone()),
            _ => bad("an absolute http(s) URL"),
        },
        Ty::Int(min, max) => match v.as_f64() {
            Some(n) if is_int(n) && n >= min as f64 && n <= max as f64 => Ok(num(n)),
            _ => bad(&format!("an integer from {} to {}", min, max)),
        },
        Ty::Bool => match v {
            Json::Bool(_) => Ok(v.clone()),
            _ => bad("a boolean"),
        },
        Ty::Tagged(union) => check_tagged(v, union, path),
    }
}

/// A tagged object: its tag first (missing, or not a variant's), then the variant's fields.
fn check_tagged(v: &Json, union: &Union, path: Path) -> Result<Json, Invalid> {
    let path = path.text();
    let Json::Object(members) = v else {
        return Err(Invalid::new(&path, format!("Invalid {}: must be an object", path)));
    };
    let tag = members.get(union.tag).filter(|t| !t.is_null());
    let Some(variant) = tag.and_then(Json::as_str).and_then(|t| union.variants.iter().find(|d| d.tag == t))
    else {
        let tag_path = format!("{}.{}", path, union.tag);
        if tag.is_none() {
            return Err(Invalid::new(&tag_path, format!("Missing required parameter: {}", tag_path)));
        }
        let names: Vec<&str> = union.variants.iter().map(|d| d.tag).collect();
        return Err(Invalid::new(
            &tag_path,
            format!("Invalid {}: must be one of {}", tag_path, names.join(", ")),
        ));
    };
    let tag_field = [Field::req(union.tag, Ty::Str)];
    Ok(Json::Object(validate_all(v, &[&tag_field, variant.fields], &format!("{}.", path))?))
}

/// Form fields and query parameters as the JSON they stand for: each text value whose
/// parameter is a number, an integer or a boolean becomes one when it reads as one (`100`,
/// `2.5`, `true`), a tagged object's text that is a JSON object (`destination={...}`) that
/// object. Anything else stays as it came, for [`Resource::check_params`] to judge as JSON.
pub fn from_text(params: Json, op: &Op) -> Json {
    let Json::Object(members) = params else { return params };
    let fields = op.fields();
    let typed = members
        .into_iter()
        .map(|(k, v)| {
            let ty = fields.iter().flat_map(|f| f.iter()).find(|f| f.name == k).map(|f| f.ty);
            let v = match (ty, v) {
                (Some(Ty::Amount(_) | Ty::Int(..)), Json::String(s)) => {
                    serde_json::from_str::<serde_json::Number>(&s).map_or(Json::String(s), Json::Number)
                }
                (Some(Ty::Bool), Json::String(s)) if s == "true" || s == "false" => Json::Bool(s == "true"),
                (Some(Ty::Tagged(_)), Json::String(s)) => match serde_json::from_str::<Json>(&s) {
                    Ok(object @ Json::Object(_)) => object,
                    _ => Json::String(s),
                },
                (_, v) => v,
            };
            (k, v)
        })
        .collect();
    Json::Object(typed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::PAYOUT_AMOUNT;

    const DEST: &[Variant] = &[
        Variant { tag: "wallet", fields: &[Field::req("payerName", Ty::Str), Field::req("addr", Ty::Str)] },
        Variant {
            tag: "bankAccount",
            fields: &[
                Field::req("payerName", Ty::Str),
                Field::req("bankAccountNum", Ty::Str),
                Field::req("bankName", Ty::Str),
                Field::opt("swift", Ty::Str),
            ],
        },
    ];
    const PAYOUT: &[Field] = &[
        Field::req("amount", Ty::Amount(&PAYOUT_AMOUNT)),
        Field::req("destination", Ty::Tagged(&Union { tag: "type", variants: DEST })),
        Field::opt("n", Ty::Int(1, 100)),
        Field::opt("note", Ty::Str),
        Field::opt("flag", Ty::Bool),
    ];
    const OP: Op = Op::create(PAYOUT).named("create", CallShape::Params);
    const LIST: Op = Op::list(&[Field::opt("note", Ty::Str)]).named("list", CallShape::List);
    const RES: Resource = Resource { name: "things", path: "/api/v1/things", ops: &[OP, LIST] };

    fn parse(s: &str) -> Json {
        serde_json::from_str(s).unwrap()
    }
    fn err(src: &str) -> (String, String) {
        let e = validate(&parse(src), PAYOUT, "").unwrap_err();
        (e.param, e.message)
    }

    #[test]
    fn nested_and_tagged_objects_name_the_parameter() {
        let wallet = r#""destination":{"type":"wallet","payerName":"x","addr":"a"}"#;
        assert_eq!(
            err(r#"{"amount":1,"destination":{"type":"wallet","payerName":"x"}}"#),
            ("destination.addr".into(), "Missing required parameter: destination.addr".into())
        );
        assert_eq!(err(r#"{"amount":1,"destination":{"payerName":"x"}}"#).0, "destination.type");
        assert_eq!(err(r#"{"amount":1,"destination":{"type":null}}"#).0, "destination.type");
        assert_eq!(
            err(r#"{"amount":1,"destination":{"type":"moon"}}"#).1,
            "Invalid destination.type: must be one of wallet, bankAccount"
        );
        assert_eq!(
            err(r#"{"amount":1,"destination":{"type":"wallet","payerName":"x","addr":"a","swift":"s"}}"#),
            ("destination.swift".into(), "Unknown parameter: destination.swift".into())
        );
        assert_eq!(err(r#"{"amount":1,"destination":"wallet"}"#).0, "destination");
        assert_eq!(
            err(r#"{"amount":0.5,"destination":{}}"#),
            ("amount".into(), "Invalid amount: must be a number from 1 to 1000000000".into())
        );
        assert_eq!(err(&format!(r#"{{"amount":1,{wallet},"n":1.5}}"#)).0, "n");
        assert_eq!(err(&format!(r#"{{"amount":1,{wallet},"note":"  "}}"#)).0, "note");
        let long = "é".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            err(&format!(r#"{{"amount":1,{wallet},"note":"{long}"}}"#)).1,
            "Invalid note: must be at most 500 characters"
        );
        assert!(validate(&parse(&format!(r#"{{"amount":1,{wallet},"note":"{}"}}"#, &long[2..])), PAYOUT, "")
            .is_ok());
        assert_eq!(err(r#"[1]"#), ("params".into(), "params must be an object, got array".into()));
        let ok = validate(
            &parse(r#"{"amount":2.5,"n":null,"destination":{"type":"wallet","payerName":"x","addr":"a","addr":"b"}}"#),
            PAYOUT,
            "",
        )
        .unwrap();
        assert_eq!(
            Json::Object(ok).to_string(),
            r#"{"amount":2.5,"destination":{"type":"wallet","payerName":"x","addr":"b"}}"#
        );
    }

    #[test]
    fn lists_take_pagination_and_one_cursor() {
        let check = |s: &str| RES.check_params(&LIST, &parse(s));
        assert_eq!(
            Json::Object(check(r#"{"note":"n","limit":5,"ending_before":"x"}"#).unwrap()).to_string(),
            r#"{"note":"n","limit":5,"ending_before":"x"}"#
        );
        for (src, param, message) in [
            (r#"{"limit":0}"#, "limit", "Invalid limit: must be an integer from 1 to 100"),
            (
                r#"{"startingAfter":""}"#,
                "startingAfter",
                "Invalid startingAfter: must be an object id (a non-empty string)",
            ),
            (
                r#"{"startingAfter":"a","starting_after":"b"}"#,
                "starting_after",
                "startingAfter and starting_after are the same parameter; pass one",
            ),
            (
                r#"{"ending_before":"a","startingAfter":"b"}"#,
                "ending_before",
                "Pass startingAfter or endingBefore, not both",
            ),
        ] {
            assert_eq!(check(src).unwrap_err(), Invalid::new(param, message), "{src}");
        }
        assert_eq!(
            RES.check_params(&Op::retrieve().named("retrieve", CallShape::Id), &parse("{}"))
                .unwrap_err()
                .message,
            "things.retrieve takes no parameters"
        );
    }

    #[test]
    fn text_is_read_as_the_declared_type() {
        let form = |s: &str| from_text(parse(s), &OP);
        assert_eq!(
            form(
                r#"{"amount":"100","n":"3","flag":"true","note":"7","destination":"{\"type\":\"wallet\"}"}"#
            ),
            parse(r#"{"amount":100,"n":3,"flag":true,"note":"7","destination":{"type":"wallet"}}"#)
        );
        // What does not read as the type stays text, and is refused as JSON text would be.
        assert_eq!(
            form(r#"{"amount":"ten","n":" ","flag":"yes","destination":"{not json","x":"1"}"#),
            parse(r#"{"amount":"ten","n":" ","flag":"yes","destination":"{not json","x":"1"}"#)
        );
        assert_eq!(from_text(parse(r#"{"limit":"20"}"#), &LIST), parse(r#"{"limit":20}"#));
        assert_eq!(RES.check_params(&OP, &form(r#"{"amount":"1e400"}"#)).unwrap_err().param, "amount");
    }
}
