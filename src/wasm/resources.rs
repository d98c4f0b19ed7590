//! One class per API family (`qp.charges`, ...) and the object holding a client's,
//! made from the core's table (`spec::resources::families!`): each method hands its
//! arguments to the core with the family's and the operation's declarations.

use super::fetch::{Inner, JsCall};
use super::list::ListRequest;
use crate::families;
use crate::spec::resources;
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// One method of a family's class, by the shape of its arguments (an `impl` block each:
/// wasm-bindgen reads no macro inside one).
macro_rules! method {
    ($(#[doc = $doc:tt])* $class:ident $family:ident list (params?: $params:tt) -> $ret:tt) => {
        #[wasm_bindgen]
        impl $class {
            $(#[doc = $doc])*
            #[wasm_bindgen(unchecked_return_type = $ret)]
            pub fn list(
                &self,
                #[wasm_bindgen(unchecked_optional_param_type = $params)] params: JsValue,
                #[wasm_bindgen(unchecked_optional_param_type = ListOptions)] opts: JsValue,
            ) -> ListRequest {
                ListRequest::new(&self.client, &resources::$family::RESOURCE, &resources::$family::list, params, opts)
            }
        }
    };
    ($(#[doc = $doc:tt])* $class:ident $family:ident $op:ident (params: $params:tt) -> generic) => {
        #[wasm_bindgen]
        impl $class {
            // Declared by hand in `types.d.ts`.
            #[wasm_bindgen(skip_typescript)]
            pub fn $op(&self, params: JsValue, opts: JsValue) -> Promise {
                self.client.call(&resources::$family::RESOURCE, &resources::$family::$op, JsCall { params, opts, ..JsCall::default() })
            }
        }
    };
    ($(#[doc = $doc:tt])* $class:ident $family:ident $op:ident () -> $ret:tt) => {
        method!(@fn [$(#[doc = $doc])*] $class $family $op () -> $ret);
    };
    ($(#[doc = $doc:tt])* $class:ident $family:ident $op:ident (id) -> $ret:tt) => {
        method!(@fn [$(#[doc = $doc])*] $class $family $op (id: unchecked_param_type = string) -> $ret);
    };
    ($(#[doc = $doc:tt])* $class:ident $family:ident $op:ident (params: $params:tt) -> $ret:tt) => {
        method!(@fn [$(#[doc = $doc])*] $class $family $op (params: unchecked_param_type = $params) -> $ret);
    };
    ($(#[doc = $doc:tt])* $class:ident $family:ident $op:ident (params?: $params:tt) -> $ret:tt) => {
        method!(@fn [$(#[doc = $doc])*] $class $family $op (params: unchecked_optional_param_type = $params) -> $ret);
    };
    ($(#[doc = $doc:tt])* $class:ident $family:ident $op:ident (id, params: $params:tt) -> $ret:tt) => {
        method!(@fn [$(#[doc = $doc])*] $class $family $op
            (id: unchecked_param_type = string, params: unchecked_param_type = $params) -> $ret);
    };
    // `op(args..., opts?)` returning a Promise of the answer.
    (@fn [$($doc:tt)*] $class:ident $family:ident $op:ident ($($arg:ident: $attr:ident = $ty:tt),*) -> $ret:tt) => {
        #[wasm_bindgen]
        impl $class {
            $($doc)*
            #[wasm_bindgen(unchecked_return_type = $ret)]
            #[allow(clippy::needless_update)]
            pub fn $op(
                &self,
                $( #[wasm_bindgen($attr = $ty)] $arg: JsValue, )*
                #[wasm_bindgen(unchecked_optional_param_type = RequestOptions)] opts: JsValue,
            ) -> Promise {
                self.client.call(&resources::$family::RESOURCE, &resources::$family::$op, JsCall { $($arg,)* opts, ..JsCall::default() })
            }
        }
    };
}

/// The binding's half of the table: the classes, the client's accessors and what holds them.
macro_rules! classes {
    ($(
        $(#[doc = $doc:tt])*
        $class:ident $family:ident {
            $( $(#[doc = $op_doc:tt])* $op:ident ($($args:tt)*) -> $ret:tt = $declared:expr; )*
        }
    )*) => {
        $(
            $(#[doc = $doc])*
            #[wasm_bindgen]
            pub struct $class {
                client: Rc<Inner>,
            }

            $( method!($(#[doc = $op_doc])* $class $family $op ($($args)*) -> $ret); )*
        )*

        /// A client's family objects, made once: `qp.charges === qp.charges`.
        #[allow(non_snake_case)]
        pub(crate) struct Families {
            $( pub $family: JsValue, )*
        }

        impl Families {
            pub fn new(client: &Rc<Inner>) -> Families {
                Families { $( $family: $class { client: client.clone() }.into(), )* }
            }
        }
    };
}

families!(classes);
