//! `QbitPay`, the client class: its options, its hooks and its family objects
//! (`qp.charges`, ...); every call goes through the request loop of `fetch.rs`.

use super::fetch::{Hook, Inner};
use super::js;
use super::resources::Families;
use crate::client::{ClientError, Config};
use crate::families;
use js_sys::{Function, Object};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The QbitPay API client: `new QbitPay({ apiKey })` on a server, `new QbitPay({ accessToken })`
/// in a browser.
#[wasm_bindgen]
pub struct QbitPay {
    inner: Rc<Inner>,
    families: Families,
}

#[wasm_bindgen]
impl QbitPay {
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "QbitPayOptions")] options: JsValue,
    ) -> Result<QbitPay, JsValue> {
        let fail = |e: ClientError| js::error(&e, None, None);
        let fetch = if options.is_object() { js::get(&options, "fetch") } else { JsValue::UNDEFINED };
        // The options as JSON for the core, `fetch` as its `typeof` (a function is "function").
        let opts = if options.is_object() {
            let copy = Object::assign(&Object::new(), options.unchecked_ref());
            if !fetch.is_undefined() {
                js::set(&copy, "fetch", &fetch.js_typeof());
            }
            js::options_to_json(&copy, "options").map_err(fail)?
        } else {
            js::options_to_json(&options, "options").map_err(fail)?
        };
        let config = Config::new(&opts, &js::env()).map_err(fail)?;
        let inner = Rc::new(Inner::new(config, fetch.dyn_into().ok()));
        Ok(QbitPay { families: Families::new(&inner), inner })
    }

    /// Calls `hook` before each attempt (`'request'`) or after each answer (`'response'`).
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "HookName")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "(event: RequestEvent & Partial<ResponseEvent>) => void")] hook: Function,
    ) -> Result<(), JsValue> {
        self.inner.add_hook(hook_name(&name)?, hook);
        Ok(())
    }

    /// Removes a hook added with `on`.
    pub fn off(
        &self,
        #[wasm_bindgen(unchecked_param_type = "HookName")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "(event: RequestEvent & Partial<ResponseEvent>) => void")] hook: Function,
    ) -> Result<(), JsValue> {
        self.inner.remove_hook(hook_name(&name)?, &hook);
        Ok(())
    }
}

fn hook_name(name: &JsValue) -> Result<Hook, JsValue> {
    match name.as_string().as_deref() {
        Some("request") => Ok(Hook::Request),
        Some("response") => Ok(Hook::Response),
        _ => Err(js::error(
            &ClientError::invalid("name", "Unknown hook: must be 'request' or 'response'"),
            None,
            None,
        )),
    }
}

/// The client's accessor of each family (`qp.charges`), from the core's table.
macro_rules! accessors {
    ($(
        $(#[doc = $doc:tt])*
        $class:ident $family:ident {
            $( $(#[doc = $op_doc:tt])* $op:ident ($($args:tt)*) -> $ret:tt = $declared:expr; )*
        }
    )*) => {
        #[wasm_bindgen]
        #[allow(non_snake_case)]
        impl QbitPay {
            $(
                #[wasm_bindgen(getter, js_name = $family, unchecked_return_type = $class)]
                pub fn $family(&self) -> JsValue {
                    self.families.$family.clone()
                }
            )*
        }
    };
}

families!(accessors);
