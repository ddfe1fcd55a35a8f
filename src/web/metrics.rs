//! `/metrics` in Prometheus text format: requests and latency by matched route, the database
//! pool, and the job queue's depth (read from the database, so it is the same on every node).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::time::Instant;

use crate::state::AppState;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) → series.
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let s = map
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        s.count += 1;
        s.sum += secs;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    fn render_requests(&self, out: &mut String) {
        let map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str("# HELP opsdesk_http_requests_total HTTP requests by method, matched route and status.\n");
        out.push_str("# TYPE opsdesk_http_requests_total counter\n");
        for ((m, r, s), v) in map.iter() {
            let _ = writeln!(
                out,
                "opsdesk_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {}",
                esc(r),
                v.count
            );
        }
        out.push_str("# HELP opsdesk_http_request_duration_seconds Time to answer, by method and matched route.\n");
        out.push_str("# TYPE opsdesk_http_request_duration_seconds histogram\n");
        let mut by_route: BTreeMap<(&str, &str), Series> = BTreeMap::new();
        for ((m, r, _), v) in map.iter() {
            let agg = by_route.entry((m, r)).or_default();
            agg.count += v.count;
            agg.sum += v.sum;
            for i in 0..BUCKETS.len() {
                agg.buckets[i] += v.buckets[i];
            }
        }
        for ((m, r), v) in by_route {
            let labels = format!("method=\"{m}\",route=\"{}\"", esc(r));
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "opsdesk_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    v.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "opsdesk_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                v.count
            );
            let _ = writeln!(
                out,
                "opsdesk_http_request_duration_seconds_sum{{{labels}}} {}",
                v.sum
            );
            let _ = writeln!(
                out,
                "opsdesk_http_request_duration_seconds_count{{{labels}}} {}",
                v.count
            );
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

pub async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    st.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(render))
}

async fn render(State(st): State<AppState>) -> Response {
    let mut out = String::with_capacity(4096);
    let _ = writeln!(
        out,
        "# HELP opsdesk_build_info The running version.\n# TYPE opsdesk_build_info gauge"
    );
    let _ = writeln!(
        out,
        "opsdesk_build_info{{version=\"{}\",backend=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        st.db.backend().as_str()
    );
    st.metrics.render_requests(&mut out);
    let (size, idle) = st.db.pool_stats();
    out.push_str("# HELP opsdesk_db_pool_connections Database connections by state.\n# TYPE opsdesk_db_pool_connections gauge\n");
    let _ = writeln!(out, "opsdesk_db_pool_connections{{state=\"idle\"}} {idle}");
    let _ = writeln!(
        out,
        "opsdesk_db_pool_connections{{state=\"busy\"}} {}",
        (size as usize).saturating_sub(idle)
    );
    let _ = writeln!(
        out,
        "opsdesk_db_pool_max_connections {}",
        st.config.db.max_connections
    );
    out.push_str("# HELP opsdesk_jobs Jobs in the queue by state.\n# TYPE opsdesk_jobs gauge\n");
    match crate::jobs::depth(&st.db).await {
        Ok(d) => {
            for (state, n) in [
                ("queued", d.queued),
                ("running", d.running),
                ("dead", d.dead),
            ] {
                let _ = writeln!(out, "opsdesk_jobs{{state=\"{state}\"}} {n}");
            }
            let _ = writeln!(out, "opsdesk_db_up 1");
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: job queue depth unavailable");
            let _ = writeln!(out, "opsdesk_db_up 0");
        }
    }
    let a = st.alerts.stats();
    out.push_str("# HELP opsdesk_alert_batches_total Transactions that applied alert deliveries (several deliveries of one source share one).\n# TYPE opsdesk_alert_batches_total counter\n");
    let _ = writeln!(out, "opsdesk_alert_batches_total {}", a.batches);
    out.push_str("# HELP opsdesk_alert_deliveries_total Alert deliveries applied or answered as retries.\n# TYPE opsdesk_alert_deliveries_total counter\n");
    let _ = writeln!(out, "opsdesk_alert_deliveries_total {}", a.deliveries);
    out.push_str("# HELP opsdesk_alert_batches_rolled_back_total Batches rolled back because one delivery failed, then applied one by one.\n# TYPE opsdesk_alert_batches_rolled_back_total counter\n");
    let _ = writeln!(
        out,
        "opsdesk_alert_batches_rolled_back_total {}",
        a.rolled_back
    );
    match crate::search::index::lag(&st.db).await {
        Ok(lag) if !lag.is_empty() => {
            out.push_str("# HELP opsdesk_search_unindexed Texts written but not yet in the full-text index (SQLite's FTS5 index, PostgreSQL's two-character pair index); searches still find them.\n# TYPE opsdesk_search_unindexed gauge\n");
            for (index, n) in lag {
                let _ = writeln!(out, "opsdesk_search_unindexed{{index=\"{index}\"}} {n}");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "metrics: full-text index lag unavailable"),
    }
    let mut r = out.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}
