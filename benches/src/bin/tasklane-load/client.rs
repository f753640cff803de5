//! One HTTP/1.1 keep-alive connection: hyper's client connection over a tokio TCP stream, with
//! no pool, no redirects and no decompression, so that the load tool spends as little CPU per
//! request as it can and leaves the cores to the server under test.

use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A request the load tool sends.
pub type OutgoingRequest = Request<Full<Bytes>>;

/// An open connection to the server under test.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

/// A failure to connect or to complete an exchange; the connection is unusable afterwards.
pub type ConnectionError = Box<dyn std::error::Error + Send + Sync>;

impl Connection {
    /// Connects to `address` (with `TCP_NODELAY`) and starts the connection's task.
    pub async fn open(address: SocketAddr) -> Result<Connection, ConnectionError> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // An error here also fails the exchange in flight, which reports it.
            let _ = connection.await;
        });
        Ok(Connection { sender })
    }

    /// Sends `request` and reads the whole answer; returns its status and body.
    pub async fn exchange(
        &mut self,
        request: OutgoingRequest,
    ) -> Result<(StatusCode, Bytes), ConnectionError> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}
