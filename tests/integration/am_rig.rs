//! A real Prometheus Alertmanager (Debian's prometheus-alertmanager 0.25) for the tests that
//! take alerts from it: OPSDESK_TEST_ALERTMANAGER = the binary, set by scripts/test. Each test
//! starts its own on a free loopback port with a private storage dir, posts alerts to it, and
//! Alertmanager delivers them, webhook payload v4, to the URL the test gives it.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opsdesk::clock::{Clock, SystemClock};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;

/// How long the alertmanager we start gets to answer /-/ready.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// One Alertmanager process of our own; dropping it kills the process and removes its dir.
pub struct Alertmanager {
    child: Child,
    /// Holds the config, the storage dir and the log until the test ends.
    dir: TempDir,
    base: String,
    client: reqwest::Client,
}

impl Alertmanager {
    /// Starts alertmanager on a free 127.0.0.1 port with a private storage dir. Its one receiver
    /// is a webhook to `webhook_url` with `Authorization: Bearer {token}` and send_resolved.
    /// Grouping is off (group_by ['...']), so every alert is a group of its own and is delivered
    /// on its own; the timers are short, so a firing alert goes out at once (group_wait 0s) and a
    /// resolved one within 100 ms (group_interval); unchanged alerts are not sent again for an
    /// hour (repeat_interval).
    pub async fn start(webhook_url: &str, token: &str) -> Alertmanager {
        Self::start_with(webhook_url, token, Duration::from_secs(3600)).await
    }

    /// [`Alertmanager::start`] with a repeat_interval of `repeat`: how soon a group whose
    /// alerts have not changed is delivered again (alertmanager refuses zero).
    pub async fn start_with(webhook_url: &str, token: &str, repeat: Duration) -> Alertmanager {
        let bin = std::env::var("OPSDESK_TEST_ALERTMANAGER").unwrap_or_else(|_| {
            panic!("OPSDESK_TEST_ALERTMANAGER (the alertmanager binary) is set by scripts/test")
        });
        let dir = tempfile::Builder::new()
            .prefix("opsdesk-am.")
            .tempdir()
            .unwrap();
        std::fs::write(
            dir.path().join("alertmanager.yml"),
            config(webhook_url, token, repeat),
        )
        .unwrap();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        // The port is free when we look but could be taken before alertmanager binds it: a
        // start that fails on that alone is retried on another port.
        for _ in 0..3 {
            let port = free_port();
            let base = format!("http://127.0.0.1:{port}");
            let mut child = spawn(&bin, dir.path(), port, &base);
            match wait_ready(&mut child, &client, &base, dir.path()).await {
                Ok(()) => {
                    return Alertmanager {
                        child,
                        dir,
                        base,
                        client,
                    };
                }
                Err(log) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    if !log.contains("address already in use") {
                        panic!("alertmanager did not become ready; its log:\n{log}");
                    }
                }
            }
        }
        panic!("alertmanager found no free port in 3 tries");
    }

    /// The base URL plus `path`, e.g. `url("/api/v2/alerts")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POST /api/v2/alerts: `alerts` is a JSON array of {labels, annotations, startsAt?,
    /// endsAt?, generatorURL?}. An endsAt in the past resolves the alert of the same labels.
    pub async fn post_alerts(&self, alerts: &Value) {
        let r = self
            .client
            .post(self.url("/api/v2/alerts"))
            .json(alerts)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::OK, "POST /api/v2/alerts: {body}");
    }

    /// GET /api/v2/silences: every silence alertmanager holds, expired ones included.
    pub async fn silences(&self) -> Vec<Value> {
        let r = self
            .client
            .get(self.url("/api/v2/silences"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "GET /api/v2/silences");
        r.json().await.unwrap()
    }

    /// Alertmanager's own log (stdout and stderr) so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        // By its PID (Child::kill), never by name: a system alertmanager may be running too.
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The TempDir goes after this, with the storage and the log in it.
    }
}

/// The config: one webhook receiver, grouping off, the shortest timers alertmanager takes
/// (group_wait may be 0s; group_interval and repeat_interval may not be zero).
fn config(webhook_url: &str, token: &str, repeat: Duration) -> String {
    // JSON is YAML: serde_json does the quoting.
    let config = json!({
        "route": {
            "receiver": "opsdesk",
            "group_by": ["..."],
            "group_wait": "0s",
            "group_interval": "100ms",
            "repeat_interval": format!("{}ms", repeat.as_millis().max(1)),
        },
        "receivers": [{
            "name": "opsdesk",
            "webhook_configs": [{
                "url": webhook_url,
                "send_resolved": true,
                "http_config": {
                    "authorization": { "type": "Bearer", "credentials": token },
                },
            }],
        }],
    });
    serde_json::to_string_pretty(&config).unwrap()
}

/// Polls /-/ready; answers Err(the log) if the process exits or READY_WITHIN runs out.
async fn wait_ready(
    child: &mut Child,
    client: &reqwest::Client,
    base: &str,
    dir: &Path,
) -> Result<(), String> {
    let log = || std::fs::read_to_string(dir.join("alertmanager.log")).unwrap_or_default();
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        if let Ok(r) = client
            .get(format!("{base}/-/ready"))
            .timeout(Duration::from_secs(1))
            .send()
            .await
            && r.status() == StatusCode::OK
        {
            return Ok(());
        }
        if let Some(status) = child.try_wait().unwrap() {
            return Err(format!("(exited: {status})\n{}", log()));
        }
        if Instant::now() > deadline {
            return Err(format!("(not ready after {READY_WITHIN:?})\n{}", log()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A loopback TCP port nobody listens on: bound, then let go.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn spawn(bin: &str, dir: &Path, port: u16, base: &str) -> Child {
    let log = File::create(dir.join("alertmanager.log")).unwrap();
    Command::new(bin)
        .arg(format!(
            "--config.file={}",
            dir.join("alertmanager.yml").display()
        ))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        // Links in the payload (externalURL, silence URLs) point here, not at the hostname.
        .arg(format!("--web.external-url={base}"))
        // No HA: nothing listens on 9094, and no gossip settling delays the first delivery.
        .arg("--cluster.listen-address=")
        .arg("--log.level=debug")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("start alertmanager {bin}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The rig checks itself against a webhook receiver of its own.

/// What the receiver got: (Authorization header, JSON body, when) per request.
type Hooks = Arc<Mutex<Vec<(String, Value, Instant)>>>;

/// A tiny webhook receiver on a free loopback port; answers its URL and what it has received.
async fn webhook_sink() -> (String, Hooks) {
    use axum::http::HeaderMap;
    use axum::routing::post;

    let hooks: Hooks = Arc::default();
    let keep = hooks.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let body: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
            keep.lock().unwrap().push((auth, body, Instant::now()));
            ""
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, hooks)
}

/// Waits (up to 10 s) for a received webhook that `want` accepts; answers it and its arrival.
async fn wait_hook(
    am: &Alertmanager,
    hooks: &Hooks,
    what: &str,
    want: impl Fn(&str, &Value) -> bool,
) -> (Value, Instant) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = hooks
            .lock()
            .unwrap()
            .iter()
            .find(|(auth, body, _)| want(auth, body))
            .map(|(_, body, at)| (body.clone(), *at));
        if let Some(hit) = found {
            return hit;
        }
        if Instant::now() > deadline {
            panic!(
                "no {what} webhook within 10 s; received: {:?}\nalertmanager log:\n{}",
                hooks.lock().unwrap(),
                am.log_text()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn alertmanager_delivers_a_firing_and_a_resolved_webhook_with_the_bearer_token() {
    let (hook_url, hooks) = webhook_sink().await;
    let am = Alertmanager::start(&hook_url, "am-secret-token").await;
    assert!(am.silences().await.is_empty());

    let labels = json!({"alertname": "HostDown", "instance": "web1:9100", "severity": "critical"});
    let annotations = json!({"summary": "web1 is down"});
    let bearer = |auth: &str| auth == "Bearer am-secret-token";

    let posted = Instant::now();
    am.post_alerts(&json!([{"labels": labels, "annotations": annotations}]))
        .await;
    let (firing, at) = wait_hook(&am, &hooks, "firing", |auth, b| {
        bearer(auth) && b["status"] == "firing"
    })
    .await;
    println!("firing delivered {:?} after the POST", at - posted);
    assert_eq!(firing["version"], "4");
    assert_eq!(firing["receiver"], "opsdesk");
    assert_eq!(firing["externalURL"], am.url(""));
    assert_eq!(firing["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(firing["alerts"][0]["status"], "firing");
    assert_eq!(firing["alerts"][0]["labels"], labels);
    assert_eq!(firing["alerts"][0]["annotations"], annotations);
    assert_eq!(firing["commonLabels"], labels);

    // Alertmanager lives in real time, so the real clock (the crate's one reader of it).
    let ends = SystemClock.now() - jiff::SignedDuration::from_secs(1);
    let posted = Instant::now();
    am.post_alerts(&json!([{
        "labels": labels,
        "annotations": annotations,
        "endsAt": ends.to_string(),
    }]))
    .await;
    let (resolved, at) = wait_hook(&am, &hooks, "resolved", |auth, b| {
        bearer(auth) && b["alerts"][0]["status"] == "resolved"
    })
    .await;
    println!("resolved delivered {:?} after the POST", at - posted);
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["alerts"][0]["labels"], labels);
    assert_eq!(resolved["groupKey"], firing["groupKey"]);
    assert_eq!(
        resolved["alerts"][0]["fingerprint"],
        firing["alerts"][0]["fingerprint"]
    );
    assert_eq!(hooks.lock().unwrap().len(), 2, "one webhook each");
}
