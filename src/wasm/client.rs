//! The client binding (issue 4): `QbitPay` over the global `fetch`.
