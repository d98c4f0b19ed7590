//! The stored schedule: charge expiry, auto-confirm and close, payout progression and
//! webhook (re)tries are rows of `jobs` with a due time in sandbox time. One background
//! task runs them when due (after a restart too); `advance` moves the clock and runs every
//! job that falls due on the way, in order, each at its own time.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::ops;
use crate::store::{self, Job, CLOSE, CONFIRM, DELIVER, EXPIRE, IDEM_TTL_MS, PAY, TRANSIT};
use crate::webhooks;
use qbitpay::webhook::timestamp::format_millis;

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Ran {
    pub at: String,
    pub job: String,
    pub account: String,
    pub target: String,
    pub outcome: String,
}

/// Runs one claimed job; deliveries are awaited. `at`: the sandbox time a delivery is
/// recorded at (an advance runs several side by side, each at its own due time).
async fn run(app: &Arc<App>, job: Job, at: Option<i64>) -> Ran {
    let outcome = match app.account_by_id(&job.account).cloned() {
        None => Err(ApiError::bad_request("the account's key was not given")),
        Some(acct) => {
            if job.kind == DELIVER {
                webhooks::attempt(app, &acct, &job.target, Some(job.arg), Some(job.seq), at)
                    .await
                    .map(|o| o.summary())
            } else {
                let seq = job.seq;
                let r = app.write(|w| {
                    let r = match job.kind.as_str() {
                        EXPIRE => ops::expire_charge(app, &acct, w, &job.target),
                        CONFIRM => ops::confirm_charge(app, &acct, w, &job.target, false),
                        CLOSE => ops::close_charge(w, &acct, &job.target),
                        TRANSIT => ops::payout_transit(app, &acct, w, &job.target),
                        PAY => ops::advance_payout(
                            app,
                            &acct,
                            w,
                            &job.target,
                            "inTransit",
                            "paid",
                            "payout.paid",
                        ),
                        other => Err(ApiError::bad_request(format!("unknown job kind {other}"))),
                    };
                    store::finish_job(w, seq)?;
                    // A job that no longer applies (the charge was paid, the payout moved on
                    // by hand) is done all the same.
                    Ok(r)
                });
                match r {
                    Ok(Ok(v)) => Ok(v["status"].as_str().unwrap_or("done").to_owned()),
                    Ok(Err(e)) => Ok(format!("skipped: {}", e.message)),
                    Err(e) => Err(e),
                }
            }
        }
    };
    Ran {
        at: format_millis(job.due_ms),
        job: job.kind,
        account: job.account,
        target: job.target,
        outcome: outcome.unwrap_or_else(|e| format!("error: {}", e.message)),
    }
}

/// Deliveries grouped by batch (the first deliveries of one transaction), in the order the
/// batches first appear; within a batch in event order, or newest first when `reorder`.
/// Each batch is sent one delivery after another; batches go side by side.
/// Items carry a tag of the caller's (an advance: the job's place in its report).
fn batches<T>(jobs: Vec<(T, Job)>, reorder: bool) -> Vec<Vec<(T, Job)>> {
    let mut out: Vec<Vec<(T, Job)>> = Vec::new();
    for (tag, job) in jobs {
        match out.iter_mut().find(|b| job.batch != 0 && b[0].1.batch == job.batch) {
            Some(b) => b.push((tag, job)),
            None => out.push(vec![(tag, job)]),
        }
    }
    for b in &mut out {
        b.sort_by_key(|(_, j)| if reorder { -j.seq } else { j.seq });
    }
    out
}

/// The background task: runs due jobs (state changes in order, deliveries in batches),
/// sleeps until the next one or a poke; purges expired idempotency records.
pub async fn background(app: Arc<App>) {
    let mut last_purge: Option<i64> = None;
    loop {
        app.sched.next_wake.store(i64::MIN, Ordering::SeqCst);
        {
            let _g = app.sched.runner.lock().await;
            loop {
                let now = app.now();
                let jobs = match app.write(|w| store::claim_due(w, now, 256)) {
                    Ok(j) => j,
                    Err(_) => break,
                };
                if jobs.is_empty() {
                    break;
                }
                let mut deliveries = Vec::new();
                for job in jobs {
                    if job.kind == DELIVER {
                        deliveries.push(((), job));
                    } else {
                        run(&app, job, None).await;
                    }
                }
                for batch in batches(deliveries, app.cfg.webhook_reorder) {
                    let app = app.clone();
                    tokio::spawn(async move {
                        for ((), job) in batch {
                            run(&app, job, None).await;
                        }
                    });
                }
            }
        }
        let now = app.now();
        if last_purge.is_none_or(|t| now - t > 60_000) {
            last_purge = Some(now);
            let _ = app.write(|w| store::idem_purge(w, now - IDEM_TTL_MS));
        }
        let next = app.read(store::next_due).ok().flatten().unwrap_or(i64::MAX);
        app.sched.next_wake.store(next, Ordering::SeqCst);
        let wait = (next.saturating_sub(app.now())).clamp(0, 60_000);
        if wait == 0 {
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            _ = app.sched.notify.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
        }
    }
}

/// `POST /_sandbox/clock/advance`: moves sandbox time `ms` forward, running each job that
/// falls due on the way at its due time (the clock steps to it first), so that what a job
/// schedules (a retry, the next payout step) runs in the same advance when it falls inside
/// it. State changes run one at a time in due order; the deliveries they cause start as soon
/// as they are due, each recorded at its own due time, and are awaited together once nothing
/// else is due: a receiver that never answers holds the advance `--webhook-timeout` once,
/// and delays no other receiver.
pub async fn advance(app: &Arc<App>, ms: i64) -> ApiResult<Vec<Ran>> {
    let _g = app.sched.runner.lock().await;
    let start = app.now();
    let target = start.saturating_add(ms);
    let reorder = app.cfg.webhook_reorder;
    let mut ran: Vec<Option<Ran>> = Vec::new();
    type Sending = tokio::task::JoinHandle<Vec<(usize, Ran)>>;
    let mut sending: Vec<Sending> = Vec::new();
    // --webhook-reorder: the first deliveries of this advance, sent newest first at the end.
    let mut held: Vec<(usize, Job)> = Vec::new();
    let spawn_batch = |batch: Vec<(usize, Job)>, start: i64| -> Sending {
        let app = app.clone();
        tokio::spawn(async move {
            let mut out = Vec::new();
            for (i, job) in batch {
                let at = Some(job.due_ms.max(start));
                out.push((i, run(&app, job, at).await));
            }
            out
        })
    };
    let mut failed = None;
    for _ in 0..100_000 {
        // The offset the clock is about to reach is stored with the claim: killed mid-advance,
        // a restart never dates anything before what already ran.
        let jobs = match app.write(|w| {
            let jobs = store::claim_due_run(w, target, 256)?;
            if let Some(last) = jobs.last() {
                let offset =
                    (last.due_ms.max(app.now()) - crate::clock::wall_ms()).max(app.clock.offset_ms());
                crate::db::meta_set(w, "clock_offset_ms", &offset.to_string())?;
            }
            Ok(jobs)
        }) {
            Ok(j) => j,
            Err(e) => {
                failed = Some(e);
                break;
            }
        };
        let Some(last) = jobs.last() else {
            if !held.is_empty() {
                for batch in by_receiver(app, std::mem::take(&mut held)) {
                    sending.push(spawn_batch(batch, start));
                }
            }
            if sending.is_empty() {
                break;
            }
            // Their retries may fall due inside this advance: claim again once they are done.
            for h in sending.drain(..) {
                for (i, r) in h.await.unwrap_or_default() {
                    ran[i] = Some(r);
                }
            }
            continue;
        };
        app.clock.pin(last.due_ms);
        let mut deliveries = Vec::new();
        for job in jobs {
            if job.kind == DELIVER {
                if reorder && job.arg == 0 {
                    held.push((ran.len(), job));
                } else {
                    deliveries.push((ran.len(), job));
                }
                ran.push(None);
            } else {
                ran.push(Some(run(app, job, None).await));
            }
        }
        for batch in batches(deliveries, false) {
            sending.push(spawn_batch(batch, start));
        }
    }
    for h in sending {
        for (i, r) in h.await.unwrap_or_default() {
            ran[i] = Some(r);
        }
    }
    let ran = ran.into_iter().flatten().collect();
    let offset = app.clock.advance_to(target); // unpins, also after a failure
                                               // The background task sleeps until a due time it read before the clock moved: a job
                                               // committed from now on is due after it, so `poke` would not wake it. It re-reads now.
    app.sched.notify.notify_one();
    if let Some(e) = failed {
        return Err(e);
    }
    app.write(|w| crate::db::meta_set(w, "clock_offset_ms", &offset.to_string()))?;
    let now = app.now();
    app.write(|w| store::idem_purge(w, now - IDEM_TTL_MS))?;
    Ok(ran)
}

/// The deliveries an advance held back (`--webhook-reorder`), one batch per receiver URL,
/// newest first: each receiver gets them in the reverse of the order they happened.
fn by_receiver(app: &App, held: Vec<(usize, Job)>) -> Vec<Vec<(usize, Job)>> {
    let mut out: Vec<(String, Vec<(usize, Job)>)> = Vec::new();
    for (i, job) in held {
        let url = app
            .read(|c| store::event(c, &job.account, &job.target))
            .ok()
            .flatten()
            .and_then(|e| e.delivery.url)
            .or_else(|| app.cfg.webhook_url.clone())
            .unwrap_or_default();
        match out.iter_mut().find(|(u, _)| *u == url) {
            Some((_, b)) => b.push((i, job)),
            None => out.push((url, vec![(i, job)])),
        }
    }
    out.into_iter()
        .map(|(_, mut b)| {
            b.sort_by_key(|(_, j)| -j.seq);
            b
        })
        .collect()
}
