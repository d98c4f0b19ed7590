use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::Value;

use crate::common::*;

const K: &str = "sk_test_pages";

async fn page(sb: &Sandbox, query: &str) -> Vec<Value> {
    let r = sb.get(Auth::Key(K), &format!("/api/v1/charges?{query}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"].as_array().unwrap().clone()
}

fn ids(v: &[Value]) -> Vec<String> {
    v.iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn walk_250_charges_forward_and_back_while_others_insert() {
    let sb = Arc::new(Sandbox::start(&["--api-key", K]));
    // 250 charges, created in a known order (4 at a time would interleave; one writer keeps order).
    let mut created = Vec::new();
    for i in 0..250 {
        created.push(
            sb.create_charge(K, &format!("p-{i}"), "http://127.0.0.1:9/cb").await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    let old: HashSet<String> = created.iter().cloned().collect();

    // Inserters run during both walks.
    let stop = Arc::new(AtomicBool::new(false));
    let mut inserters = Vec::new();
    for w in 0..3 {
        let (sb, stop) = (sb.clone(), stop.clone());
        inserters.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                sb.create_charge(K, &format!("new-{w}-{n}"), "http://127.0.0.1:9/cb").await;
                n += 1;
            }
            n
        }));
    }

    // Forward: newest → oldest with starting_after; a short page is the last.
    let limit = 7;
    let mut forward: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("limit={limit}&starting_after={c}"),
            None => format!("limit={limit}"),
        };
        let p = page(&sb, &q).await;
        assert!(p.len() <= limit);
        forward.extend(p.iter().cloned());
        if p.len() < limit {
            break;
        }
        cursor = Some(p.last().unwrap()["id"].as_str().unwrap().to_owned());
        tokio::task::yield_now().await;
    }
    let seen: Vec<String> = ids(&forward).into_iter().filter(|id| old.contains(id)).collect();
    assert_eq!(seen, newest_first, "forward: every old charge exactly once, newest first");
    let all = ids(&forward);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), all.len(), "no duplicates at all");
    // createdAt never increases along the walk.
    let ms: Vec<f64> = forward
        .iter()
        .map(|c| qbitpay::webhook::timestamp::parse_millis(c["createdAt"].as_str().unwrap()).unwrap())
        .collect();
    assert!(ms.windows(2).all(|w| w[0] >= w[1]));
    // New charges can only appear before the old ones (on the first page).
    let first_old = all.iter().position(|id| old.contains(id)).unwrap();
    assert!(all[first_old..].iter().all(|id| old.contains(id)));

    // Backward: from the oldest towards the newest with ending_before.
    let mut backward: Vec<String> = Vec::new();
    let mut cursor = created[0].clone();
    let mut pages = 0;
    loop {
        let p = page(&sb, &format!("limit={limit}&ending_before={cursor}")).await;
        if p.is_empty() {
            break;
        }
        let mut chunk = ids(&p);
        cursor = chunk[0].clone(); // the newest of the page
        chunk.extend(backward);
        backward = chunk;
        pages += 1;
        if pages > 38 {
            break; // past the 250 old ones: stop chasing the inserters
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut inserted = 0;
    for t in inserters {
        inserted += t.await.unwrap();
    }
    assert!(inserted > 0, "the inserters ran concurrently");
    let back_old: Vec<String> = backward.iter().filter(|id| old.contains(*id)).cloned().collect();
    let oldest_excluded: Vec<String> = newest_first[..249].to_vec();
    assert_eq!(back_old, oldest_excluded, "backward: every old charge but the cursor itself, once, in order");
    assert_eq!(backward.iter().collect::<HashSet<_>>().len(), backward.len());

    // A full-size page may be followed by an empty one; the oldest has nothing after it.
    assert!(page(&sb, &format!("starting_after={}", created[0])).await.is_empty());
    assert_eq!(page(&sb, "limit=100").await.len(), 100);
    sb.get(
        Auth::Key(K),
        &format!("/api/v1/charges?starting_after={}&ending_before={}", created[1], created[0]),
    )
    .await
    .assert_invalid("ending_before");
    // ending_before gives the page just newer than the cursor, newest first.
    let p = ids(&page(&sb, &format!("limit=3&ending_before={}", created[10])).await);
    assert_eq!(p, [created[13].clone(), created[12].clone(), created[11].clone()]);
    let p = ids(&page(&sb, &format!("limit=3&starting_after={}", created[10])).await);
    assert_eq!(p, [created[9].clone(), created[8].clone(), created[7].clone()]);
}

#[tokio::test]
async fn filtered_lists_page_too() {
    let sb = Sandbox::start(&["--api-key", K]);
    let mut mine = Vec::new();
    for i in 0..12 {
        let order = if i % 3 == 0 { "same".to_owned() } else { format!("o-{i}") };
        let c = sb.create_charge(K, &order, "http://127.0.0.1:9/cb").await;
        if i % 3 == 0 {
            mine.push(c["id"].as_str().unwrap().to_owned());
        }
    }
    mine.reverse();
    let p1 = ids(&page(&sb, "externalOrderId=same&limit=2").await);
    assert_eq!(p1, mine[..2]);
    let p2 = ids(&page(&sb, &format!("externalOrderId=same&limit=2&starting_after={}", p1[1])).await);
    assert_eq!(p2, mine[2..4]);
    let back = ids(&page(&sb, &format!("externalOrderId=same&limit=2&ending_before={}", p2[0])).await);
    assert_eq!(back, p1);
    assert_eq!(page(&sb, "").await.len(), 10, "the default limit is 10");
}
