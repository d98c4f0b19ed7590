//! The hosted payment page (`paymentPageUrl`): shows the charge and, with a valid access
//! token of the charge's account, an "I have paid" button that PUTs buyerPaid.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::auth::verify_token;

pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
*{box-sizing:border-box}body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
background:linear-gradient(160deg,#eef2ff,#f8fafc);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#0f172a}
.card{width:min(440px,92vw);background:#fff;border-radius:16px;box-shadow:0 10px 40px rgba(15,23,42,.12);padding:28px 28px 22px}
.brand{display:flex;align-items:center;gap:8px;font-weight:700;color:#4338ca;margin-bottom:14px}
.brand span{font-size:11px;font-weight:600;color:#b45309;background:#fef3c7;border-radius:999px;padding:2px 8px}
.amount{font-size:34px;font-weight:700;letter-spacing:-.02em}.amount small{font-size:16px;color:#64748b;font-weight:600}
.sub{color:#64748b;margin-bottom:16px}
dl{display:grid;grid-template-columns:auto 1fr;gap:6px 16px;margin:0 0 18px;font-size:14px}dt{color:#64748b}dd{margin:0;text-align:right;word-break:break-all}
.status{display:inline-block;border-radius:999px;padding:1px 10px;font-weight:600;font-size:13px;background:#e2e8f0}
.status.pending{background:#fef9c3;color:#854d0e}.status.buyerPaid,.status.sellerConfirmed{background:#dbeafe;color:#1e40af}
.status.closed{background:#dcfce7;color:#166534}.status.cancelled,.status.dispute{background:#fee2e2;color:#991b1b}
button{width:100%;border:0;border-radius:10px;padding:13px;font-size:16px;font-weight:600;color:#fff;background:#4f46e5;cursor:pointer}
button:hover{background:#4338ca}button:disabled{background:#a5b4fc;cursor:default}
.msg{margin-top:12px;font-size:14px;min-height:1.5em}.msg.err{color:#b91c1c}.msg a{color:#4338ca;font-weight:600}
.refuse{border-left:4px solid #dc2626;background:#fef2f2;padding:12px 14px;border-radius:8px;color:#7f1d1d}
.outcome{margin:0 0 14px;font-size:13px;color:#475569;background:#f1f5f9;border-radius:8px;padding:8px 10px}
.outcome[data-outcome=declined],.outcome[data-outcome=disputed]{background:#fff7ed;color:#9a3412}
.pm{display:flex;gap:14px;align-items:center;border:1px solid #e2e8f0;border-radius:10px;padding:10px 12px;margin-bottom:18px;font-size:14px}
.pm img{width:72px;height:72px}.foot{margin-top:16px;font-size:12px;color:#94a3b8;text-align:center}
"#;

/// Marks the page's own inline script, replaced by the response's nonce.
const NONCE: &str = "{nonce}";

fn page(app: &App, status: StatusCode, title: &str, body: &str) -> Response {
    let nonce = crate::app::new_id("", 22);
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style nonce=\"{nonce}\">{STYLE}</style></head><body><main class=\"card\">\
         <div class=\"brand\">QbitPay <span>SANDBOX</span></div>{}\
         <div class=\"foot\">Test mode: no real money moves.</div></main></body></html>",
        esc(title),
        body.replace(NONCE, &nonce)
    );
    // Only this response's inline script and style run; images and requests go to the
    // sandbox; pages on this machine (the sample shop's checkout dialog) may frame it.
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src 'self' {base}; connect-src 'self' {base}; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'self' http://localhost:* http://127.0.0.1:* http://*.localhost:* \
         https://localhost:* https://127.0.0.1:* https://*.localhost:*",
        base = app.base_url
    );
    let mut resp =
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], html)
            .into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&csp).expect("ascii policy"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The token is in the URL: never send it on as a Referer, never cache the page.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn refuse(app: &App, status: StatusCode, title: &str, why: &str) -> Response {
    page(
        app,
        status,
        title,
        &format!(
            "<h2>{}</h2><p class=\"refuse\" id=\"refusal\" data-testid=\"refusal\">{}</p>",
            esc(title),
            esc(why)
        ),
    )
}

pub async fn pay_page(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let q: HashMap<String, String> =
        form_urlencoded::parse(q.unwrap_or_default().as_bytes()).into_owned().collect();
    let Some(token) = q.get("accessToken").filter(|t| !t.is_empty()) else {
        return refuse(
            &app,
            StatusCode::UNAUTHORIZED,
            "Access token required",
            "This payment page needs an access token: the merchant appends &accessToken=<token> \
             (from GET /api/v1/accessToken) to the charge's paymentPageUrl.",
        );
    };
    let acct = match verify_token(&app, token) {
        Ok(a) => a,
        Err(e) => return refuse(&app, StatusCode::UNAUTHORIZED, "Access token refused", &e.message),
    };
    let charge = match app.read(|c| crate::store::charge(c, &acct.id, &id)) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let Some(ch) = charge else {
        return refuse(
            &app,
            StatusCode::NOT_FOUND,
            "No such charge",
            "This payment link does not match any charge of this merchant.",
        );
    };
    let pm = &ch.payment_method;
    let pm_label = pm["typeLabel"]["en"].as_str().unwrap_or("");
    let pm_detail = ["accountNum", "addr", "bankName", "bankDetailName"]
        .iter()
        .filter_map(|f| pm[*f].as_str().map(|v| format!("<div>{}</div>", esc(v))))
        .collect::<String>();
    let qr = pm["qrCodeImgUrl"]
        .as_str()
        .map(|u| format!("<img alt=\"QR code\" src=\"{}\">", esc(u)))
        .unwrap_or_default();
    // What reporting the payment will do: a test amount's outcome, or the sandbox's setting.
    let test = crate::ops::TestOutcome::of(ch.amount);
    let (outcome, outcome_text) = match test {
        Some(o @ crate::ops::TestOutcome::Declined) => {
            ("declined", format!("Test amount: {}.", o.describe()))
        }
        Some(o @ crate::ops::TestOutcome::Disputed) => {
            ("disputed", format!("Test amount: {}.", o.describe()))
        }
        None => match app.cfg.auto_confirm_after {
            Some(s) => (
                "confirmed",
                format!(
                    "Once reported, the payment is confirmed {} s later (charge.succeeded).",
                    crate::model::num(s)
                ),
            ),
            None => (
                "reported",
                "Once reported, the payment waits for the merchant to confirm it (status buyerPaid)."
                    .to_owned(),
            ),
        },
    };
    let data = json!({
        "chargeId": ch.id,
        "accessToken": token,
        "redirectUrl": ch.redirect_url,
        "status": ch.status,
        "expiresAt": ch.expires_at,
        "outcome": outcome,
    })
    .to_string()
    .replace('<', "\\u003c")
    .replace('>', "\\u003e")
    .replace('&', "\\u0026");
    let amount = crate::model::num(ch.amount).to_string();
    let total = crate::model::num(ch.total_cost).to_string();
    let body = format!(
        r#"<div class="amount" id="amount" data-testid="amount">{amount} <small>{currency}</small></div>
<div class="sub">Pay {total} {quote} · order <b>{order}</b></div>
<div class="pm">{qr}<div><b>{pm_label}</b>{pm_detail}</div></div>
<dl><dt>Status</dt><dd><span class="status {status}" id="status" data-testid="status">{status}</span></dd>
<dt>Charge</dt><dd>{id}</dd><dt>Expires</dt><dd id="expires">{expires}</dd></dl>
<p class="outcome" id="outcome" data-testid="outcome" data-outcome="{outcome}">{outcome_text}</p>
<button id="paid" data-testid="paid" {disabled}>I have paid</button>
<div class="msg" id="msg" data-testid="message"></div>
<script type="application/json" id="charge-data">{data}</script>
<script nonce="{{nonce}}">
(function () {{
  var d = JSON.parse(document.getElementById('charge-data').textContent);
  var btn = document.getElementById('paid'), msg = document.getElementById('msg'), st = document.getElementById('status');
  var exp = document.getElementById('expires');
  exp.textContent = new Date(d.expiresAt).toLocaleString();
  function auth() {{ return {{ 'Authorization': 'Bearer ' + d.accessToken }}; }}
  function show(c) {{
    st.textContent = c.status; st.className = 'status ' + c.status;
    btn.disabled = c.status !== 'pending';
    if (c.status !== 'pending') btn.textContent = c.status === 'cancelled'
      ? (d.outcome === 'declined' ? 'Payment declined' : 'Payment window closed') : 'Payment reported';
  }}
  function returnLink() {{
    var a = document.createElement('a'); a.href = d.redirectUrl; a.id = 'return'; a.textContent = 'Return to the merchant';
    a.rel = 'noreferrer'; a.setAttribute('data-testid', 'return');
    return a;
  }}
  function done(c) {{
    if (c.status === 'cancelled') {{
      // Declined (a test amount): said here, and the payer goes back only by the link.
      msg.className = 'msg err'; msg.textContent = 'The payment was declined. ';
      if (d.redirectUrl) msg.appendChild(returnLink());
      return;
    }}
    msg.className = 'msg';
    var said = c.status === 'dispute' ? 'Payment received, then disputed (a test amount). ' : 'Thank you! The merchant will confirm your payment. ';
    if (d.redirectUrl) {{
      msg.textContent = said; msg.appendChild(returnLink());
      setTimeout(function () {{ window.location.assign(d.redirectUrl); }}, 2500);
    }} else {{
      msg.textContent = said.trim();
    }}
    poll();
  }}
  function poll() {{
    setTimeout(function () {{
      fetch('/api/v1/charges/' + encodeURIComponent(d.chargeId), {{ headers: auth() }})
        .then(function (r) {{ return r.ok ? r.json() : null; }})
        .then(function (c) {{ if (c) {{ show(c); if (c.status === 'buyerPaid' || c.status === 'sellerConfirmed') poll(); }} }})
        .catch(function () {{}});
    }}, 2000);
  }}
  btn.addEventListener('click', function () {{
    btn.disabled = true; msg.className = 'msg'; msg.textContent = 'Reporting your payment…';
    fetch('/api/v1/charges/' + encodeURIComponent(d.chargeId), {{
      method: 'PUT', headers: Object.assign({{ 'Content-Type': 'application/json' }}, auth()),
      body: JSON.stringify({{ status: 'buyerPaid' }})
    }}).then(function (r) {{ return r.json().then(function (b) {{ return {{ ok: r.ok, body: b }}; }}); }})
      .then(function (res) {{
        if (!res.ok) {{ throw new Error(res.body && res.body.message || 'the request failed'); }}
        show(res.body); done(res.body);
      }})
      .catch(function (e) {{ btn.disabled = false; msg.className = 'msg err'; msg.textContent = 'Could not report the payment: ' + e.message; }});
  }});
  if (d.status !== 'pending') show(d);
}})();
</script>"#,
        currency = esc(&ch.currency),
        quote = esc(&ch.quote_currency),
        order = esc(&ch.external_order_id),
        status = esc(&ch.status),
        id = esc(&ch.id),
        expires = esc(&ch.expires_at),
        disabled = if ch.status == "pending" { "" } else { "disabled" },
        outcome_text = esc(&outcome_text),
    );
    page(&app, StatusCode::OK, &format!("Pay {amount} {}", ch.currency), &body)
}

/// A decorative, deterministic QR-like image for a charge (not a scannable code).
pub async fn qr_svg(Path(id): Path<String>) -> Response {
    let h = Sha256::digest(id.as_bytes());
    let n = 21;
    let mut rects = String::new();
    let finder = |x: usize, y: usize| {
        let inside = |ox: usize, oy: usize| x >= ox && x < ox + 7 && y >= oy && y < oy + 7;
        [(0, 0), (n - 7, 0), (0, n - 7)].iter().find(|(ox, oy)| inside(*ox, *oy)).map(|(ox, oy)| {
            let (dx, dy) = (x - ox, y - oy);
            dx == 0 || dy == 0 || dx == 6 || dy == 6 || ((2..=4).contains(&dx) && (2..=4).contains(&dy))
        })
    };
    for y in 0..n {
        for x in 0..n {
            let on = finder(x, y).unwrap_or_else(|| {
                let bit = (x * 7 + y * 13) % 256;
                h[bit / 8 % 32] >> (bit % 8) & 1 == 1
            });
            if on {
                rects.push_str(&format!("<rect x=\"{x}\" y=\"{y}\" width=\"1\" height=\"1\"/>"));
            }
        }
    }
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"-1 -1 {s} {s}\" shape-rendering=\"crispEdges\"><rect x=\"-1\" y=\"-1\" width=\"{s}\" height=\"{s}\" fill=\"#fff\"/><g fill=\"#0f172a\">{rects}</g></svg>",
        s = n + 2
    );
    ([(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"))], svg).into_response()
}

/// `GET /_sandbox/info`: what the sandbox is (a health check without auth).
pub async fn info(State(app): State<Arc<App>>) -> Response {
    let v = json!({
        "name": "qbitpay-sandbox",
        "version": env!("CARGO_PKG_VERSION"),
        "baseUrl": app.base_url,
        "dashboard": format!("{}/", app.base_url),
        "accounts": app.accounts.len(),
        "api": "/api/v1",
        "control": "/_sandbox",
        "data": app.db.path.clone(),
        "now": qbitpay::webhook::timestamp::format_millis(app.now()),
    });
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], v.to_string()).into_response()
}
