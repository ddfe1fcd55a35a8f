//! The threads the load runs on. Clients are other machines in production; here they share
//! the 2 cores, but not the app's tokio workers: building a 100 KiB message or a JSON body on
//! the app's own runtime queued the app's tasks behind it and counted that wait as the app's
//! latency. The OS schedules the two runtimes' threads preemptively, as it would two
//! processes.

/// A runtime of 2 worker threads for the client tasks. Shut it down with `shutdown_background`
/// (a runtime cannot be dropped inside another one's task).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-client")
        .enable_all()
        .build()
}
