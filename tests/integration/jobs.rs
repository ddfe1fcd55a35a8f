use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::SignedDuration;
use opsdesk::clock::{Clock, ManualClock};
use opsdesk::db::Db;
use opsdesk::jobs::{
    self, JobCtx, JobFailure, JobFuture, JobHandler, JobRow, NewJob, Outcome, Registry, Runner,
};
use reqwest::StatusCode;

use crate::helpers::*;

/// Fails the first `fail_times` runs of every job with the given failure, then succeeds.
struct Flaky {
    fail_times: u32,
    permanent: bool,
    runs: Arc<Mutex<HashMap<i64, u32>>>,
}

impl JobHandler for Flaky {
    fn kind(&self) -> &'static str {
        "test.flaky"
    }
    fn run<'a>(&'a self, _: &'a JobCtx, job: &'a JobRow) -> JobFuture<'a> {
        Box::pin(async move {
            let n = {
                let mut runs = self.runs.lock().unwrap();
                let n = runs.entry(job.id).or_default();
                *n += 1;
                *n
            };
            if n <= self.fail_times {
                return Err(if self.permanent {
                    JobFailure::Permanent("payload is nonsense".into())
                } else {
                    JobFailure::Retry(format!("peer down (run {n})"))
                });
            }
            Ok(())
        })
    }
}

fn flaky(fail_times: u32, permanent: bool) -> (Flaky, Arc<Mutex<HashMap<i64, u32>>>) {
    let runs = Arc::new(Mutex::new(HashMap::new()));
    (
        Flaky {
            fail_times,
            permanent,
            runs: runs.clone(),
        },
        runs,
    )
}

async fn setup() -> (TestDb, Db, ManualClock) {
    let t = TestDb::fresh().await;
    let db = t.pool().await;
    (
        t,
        db,
        ManualClock::new("2026-11-23T09:00:00Z".parse().unwrap()),
    )
}

async fn enqueue(db: &Db, clock: &ManualClock, max_attempts: u32) -> i64 {
    let mut tx = db.begin().await.unwrap();
    let id = jobs::enqueue(
        &mut tx,
        &NewJob::now("test.flaky", serde_json::json!({"n": 1}), clock.now()),
        max_attempts,
        clock.now(),
    )
    .await
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();
    id
}

fn runner(db: &Db, clock: &ManualClock, handler: impl JobHandler + 'static, name: &str) -> Runner {
    let ctx = JobCtx {
        db: db.clone(),
        clock: Arc::new(clock.clone()),
    };
    Runner::new(
        ctx,
        Registry::default().with(handler),
        name.into(),
        Duration::from_secs(300),
    )
}

#[tokio::test]
async fn a_failing_job_is_retried_with_growing_backoff_and_then_succeeds() {
    let (_t, db, clock) = setup().await;
    let (h, runs) = flaky(2, false);
    let r = runner(&db, &clock, h, "w1");
    let id = enqueue(&db, &clock, 5).await;

    let Outcome::Retrying { at: first, .. } = r.try_run_one().await.unwrap() else {
        panic!("expected a retry")
    };
    let wait1 = first.duration_since(clock.now());
    assert!(
        wait1 >= SignedDuration::from_secs(10) && wait1 <= SignedDuration::from_secs(11),
        "{wait1:?}"
    );
    assert_eq!(
        r.try_run_one().await.unwrap(),
        Outcome::Idle,
        "not due before its backoff"
    );

    clock.advance(SignedDuration::from_secs(11));
    let Outcome::Retrying { at: second, .. } = r.try_run_one().await.unwrap() else {
        panic!("expected a retry")
    };
    let wait2 = second.duration_since(clock.now());
    assert!(
        wait2 >= SignedDuration::from_secs(20) && wait2 <= SignedDuration::from_secs(22),
        "{wait2:?}"
    );

    clock.advance(SignedDuration::from_secs(22));
    assert_eq!(
        r.try_run_one().await.unwrap(),
        Outcome::Done {
            id,
            kind: "test.flaky".into()
        }
    );
    assert_eq!(runs.lock().unwrap()[&id], 3);
    assert_eq!(jobs::depth(&db).await.unwrap().queued, 0);
}

#[tokio::test]
async fn a_job_that_keeps_failing_becomes_a_dead_letter_after_max_attempts() {
    let (_t, db, clock) = setup().await;
    let (h, _) = flaky(100, false);
    let r = runner(&db, &clock, h, "w1");
    let id = enqueue(&db, &clock, 3).await;
    for _ in 0..2 {
        assert!(matches!(
            r.try_run_one().await.unwrap(),
            Outcome::Retrying { .. }
        ));
        clock.advance(SignedDuration::from_hours(2));
    }
    assert_eq!(
        r.try_run_one().await.unwrap(),
        Outcome::Dead {
            id,
            kind: "test.flaky".into()
        }
    );
    let dead = jobs::dead_letters(&db, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 3);
    assert_eq!(dead[0].last_error.as_deref(), Some("peer down (run 3)"));
    clock.advance(SignedDuration::from_hours(24));
    assert_eq!(
        r.try_run_one().await.unwrap(),
        Outcome::Idle,
        "dead letters are not retried by themselves"
    );
}

#[tokio::test]
async fn a_permanent_failure_goes_straight_to_the_dead_letters() {
    let (_t, db, clock) = setup().await;
    let (h, _) = flaky(1, true);
    let r = runner(&db, &clock, h, "w1");
    let id = enqueue(&db, &clock, 8).await;
    assert_eq!(
        r.try_run_one().await.unwrap(),
        Outcome::Dead {
            id,
            kind: "test.flaky".into()
        }
    );
}

#[tokio::test]
async fn an_admin_retry_puts_a_dead_letter_back_with_fresh_attempts() {
    let (_t, db, clock) = setup().await;
    let (h, _) = flaky(1, true);
    let r = runner(&db, &clock, h, "w1");
    let id = enqueue(&db, &clock, 8).await;
    r.try_run_one().await.unwrap();
    assert!(jobs::retry_dead(&db, id, clock.now()).await.unwrap());
    assert!(
        !jobs::retry_dead(&db, id, clock.now()).await.unwrap(),
        "only dead letters can be retried"
    );
    assert_eq!(
        r.try_run_one().await.unwrap(),
        Outcome::Done {
            id,
            kind: "test.flaky".into()
        }
    );
    assert_eq!(jobs::get(&db, id).await.unwrap().unwrap().attempts, 1);
}

#[tokio::test]
async fn a_job_whose_lease_ran_out_is_taken_over_and_the_slow_worker_loses() {
    let (_t, db, clock) = setup().await;
    let gate = Arc::new(tokio::sync::Notify::new());
    struct Slow(Arc<tokio::sync::Notify>, Arc<AtomicU32>);
    impl JobHandler for Slow {
        fn kind(&self) -> &'static str {
            "test.flaky"
        }
        fn run<'a>(&'a self, _: &'a JobCtx, _: &'a JobRow) -> JobFuture<'a> {
            Box::pin(async move {
                if self.1.fetch_add(1, Ordering::SeqCst) == 0 {
                    self.0.notified().await;
                }
                Ok(())
            })
        }
    }
    let count = Arc::new(AtomicU32::new(0));
    let slow = runner(&db, &clock, Slow(gate.clone(), count.clone()), "slow");
    let fast = runner(&db, &clock, Slow(gate.clone(), count.clone()), "fast");
    let id = enqueue(&db, &clock, 5).await;
    let slow_turn = tokio::spawn(async move { slow.try_run_one().await.unwrap() });
    while count.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        fast.try_run_one().await.unwrap(),
        Outcome::Idle,
        "leased jobs are not taken"
    );
    clock.advance(SignedDuration::from_mins(6));
    assert_eq!(
        fast.try_run_one().await.unwrap(),
        Outcome::Done {
            id,
            kind: "test.flaky".into()
        }
    );
    gate.notify_one();
    assert_eq!(slow_turn.await.unwrap(), Outcome::LostLease { id });
}

#[tokio::test]
async fn concurrent_workers_run_every_job_exactly_once() {
    let (_t, db, clock) = setup().await;
    let (h, runs) = flaky(0, false);
    let shared = Arc::new(h);
    struct Shared(Arc<Flaky>);
    impl JobHandler for Shared {
        fn kind(&self) -> &'static str {
            "test.flaky"
        }
        fn run<'a>(&'a self, c: &'a JobCtx, j: &'a JobRow) -> JobFuture<'a> {
            self.0.run(c, j)
        }
    }
    for _ in 0..60 {
        enqueue(&db, &clock, 3).await;
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        let r = runner(&db, &clock, Shared(shared.clone()), &format!("w{w}"));
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            loop {
                match r.try_run_one().await.unwrap() {
                    Outcome::Idle => break done,
                    Outcome::Done { .. } => done += 1,
                    other => panic!("{other:?}"),
                }
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 60);
    let runs = runs.lock().unwrap();
    assert_eq!(runs.len(), 60);
    assert!(runs.values().all(|n| *n == 1), "a job ran twice: {runs:?}");
}

#[tokio::test]
async fn the_same_dedup_key_is_enqueued_once() {
    let (_t, db, clock) = setup().await;
    let job = NewJob::now("test.flaky", serde_json::json!({}), clock.now()).dedup("slot-1");
    let mut tx = db.begin().await.unwrap();
    assert!(
        jobs::enqueue(&mut tx, &job, 3, clock.now())
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        jobs::enqueue(&mut tx, &job, 3, clock.now())
            .await
            .unwrap()
            .is_none()
    );
    tx.commit().await.unwrap();
    assert!(
        jobs::periodic::offer(&db, clock.now(), 3)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        jobs::periodic::offer(&db, clock.now(), 3)
            .await
            .unwrap()
            .is_none(),
        "two nodes offer, one job"
    );
}

#[tokio::test]
async fn the_admin_sees_dead_letters_and_retries_one_from_the_browser() {
    let app = TestApp::spawn().await;
    let db = app.db.pool().await;
    // Far in the future: the server's own worker (real clock) never finds this job due.
    let clock = ManualClock::new("2030-01-01T00:00:00Z".parse().unwrap());
    let (h, _) = flaky(1, true);
    let r = runner(&db, &clock, h, "w-test");
    let id = enqueue(&db, &clock, 3).await;
    // The server's housekeeping job may also be due at our clock's time; turn until ours is dead.
    let mut turns = 0;
    while r.try_run_one().await.unwrap()
        != (Outcome::Dead {
            id,
            kind: "test.flaky".into(),
        })
    {
        turns += 1;
        assert!(turns < 5, "the test job never reached the dead letters");
    }
    app.login_admin().await;
    let (status, body) = app.get_text("/admin/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("test.flaky") && body.contains("payload is nonsense"),
        "{body}"
    );
    let token = csrf_in(&body).unwrap();
    let r = app
        .post_form(
            &format!("/admin/jobs/{id}/retry"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = app.get_text("/admin/jobs").await;
    assert!(
        body.contains(&format!("Job {id} is queued again.")),
        "{body}"
    );
    let job = jobs::get(&db, id).await.unwrap().unwrap();
    assert_ne!(job.state, "dead");
    let r = app
        .post_form(
            &format!("/admin/jobs/{id}/retry"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "a job that is not dead cannot be retried"
    );
}

/// Takes batches of `size`; fails the jobs whose payload says `fail`.
struct Batched {
    size: usize,
    batches: Arc<Mutex<Vec<Vec<i64>>>>,
}

impl JobHandler for Batched {
    fn kind(&self) -> &'static str {
        "test.batched"
    }
    fn run<'a>(&'a self, _: &'a JobCtx, job: &'a JobRow) -> JobFuture<'a> {
        Box::pin(async move {
            if job.payload.contains("fail") {
                Err(JobFailure::Retry("this one is down".into()))
            } else {
                Ok(())
            }
        })
    }
    fn batch(&self) -> usize {
        self.size
    }
    fn run_batch<'a>(&'a self, c: &'a JobCtx, jobs: &'a [JobRow]) -> jobs::BatchFuture<'a> {
        self.batches
            .lock()
            .unwrap()
            .push(jobs.iter().map(|j| j.id).collect());
        Box::pin(async move {
            let mut out = Vec::new();
            for j in jobs {
                out.push(self.run(c, j).await);
            }
            out
        })
    }
}

#[tokio::test]
async fn a_batching_handler_gets_due_jobs_of_its_kind_in_one_claim_each_settled_alone() {
    let (_t, db, clock) = setup().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut tx = db.begin().await.unwrap();
        let payload = if i == 1 {
            serde_json::json!({"fail": true})
        } else {
            serde_json::json!({"n": i})
        };
        let id = jobs::enqueue(
            &mut tx,
            &NewJob::now("test.batched", payload, clock.now()),
            5,
            clock.now(),
        )
        .await
        .unwrap()
        .unwrap();
        tx.commit().await.unwrap();
        ids.push(id);
    }
    // A job of another kind in between is not swept into the batch.
    let other = enqueue(&db, &clock, 5).await;
    let batches = Arc::new(Mutex::new(Vec::new()));
    let (flaky, _) = flaky(0, false);
    let r = Runner::new(
        JobCtx {
            db: db.clone(),
            clock: Arc::new(clock.clone()),
        },
        Registry::default().with(flaky).with(Batched {
            size: 3,
            batches: batches.clone(),
        }),
        "w1".into(),
        Duration::from_secs(60),
    );
    let Outcome::Batch(first) = r.try_run_one().await.unwrap() else {
        panic!("a batch");
    };
    assert_eq!(first.len(), 3);
    assert!(matches!(first[0], Outcome::Done { id, .. } if id == ids[0]));
    assert!(
        matches!(first[1], Outcome::Retrying { id, .. } if id == ids[1]),
        "the failing job is retried alone: {first:?}"
    );
    assert!(matches!(first[2], Outcome::Done { id, .. } if id == ids[2]));
    let Outcome::Batch(second) = r.try_run_one().await.unwrap() else {
        panic!("a second batch");
    };
    assert_eq!(second.len(), 3);
    // The last job of its kind comes alone; then the other kind's job, then nothing.
    assert!(matches!(r.try_run_one().await.unwrap(), Outcome::Done { id, .. } if id == ids[6]));
    assert_eq!(
        r.try_run_one().await.unwrap(),
        Outcome::Done {
            id: other,
            kind: "test.flaky".into()
        }
    );
    assert_eq!(r.try_run_one().await.unwrap(), Outcome::Idle);
    let seen = batches.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![ids[0..3].to_vec(), ids[3..6].to_vec(), vec![ids[6]]]
    );
}
