use serde_json::{json, Value};

use crate::common::*;

const K: &str = "sk_test_payouts";

fn wallet(amount: f64) -> Value {
    json!({"amount": amount, "currency": "USDT", "description": "rent", "externalOrderId": "po-ext",
           "destination": {"type": "wallet", "payerName": "Ann", "addr": "TWalletAddr1"}})
}

#[tokio::test]
async fn payouts_debit_the_balance_and_move_to_paid() {
    let sb = Sandbox::start(&[
        "--api-key",
        K,
        "--auto-confirm-after",
        "0.1",
        "--payout-transit-after",
        "1.0",
        "--payout-paid-after",
        "0.4",
    ]);
    let short = sb.post(Auth::Key(K), "/api/v1/payouts", &wallet(10.0)).await;
    assert_eq!(short.status, 402, "{}", short.text);
    assert_eq!(short.body["type"], "invalid_request_error");
    assert_eq!(short.body["detail"]["code"], "balance_insufficient");

    // A charge succeeds: buyerPaid → sellerConfirmed (paid) → closed, balance credited.
    let c = sb.create_charge(K, "fund-1", "http://127.0.0.1:9/cb").await;
    let cid = c["id"].as_str().unwrap();
    sb.put(Auth::Key(K), &format!("/api/v1/charges/{cid}"), &json!({"status": "buyerPaid"})).await;
    let closed = sb.wait_for(K, &format!("/api/v1/charges/{cid}"), |c| c["status"] == "closed").await;
    assert_eq!(closed["paid"], true);
    let bal = sb.get(Auth::Key(K), "/api/v1/balances/show").await;
    assert_eq!(bal.body["available"], 99);
    let t = sb.get(Auth::Key(K), &format!("/api/v1/balanceTransactions?type=charge&source={cid}")).await;
    let txn = &t.body["data"][0];
    assert_eq!(
        (txn["amount"].clone(), txn["fee"].clone(), txn["net"].clone()),
        (json!(100), json!(1), json!(99))
    );
    assert_eq!(
        (txn["object"].as_str(), txn["status"].as_str(), txn["source"].as_str()),
        (Some("balanceTransaction"), Some("available"), Some(cid))
    );
    assert!(txn["id"].as_str().unwrap().starts_with("txn_"));
    assert!(is_timestamp(&txn["createdAt"]) && is_timestamp(&txn["availableOn"]));
    let one =
        sb.get(Auth::Key(K), &format!("/api/v1/balanceTransactions/{}", txn["id"].as_str().unwrap())).await;
    assert_eq!(&one.body, txn);

    let p = sb.post(Auth::Key(K), "/api/v1/payouts", &wallet(50.0)).await;
    assert_eq!(p.status, 200, "{}", p.text);
    let pid = p.body["id"].as_str().unwrap().to_owned();
    assert!(pid.starts_with("po_"));
    assert_eq!(p.body["object"], "payout");
    assert_eq!(p.body["status"], "pending");
    assert_eq!(p.body["type"], "wallet");
    assert_eq!(p.body["fee"], 0.25);
    assert_eq!(p.body["description"], "rent");
    assert_eq!(p.body["externalOrderId"], "po-ext");
    assert_eq!(p.body["destination"]["object"], "paymentMethod");
    assert_eq!(p.body["destination"]["addr"], "TWalletAddr1");
    assert!(is_timestamp(&p.body["arrivalDate"]));
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/balances/show").await.body["available"], 48.75);
    let too_much = sb.post(Auth::Key(K), "/api/v1/payouts", &wallet(60.0)).await;
    assert_eq!(too_much.status, 402);
    assert_eq!(too_much.body["detail"]["available"], 48.75);

    let pending_txn =
        sb.get(Auth::Key(K), &format!("/api/v1/balanceTransactions?type=payout&source={pid}")).await;
    assert_eq!(pending_txn.body["data"][0]["status"], "pending");
    assert_eq!(pending_txn.body["data"][0]["net"], -50.25);
    assert_eq!(
        sb.get(Auth::Key(K), "/api/v1/balanceTransactions?status=pending").await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let paid = sb.wait_for(K, &format!("/api/v1/payouts/{pid}"), |p| p["status"] == "paid").await;
    assert_eq!(paid["id"], pid.as_str());
    let t2 = sb.get(Auth::Key(K), &format!("/api/v1/balanceTransactions?type=payout&source={pid}")).await;
    assert_eq!(t2.body["data"][0]["status"], "available");
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/balances/show").await.body["available"], 48.75);

    let evs = sb.get(Auth::Key(K), "/api/v1/events").await;
    let types: Vec<&str> =
        evs.body["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["payout.paid", "payout.inTransition", "payout.pending", "charge.succeeded"]);

    // Filters.
    let by_status = |s: &str| format!("/api/v1/payouts?status={s}");
    assert_eq!(sb.get(Auth::Key(K), &by_status("paid")).await.body["data"][0]["id"], pid.as_str());
    assert_eq!(sb.get(Auth::Key(K), &by_status("pending")).await.body["data"], json!([]));
    assert_eq!(
        sb.get(Auth::Key(K), "/api/v1/payouts?destination=TWalletAddr1").await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        sb.get(Auth::Key(K), "/api/v1/payouts?destination=wallet").await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/payouts?destination=other").await.body["data"], json!([]));
    sb.get(Auth::Key(K), &by_status("lost")).await.assert_invalid("status");
    sb.get(Auth::Key(K), "/api/v1/balanceTransactions?type=refund").await.assert_invalid("type");
    sb.get(Auth::Key(K), "/api/v1/balanceTransactions?status=done").await.assert_invalid("status");
    let list = sb.get(Auth::Key(K), "/api/v1/payouts").await;
    assert_eq!(list.body["url"], "/api/v1/payouts");
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/payouts/po_missing").await.status, 404);
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/balanceTransactions/txn_missing").await.status, 404);

    // Cancel (sandbox helper) refunds with a payout_cancel transaction.
    let p2 = sb.post(Auth::Key(K), "/api/v1/payouts", &wallet(10.0)).await;
    let p2id = p2.body["id"].as_str().unwrap();
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/balances/show").await.body["available"], 38.7);
    let cancel = sb.post(Auth::Key(K), &format!("/sandbox/payouts/{p2id}/cancel"), &json!({})).await;
    assert_eq!(cancel.body["status"], "cancelled", "{}", cancel.text);
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/balances/show").await.body["available"], 48.75);
    let refund =
        sb.get(Auth::Key(K), &format!("/api/v1/balanceTransactions?type=payout_cancel&source={p2id}")).await;
    assert_eq!(refund.body["data"][0]["net"], 10.05);
}

#[tokio::test]
async fn payout_destination_validation_per_type() {
    let sb = Sandbox::start(&["--api-key", K]);
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"currency": "USDT", "destination": {"type": "wallet", "payerName": "a", "addr": "x"}}),
            "amount",
        ),
        (
            json!({"amount": 0, "currency": "USDT", "destination": {"type": "wallet", "payerName": "a", "addr": "x"}}),
            "amount",
        ),
        (json!({"amount": 5, "destination": {"type": "wallet", "payerName": "a", "addr": "x"}}), "currency"),
        (
            json!({"amount": 5, "currency": "BTC", "destination": {"type": "wallet", "payerName": "a", "addr": "x"}}),
            "currency",
        ),
        (json!({"amount": 5, "currency": "USDT"}), "destination"),
        (json!({"amount": 5, "currency": "USDT", "destination": "wallet"}), "destination"),
        (json!({"amount": 5, "currency": "USDT", "destination": {}}), "destination.type"),
        (json!({"amount": 5, "currency": "USDT", "destination": {"type": "cheque"}}), "destination.type"),
        (
            json!({"amount": 5, "currency": "USDT", "destination": {"type": "wallet", "payerName": "a"}}),
            "destination.addr",
        ),
        (
            json!({"amount": 5, "currency": "USDT", "destination": {"type": "wallet", "addr": "x"}}),
            "destination.payerName",
        ),
        (
            json!({"amount": 5, "currency": "USDT", "destination": {"type": "bankAccount", "payerName": "a", "bankAccountNum": "1"}}),
            "destination.bankName",
        ),
        (
            json!({"amount": 5, "currency": "USDT", "destination": {"type": "bankAccount", "payerName": "a", "bankName": "B"}}),
            "destination.bankAccountNum",
        ),
        (
            json!({"amount": 5, "currency": "USDT", "destination": {"type": "Alipay", "payerName": "a"}}),
            "destination.bankAccountNum",
        ),
        (
            json!({"amount": 5, "currency": "USDT", "destination": {"type": "GCash", "bankAccountNum": "1"}}),
            "destination.payerName",
        ),
        (
            json!({"amount": 5, "currency": "USDT", "cbUrl": "nope", "destination": {"type": "GCash", "payerName": "a", "bankAccountNum": "1"}}),
            "cbUrl",
        ),
    ];
    for (body, param) in cases {
        sb.post(Auth::Key(K), "/api/v1/payouts", &body).await.assert_invalid(param);
    }
    // Complete destinations of every type pass validation (and then fail on the empty balance).
    for d in [
        json!({"type": "bankAccount", "payerName": "a", "bankAccountNum": "1", "bankName": "B"}),
        json!({"type": "wallet", "payerName": "a", "addr": "x"}),
        json!({"type": "Alipay", "payerName": "a", "bankAccountNum": "1"}),
        json!({"type": "PayPal", "payerName": "a", "bankAccountNum": "1"}),
        json!({"type": "Coins.ph", "payerName": "a", "bankAccountNum": "1"}),
        json!({"type": "GCash", "payerName": "a", "bankAccountNum": "1"}),
    ] {
        let r = sb
            .post(
                Auth::Key(K),
                "/api/v1/payouts",
                &json!({"amount": 5, "currency": "USDT", "destination": d}),
            )
            .await;
        assert_eq!(r.status, 402, "{}", r.text);
    }
    assert_eq!(sb.get(Auth::Key(K), "/api/v1/payouts").await.body["data"], json!([]));
}
