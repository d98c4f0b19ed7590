//! One class per API family (`qp.charges`, `qp.payouts`, ...). Each method hands its
//! arguments to the core under the family's and the operation's names in
//! `client::resources`, which validates them and builds the request.

use super::client::{Args, Inner};
use super::list::ListRequest;
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Charges: payments to collect.
#[wasm_bindgen]
pub struct Charges {
    pub(crate) client: Rc<Inner>,
}

#[wasm_bindgen]
impl Charges {
    #[wasm_bindgen(unchecked_return_type = "Promise<Returned<Charge>>")]
    pub fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ChargeCreateParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        self.client.call("charges", "create", Args { params, opts, ..Args::default() })
    }

    #[wasm_bindgen(unchecked_return_type = "Promise<Returned<Charge>>")]
    pub fn retrieve(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        self.client.call("charges", "retrieve", Args { id, opts, ..Args::default() })
    }

    /// The only update: `{ status: 'buyerPaid' }` of a pending charge.
    #[wasm_bindgen(unchecked_return_type = "Promise<Returned<Charge>>")]
    pub fn update(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ChargeUpdateParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        self.client.call("charges", "update", Args { id, params, opts })
    }

    #[wasm_bindgen(unchecked_return_type = "ListPromise<Charge>")]
    pub fn list(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "ChargeListParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ListOptions")] opts: JsValue,
    ) -> ListRequest {
        ListRequest::new(&self.client, "charges", params, opts)
    }
}

/// Access tokens for a browser (API key only).
#[wasm_bindgen]
pub struct AccessTokens {
    pub(crate) client: Rc<Inner>,
}

#[wasm_bindgen]
impl AccessTokens {
    #[wasm_bindgen(unchecked_return_type = "Promise<Returned<AccessToken>>")]
    pub fn create(&self, #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue) -> Promise {
        self.client.call("accessToken", "create", Args { opts, ..Args::default() })
    }
}

/// The account's fee rates and limits.
#[wasm_bindgen]
pub struct Accounts {
    pub(crate) client: Rc<Inner>,
}

#[wasm_bindgen]
impl Accounts {
    #[wasm_bindgen(unchecked_return_type = "Promise<Returned<Account>>")]
    pub fn retrieve(&self, #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue) -> Promise {
        self.client.call("accounts", "retrieve", Args { opts, ..Args::default() })
    }
}

/// The merchant's balance.
#[wasm_bindgen]
pub struct Balances {
    pub(crate) client: Rc<Inner>,
}

#[wasm_bindgen]
impl Balances {
    #[wasm_bindgen(unchecked_return_type = "Promise<Returned<Balance>>")]
    pub fn retrieve(&self, #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue) -> Promise {
        self.client.call("balances", "retrieve", Args { opts, ..Args::default() })
    }
}

/// Every change of the balance.
#[wasm_bindgen]
pub struct BalanceTransactions {
    pub(crate) client: Rc<Inner>,
}

#[wasm_bindgen]
impl BalanceTransactions {
    #[wasm_bindgen(unchecked_return_type = "Promise<Returned<BalanceTransaction>>")]
    pub fn retrieve(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        self.client.call("balanceTransactions", "retrieve", Args { id, opts, ..Args::default() })
    }

    #[wasm_bindgen(unchecked_return_type = "ListPromise<BalanceTransaction>")]
    pub fn list(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "BalanceTransactionListParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ListOptions")] opts: JsValue,
    ) -> ListRequest {
        ListRequest::new(&self.client, "balanceTransactions", params, opts)
    }
}

/// Money sent out.
#[wasm_bindgen]
pub struct Payouts {
    pub(crate) client: Rc<Inner>,
}

#[wasm_bindgen]
impl Payouts {
    #[wasm_bindgen(unchecked_return_type = "Promise<Returned<Payout>>")]
    pub fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PayoutCreateParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        self.client.call("payouts", "create", Args { params, opts, ..Args::default() })
    }

    #[wasm_bindgen(unchecked_return_type = "Promise<Returned<Payout>>")]
    pub fn retrieve(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        self.client.call("payouts", "retrieve", Args { id, opts, ..Args::default() })
    }

    #[wasm_bindgen(unchecked_return_type = "ListPromise<Payout>")]
    pub fn list(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "PayoutListParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ListOptions")] opts: JsValue,
    ) -> ListRequest {
        ListRequest::new(&self.client, "payouts", params, opts)
    }
}

/// Market prices.
#[wasm_bindgen]
pub struct Markets {
    pub(crate) client: Rc<Inner>,
}

#[wasm_bindgen]
impl Markets {
    // Typed in `types.rs` (generic over the side asked for).
    #[wasm_bindgen(skip_typescript)]
    pub fn ticker(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TickerParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        self.client.call("markets", "ticker", Args { params, opts, ..Args::default() })
    }
}

/// Webhook debugging.
#[wasm_bindgen]
pub struct Events {
    pub(crate) client: Rc<Inner>,
}

#[wasm_bindgen]
impl Events {
    /// Sends one test event to `cbUrl` (or the configured URL).
    #[wasm_bindgen(unchecked_return_type = "Promise<Returned<TestEventResult>>")]
    pub fn test(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "EventTestParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        self.client.call("events", "test", Args { params, opts, ..Args::default() })
    }
}
