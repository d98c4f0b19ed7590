//! The declarative half of the client: a resource is a path plus a list of operations, an
//! operation is a method, a target and the parameters it takes. Validation, URL, query and
//! body building are generic over these declarations (see `request`), so a new API family
//! is one entry of the table in `resources.rs`.

use super::error::ClientError;
use super::{is_int, type_name, Json, Map};
use crate::spec::{is_http_url, Destination};

/// A parameter's type, as validated before anything is sent.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    /// A non-empty string.
    Str,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// A finite number > 0.
    Amount,
    /// An absolute http(s) URL.
    Url,
    /// An integer in `min..=max` (i32: keeps every `Field` in the tables small).
    Int(i32, i32),
    Bool,
    /// An object with these fields.
    Object(&'static [Field]),
    /// An object whose fields depend on the value of its tag field (a payout destination
    /// by `type`). Behind a reference so that `Ty` stays two words.
    Tagged(&'static Union),
}

/// A tagged union of objects of string fields: `tag` names the member whose value picks the
/// variant (a payout destination by `type`).
#[derive(Debug)]
pub struct Union {
    pub tag: &'static str,
    pub variants: &'static [Destination],
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

/// What a JS call looks like, and so which URL it hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Args {
    /// `op(opts)`: the resource path (+ `Op::suffix`).
    None,
    /// `op(params, opts)`.
    Params,
    /// `op(id, opts)`: `path/{id}`.
    Id,
    /// `op(id, params, opts)`: `path/{id}`.
    IdParams,
    /// `op(params, opts)` returning a list: pagination parameters are added to `params`.
    List,
}

impl Args {
    pub fn as_str(self) -> &'static str {
        match self {
            Args::None => "none",
            Args::Params => "params",
            Args::Id => "id",
            Args::IdParams => "idParams",
            Args::List => "list",
        }
    }
    pub fn has_id(self) -> bool {
        matches!(self, Args::Id | Args::IdParams)
    }
}

/// A cross-field rule run after the per-field checks.
pub type Check = fn(&Json) -> Result<(), ClientError>;

#[derive(Clone, Copy, Debug)]
pub struct Op {
    pub name: &'static str,
    pub method: Method,
    pub args: Args,
    /// Appended to the resource path (e.g. `/show`, `/ticker`).
    pub suffix: &'static str,
    pub params: &'static [Field],
    pub check: Option<Check>,
}

impl Op {
    pub const fn create(params: &'static [Field]) -> Op {
        Op { name: "", method: Method::Post, args: Args::Params, suffix: "", params, check: None }
    }
    pub const fn retrieve() -> Op {
        Op { name: "", method: Method::Get, args: Args::Id, suffix: "", params: &[], check: None }
    }
    pub const fn update(params: &'static [Field]) -> Op {
        Op { name: "", method: Method::Put, args: Args::IdParams, suffix: "", params, check: None }
    }
    /// A list; `filters` come on top of `limit`, `startingAfter`, `endingBefore`.
    pub const fn list(filters: &'static [Field]) -> Op {
        Op { name: "", method: Method::Get, args: Args::List, suffix: "", params: filters, check: None }
    }
    /// A singleton read: `GET path + suffix` with no arguments (`accounts.retrieve()`).
    pub const fn show(suffix: &'static str) -> Op {
        Op { name: "", method: Method::Get, args: Args::None, suffix, params: &[], check: None }
    }
    /// A read with query parameters: `GET path + suffix ? params` (a ticker).
    pub const fn query(suffix: &'static str, params: &'static [Field]) -> Op {
        Op { name: "", method: Method::Get, args: Args::Params, suffix, params, check: None }
    }
    /// The operation under the table's name, called as `args` says: the shape this kind of
    /// operation takes, or the table does not compile.
    pub const fn named(mut self, name: &'static str, args: Args) -> Op {
        assert!(self.args as u8 == args as u8, "the arguments do not suit the operation");
        self.name = name;
        self
    }
    pub const fn with_check(mut self, check: Check) -> Op {
        self.check = Some(check);
        self
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
}

/// Validates `params` (an object, `null` = none) against `fields`: unknown keys, missing
/// required fields and wrong types are errors naming the parameter (`destination.addr`).
/// `null` counts as absent. Returns the members to send, in the caller's order.
pub fn validate(params: &Json, fields: &[Field], prefix: &str) -> Result<Map<String, Json>, ClientError> {
    let empty = Map::new();
    let members = match params {
        Json::Null => &empty,
        Json::Object(m) => m,
        other => {
            let name = if prefix.is_empty() { "params" } else { prefix.trim_end_matches('.') };
            return Err(ClientError::invalid(
                name,
                format!("{} must be an object, got {}", name, type_name(other)),
            ));
        }
    };
    let mut out = Map::new();
    for (k, v) in members {
        let path = format!("{}{}", prefix, k);
        let Some(f) = fields.iter().find(|f| f.name == k) else {
            return Err(ClientError::invalid(&path, format!("Unknown parameter: {}", path)));
        };
        if v.is_null() {
            continue;
        }
        out.insert(k.clone(), check_value(v, f.ty, &path)?);
    }
    for f in fields.iter().filter(|f| f.required) {
        if !out.contains_key(f.name) {
            let path = format!("{}{}", prefix, f.name);
            return Err(ClientError::invalid(&path, format!("Missing required parameter: {}", path)));
        }
    }
    Ok(out)
}

fn check_value(v: &Json, ty: Ty, path: &str) -> Result<Json, ClientError> {
    let bad = |what: &str| Err(ClientError::invalid(path, format!("Invalid {}: must be {}", path, what)));
    match ty {
        Ty::Str => match v {
            Json::String(s) if !s.trim().is_empty() => Ok(v.clone()),
            _ => bad("a non-empty string"),
        },
        Ty::Enum(allowed) => match v.as_str() {
            Some(s) if allowed.contains(&s) => Ok(v.clone()),
            _ => bad(&format!("one of {}", allowed.join(", "))),
        },
        Ty::Amount => match v.as_f64() {
            Some(n) if n.is_finite() && n > 0.0 => Ok(v.clone()),
            _ => bad("a finite number greater than 0"),
        },
        Ty::Url => match v.as_str() {
            Some(s) if is_http_url(s) => Ok(v.clone()),
            _ => bad("an absolute http(s) URL"),
        },
        Ty::Int(min, max) => match v.as_f64() {
            Some(n) if is_int(n) && n >= min as f64 && n <= max as f64 => Ok(super::num(n)),
            _ => bad(&format!("an integer from {} to {}", min, max)),
        },
        Ty::Bool => match v {
            Json::Bool(_) => Ok(v.clone()),
            _ => bad("a boolean"),
        },
        Ty::Object(fields) => Ok(Json::Object(validate(v, fields, &format!("{}.", path))?)),
        Ty::Tagged(&Union { tag, variants }) => {
            let t = match v {
                Json::Object(_) => v.get(tag),
                _ => return bad("an object"),
            };
            let tag_path = format!("{}.{}", path, tag);
            match t.and_then(Json::as_str).and_then(|t| variants.iter().find(|d| d.ty == t)) {
                Some(d) => {
                    let fields: Vec<Field> = std::iter::once(Field::req(tag, Ty::Str))
                        .chain(d.required.iter().map(|f| Field::req(f, Ty::Str)))
                        .chain(d.optional.iter().map(|f| Field::opt(f, Ty::Str)))
                        .collect();
                    Ok(Json::Object(validate(v, &fields, &format!("{}.", path))?))
                }
                None if t.is_none() => {
                    Err(ClientError::invalid(&tag_path, format!("Missing required parameter: {}", tag_path)))
                }
                None => {
                    let names: Vec<&str> = variants.iter().map(|d| d.ty).collect();
                    Err(ClientError::invalid(
                        &tag_path,
                        format!("Invalid {}: must be one of {}", tag_path, &names.join(", ")),
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::parse;

    const DEST: &[Destination] = &[
        Destination { ty: "wallet", required: &["payerName", "addr"], optional: &[] },
        Destination {
            ty: "bankAccount",
            required: &["payerName", "bankAccountNum", "bankName"],
            optional: &[],
        },
    ];
    const PAYOUT: &[Field] = &[
        Field::req("amount", Ty::Amount),
        Field::req("destination", Ty::Tagged(&Union { tag: "type", variants: DEST })),
        Field::opt("n", Ty::Int(1, 100)),
    ];

    fn err(src: &str) -> (String, String) {
        let e = validate(&parse(src).unwrap(), PAYOUT, "").unwrap_err();
        (e.param.unwrap(), e.message)
    }

    #[test]
    fn nested_and_tagged_objects_name_the_parameter() {
        assert_eq!(
            err(r#"{"amount":1,"destination":{"type":"wallet","payerName":"x"}}"#).0,
            "destination.addr"
        );
        assert_eq!(err(r#"{"amount":1,"destination":{"payerName":"x"}}"#).0, "destination.type");
        assert_eq!(err(r#"{"amount":1,"destination":{"type":"moon"}}"#).0, "destination.type");
        assert_eq!(
            err(r#"{"amount":1,"destination":{"type":"wallet","payerName":"x","addr":"a","zz":1}}"#).0,
            "destination.zz"
        );
        assert_eq!(err(r#"{"amount":1,"destination":"wallet"}"#).0, "destination");
        assert_eq!(err(r#"{"amount":0,"destination":{}}"#).0, "amount");
        assert_eq!(
            err(r#"{"amount":1,"destination":{"type":"wallet","payerName":"x","addr":"a"},"n":1.5}"#).0,
            "n"
        );
        assert_eq!(err(r#"[1]"#).0, "params");
        let ok = validate(
            &parse(r#"{"amount":2.5,"n":null,"destination":{"type":"wallet","payerName":"x","addr":"a"}}"#)
                .unwrap(),
            PAYOUT,
            "",
        )
        .unwrap();
        assert_eq!(
            Json::Object(ok).to_string(),
            r#"{"amount":2.5,"destination":{"type":"wallet","payerName":"x","addr":"a"}}"#
        );
    }
}
