//! The load drivers: requests over loopback to the app running in this process, each timed
//! from just before sending to the last byte of the body. Every loop is bounded by a request
//! count and a time budget, whichever ends first.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Client, StatusCode};

use super::Res;
use super::data::{CUSTOMERS, QUEUES};
use super::words::{self, Voice};

pub fn client() -> Res<Client> {
    Ok(Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(4)
        .build()?)
}

/// Latencies of one measurement, in milliseconds, and what went wrong.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    pub ms: Vec<f64>,
    pub errors: u64,
    pub first_error: Option<String>,
    /// `total` from the first successful list answer (how many tickets the query matched).
    pub total: Option<i64>,
    /// Whether a time budget cut the loop short.
    pub cut: bool,
}

impl Samples {
    fn fail(&mut self, e: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(e);
        }
    }

    pub fn merge(&mut self, other: &Samples) {
        self.ms.extend_from_slice(&other.ms);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
        self.cut |= other.cut;
    }

    /// Nearest-rank percentile.
    pub fn pct(&self, p: f64) -> Option<f64> {
        if self.ms.is_empty() {
            return None;
        }
        let mut v = self.ms.clone();
        v.sort_by(f64::total_cmp);
        let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v.get(rank.clamp(1, v.len()) - 1).copied()
    }
}

/// A running app: its base URL and an `api` token.
#[derive(Clone)]
pub struct Target {
    pub base: String,
    pub token: String,
}

/// One GET; answers (ms, body) or an error text.
async fn get(
    c: &Client,
    t: &Target,
    path: &str,
    query: &[(&str, String)],
) -> (f64, Result<Vec<u8>, String>) {
    let start = Instant::now();
    let r = c
        .get(format!("{}{path}", t.base))
        .query(query)
        .bearer_auth(&t.token)
        .send()
        .await;
    let out = match r {
        Ok(r) => {
            let status = r.status();
            match r.bytes().await {
                Ok(b) if status == StatusCode::OK => Ok(b.to_vec()),
                Ok(b) => Err(format!(
                    "{status}: {}",
                    String::from_utf8_lossy(&b)
                        .chars()
                        .take(200)
                        .collect::<String>()
                )),
                Err(e) => Err(e.to_string()),
            }
        }
        Err(e) => Err(e.to_string()),
    };
    (start.elapsed().as_secs_f64() * 1000.0, out)
}

/// GET /api/v1/tickets/{id} for uniformly random ids in 1..=n, one request at a time.
pub async fn ticket_pages(
    c: &Client,
    t: &Target,
    n: i64,
    count: usize,
    budget: Duration,
    seed: u64,
) -> Samples {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut s = Samples::default();
    let start = Instant::now();
    for _ in 0..count {
        if start.elapsed() > budget {
            s.cut = true;
            break;
        }
        let id = rng.random_range(1..=n);
        let (ms, r) = get(c, t, &format!("/api/v1/tickets/{id}"), &[]).await;
        match r {
            Ok(_) => s.ms.push(ms),
            Err(e) => s.fail(e),
        }
    }
    s
}

/// A list request: TQL, order and paging as the API takes them.
#[derive(Debug, Clone)]
pub struct ListReq {
    pub query: String,
    pub order: Option<&'static str>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// A keyset cursor from an earlier answer's `next`.
    pub after: Option<String>,
}

impl ListReq {
    pub fn tql(q: &str) -> ListReq {
        ListReq {
            query: q.to_owned(),
            order: None,
            page: None,
            per_page: None,
            after: None,
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![("query", self.query.clone())];
        if let Some(o) = self.order {
            p.push(("order", o.to_owned()));
        }
        if let Some(v) = self.per_page {
            p.push(("per_page", v.to_string()));
        }
        if let Some(v) = self.page {
            p.push(("page", v.to_string()));
        }
        if let Some(v) = &self.after {
            p.push(("after", v.clone()));
        }
        p
    }
}

/// Follows `next` cursors through the list `base` names (its order, from its first row) and
/// answers, for each row count in `rows` (ascending, multiples of 50), the cursor that starts
/// the page after that many rows: what a client paging with `next` holds at that depth. Walks
/// 500 rows per request while it can, then 50. `None` where the list ends first, or where
/// `budget` runs out.
pub async fn cursors(
    c: &Client,
    t: &Target,
    base: &ListReq,
    rows: &[i64],
    budget: Duration,
) -> Vec<Option<String>> {
    let mut out = vec![None; rows.len()];
    let mut pos = 0;
    let mut cursor: Option<String> = None;
    let start = Instant::now();
    for (i, &target) in rows.iter().enumerate() {
        while pos < target {
            if start.elapsed() > budget {
                return out;
            }
            let step = if target - pos >= 500 { 500 } else { 50 };
            let req = ListReq {
                page: None,
                per_page: Some(step),
                after: cursor.clone(),
                ..base.clone()
            };
            let (_, res) = get(c, t, "/api/v1/tickets", &req.params()).await;
            let Some(v) = res
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            else {
                return out;
            };
            let got = v
                .get("items")
                .and_then(serde_json::Value::as_array)
                .map_or(0, Vec::len) as i64;
            pos += got;
            match v.get("next").and_then(serde_json::Value::as_str) {
                Some(next) if got == step => cursor = Some(next.to_owned()),
                _ => return out,
            }
        }
        out[i] = cursor.clone();
    }
    out
}

/// Runs `reqs` round-robin, `reps` times each, one request at a time; each request stops
/// being repeated once it has used `budget_each` (after at least `min_reps`).
pub async fn lists(
    c: &Client,
    t: &Target,
    reqs: &[ListReq],
    reps: usize,
    min_reps: usize,
    budget_each: Duration,
) -> Vec<Samples> {
    let mut out = vec![Samples::default(); reqs.len()];
    let mut spent = vec![Duration::ZERO; reqs.len()];
    for rep in 0..reps {
        for (i, r) in reqs.iter().enumerate() {
            if rep >= min_reps && spent[i] > budget_each {
                out[i].cut = true;
                continue;
            }
            let started = Instant::now();
            let (ms, res) = get(c, t, "/api/v1/tickets", &r.params()).await;
            spent[i] += started.elapsed();
            match res {
                Ok(body) => {
                    out[i].ms.push(ms);
                    if out[i].total.is_none() {
                        out[i].total = serde_json::from_slice::<serde_json::Value>(&body)
                            .ok()
                            .and_then(|v| v.get("total").and_then(serde_json::Value::as_i64));
                    }
                }
                Err(e) => out[i].fail(e),
            }
        }
    }
    out
}

/// What the creation run measured.
#[derive(Debug, Default, Clone)]
pub struct Throughput {
    pub created: u64,
    pub secs: f64,
    pub samples: Samples,
}

/// `clients` workers, each with its own connection pool, POST /api/v1/tickets back to back
/// for `duration`; realistic bodies (2–4 sentences, a requestor at a customer's domain).
pub async fn create_tickets(t: &Target, clients: usize, duration: Duration) -> Res<Throughput> {
    let start = Instant::now();
    let client_rt = crate::clients::runtime()?;
    let mut tasks = Vec::new();
    for w in 0..clients {
        let t = t.clone();
        let c = client()?;
        tasks.push(client_rt.spawn(async move {
            let mut rng = StdRng::seed_from_u64(0xc0ffee + w as u64);
            let mut s = Samples::default();
            while start.elapsed() < duration {
                let cust = rng.random_range(0..CUSTOMERS);
                let priority = [2, 3, 3, 3, 4][rng.random_range(0..5)];
                let body = serde_json::json!({
                    "queue": format!("Q{}", rng.random_range(0..QUEUES)),
                    "subject": words::subject(&mut rng, false),
                    "body": words::body(&mut rng, Voice::Customer, 2, 4),
                    "requestors": [words::requestor(&mut rng, cust)],
                    "priority": priority,
                });
                let sent = Instant::now();
                let r = c
                    .post(format!("{}/api/v1/tickets", t.base))
                    .bearer_auth(&t.token)
                    .json(&body)
                    .send()
                    .await;
                let res = match r {
                    Ok(r) => {
                        let status = r.status();
                        match r.bytes().await {
                            Ok(_) if status == StatusCode::CREATED => Ok(()),
                            Ok(b) => Err(format!(
                                "{status}: {}",
                                String::from_utf8_lossy(&b)
                                    .chars()
                                    .take(200)
                                    .collect::<String>()
                            )),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Err(e) => Err(e.to_string()),
                };
                let ms = sent.elapsed().as_secs_f64() * 1000.0;
                match res {
                    Ok(()) => s.ms.push(ms),
                    Err(e) => s.fail(e),
                }
            }
            s
        }));
    }
    let mut all = Samples::default();
    for task in tasks {
        all.merge(&task.await?);
    }
    client_rt.shutdown_background();
    let secs = start.elapsed().as_secs_f64();
    Ok(Throughput {
        created: all.ms.len() as u64,
        secs,
        samples: all,
    })
}
