//! The server on a loopback port in the background, on its own thread and
//! runtime: what the app's `--demo` runs beside the window, and what tests
//! of clients start. Dropping the handle stops it and waits for requests in
//! flight.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::{Server, ServerConfig};
use crate::Engine;

#[derive(Debug)]
pub struct Background {
    pub addr: SocketAddr,
    server: Server,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Background {
    /// Serves `engine` on 127.0.0.1 at a free port.
    pub fn start(engine: Arc<Engine>, config: ServerConfig) -> std::io::Result<Self> {
        let server = Server::new(engine, config);
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, bound) = std::sync::mpsc::channel();
        let serving = server.clone();
        let thread = std::thread::Builder::new()
            .name("tasklane-serve".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                        Ok(l) => l,
                        Err(e) => {
                            ready.send(Err(e.kind())).ok();
                            return Err(e);
                        }
                    };
                    ready.send(listener.local_addr().map_err(|e| e.kind())).ok();
                    serving
                        .serve(listener, async {
                            stopped.await.ok();
                        })
                        .await
                })
            })?;
        let addr = match bound.recv() {
            Ok(Ok(addr)) => addr,
            Ok(Err(kind)) => return Err(kind.into()),
            Err(_) => {
                return Err(std::io::Error::other(
                    "the server thread ended before binding",
                ));
            }
        };
        Ok(Background {
            addr,
            server,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn server(&self) -> &Server {
        &self.server
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}
