//! Reading response bodies with a cap, so that a hostile or broken server
//! cannot make a client buffer gigabytes.

use reqwest::Response;

/// The most read of an error (non-2xx) body: enough for any real error
/// message; the rest is never read.
pub const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The most read of a token endpoint's successful answer.
pub const TOKEN_BODY_LIMIT: usize = 64 * 1024;

/// Why a capped body could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is larger than the cap for this kind of call. Nothing of it
    /// was processed.
    #[error(
        "the response body is larger than {limit} bytes, the most read for this call; \
         ask for smaller pages, or raise the client's body limit if the data is really this large"
    )]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The connection failed while reading.
    #[error("reading the response body failed")]
    Transport(#[source] reqwest::Error),
}

/// Reads the whole body, failing with [`BodyError::TooLarge`] as soon as it
/// is known to exceed `limit` bytes (from `Content-Length`, or while
/// streaming): at most `limit` bytes plus one chunk are held.
pub async fn read_body(mut response: Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads at most `limit` bytes of the body and drops the rest unread (the
/// connection is closed rather than drained): for error bodies, which are
/// only ever shown clipped.
pub async fn read_body_truncated(
    mut response: Response,
    limit: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while body.len() < limit {
        let Some(chunk) = response.chunk().await? else {
            break;
        };
        let take = chunk.len().min(limit - body.len());
        body.extend_from_slice(&chunk[..take]);
    }
    Ok(body)
}

/// Describes a redirect that was not followed: `"HTTP 307 to evil.test"`.
///
/// Clients never follow redirects on authenticated calls: the `api-key`,
/// the bearer token or the password grant would be re-sent to wherever the
/// `Location` points, possibly over plain http.
pub fn describe_redirect(status: u16, headers: &http::HeaderMap) -> String {
    let host = headers
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| url::Url::parse(l).ok())
        .and_then(|u| u.host_str().map(str::to_owned));
    match host {
        Some(host) => format!("HTTP {status} redirect to host {host}"),
        None => format!("HTTP {status} redirect (to the same host or an unreadable Location)"),
    }
}

/// The redirect policy of every client: none. A 3xx comes back as the
/// answer, and the client turns it into an error.
pub fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use httpmock::prelude::*;

    fn big(n: usize) -> String {
        "x".repeat(n)
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_and_one_under_is_read() {
        let server = MockServer::start_async().await;
        server
            .mock_async(|w, t| {
                w.path("/big");
                t.status(200).body(big(2000));
            })
            .await;
        let client = reqwest::Client::new();
        let r = client.get(server.url("/big")).send().await.unwrap();
        let err = read_body(r, 1000).await.unwrap_err();
        assert!(matches!(err, BodyError::TooLarge { limit: 1000 }));
        assert!(err.to_string().contains("1000 bytes"));
        let r = client.get(server.url("/big")).send().await.unwrap();
        assert_eq!(read_body(r, 2000).await.unwrap().len(), 2000);
    }

    #[tokio::test]
    async fn an_error_body_is_cut_at_the_limit() {
        let server = MockServer::start_async().await;
        server
            .mock_async(|w, t| {
                w.path("/err");
                t.status(500).body(big(300_000));
            })
            .await;
        let r = reqwest::get(server.url("/err")).await.unwrap();
        let body = read_body_truncated(r, ERROR_BODY_LIMIT).await.unwrap();
        assert_eq!(body.len(), ERROR_BODY_LIMIT);
    }

    /// A server that streams `total` bytes (or forever) in chunks and
    /// reports how many it managed to write before the client hung up.
    async fn streaming_server(
        status: u16,
        total: Option<u64>,
    ) -> (String, tokio::task::JoinHandle<u64>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            // read the request first: an answer before it confuses hyper
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
            }
            let head = format!("HTTP/1.1 {status} X\r\ntransfer-encoding: chunked\r\n\r\n");
            socket.write_all(head.as_bytes()).await.unwrap();
            let chunk = vec![b'a'; 64 * 1024];
            let framed = [
                format!("{:x}\r\n", chunk.len()).into_bytes(),
                chunk,
                b"\r\n".to_vec(),
            ]
            .concat();
            let mut written = 0u64;
            while total.is_none_or(|t| written < t) {
                if socket.write_all(&framed).await.is_err() {
                    return written;
                }
                written += 64 * 1024;
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
            written
        });
        (url, task)
    }

    #[tokio::test]
    async fn an_endless_body_is_cut() {
        let (url, server) = streaming_server(200, None).await;
        let r = reqwest::get(&url).await.unwrap();
        let err = read_body(r, 1024 * 1024).await.unwrap_err();
        assert!(matches!(err, BodyError::TooLarge { .. }));
        // the client hung up: the server stopped a little past the cap
        // (socket buffers), not never
        let written = server.await.unwrap();
        assert!(written < 32 * 1024 * 1024, "{written}");
    }

    #[tokio::test]
    async fn a_64_mib_error_body_is_not_read_past_the_cap() {
        let (url, server) = streaming_server(500, Some(64 * 1024 * 1024)).await;
        let r = reqwest::get(&url).await.unwrap();
        let body = read_body_truncated(r, ERROR_BODY_LIMIT).await.unwrap();
        assert_eq!(body.len(), ERROR_BODY_LIMIT);
        // what was held is the cap; what crossed the wire is the cap plus
        // kernel socket buffers, a few MiB at most, never the 64 MiB
        let written = server.await.unwrap();
        assert!(written < 16 * 1024 * 1024, "{written}");
    }

    #[test]
    fn redirects_name_the_status_and_the_target_host() {
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::LOCATION,
            http::HeaderValue::from_static("http://evil.test:8080/steal?x=1"),
        );
        assert_eq!(
            describe_redirect(307, &h),
            "HTTP 307 redirect to host evil.test"
        );
        assert!(describe_redirect(302, &http::HeaderMap::new()).contains("HTTP 302"));
    }
}
