//! Integration tests: the real `qbitpay-sandbox` binary over HTTP.

mod common;

mod api;
mod auth;
mod faults;
mod pagination;
mod payouts;
mod security;
mod state;
mod trigger;
mod webhooks;
