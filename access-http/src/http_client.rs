//! The `reqwest::Client` under each API client: the one built here when the
//! caller brings none, and the checks a caller's own client must pass.
//!
//! The rule both follow: **an authenticated request never follows a
//! redirect.** A followed redirect re-sends the request to wherever
//! `Location` points, possibly another host or plain http. reqwest drops
//! `Authorization` and cookies when the host changes. It keeps every other
//! header, though (Brivo's `api-key`, Entrata's `X-Api-Key`), and on a 307
//! or 308 it keeps the body too (a password grant, a client secret).

use std::time::Duration;

use url::Url;

/// Why an HTTP client cannot be used, or could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpClientError {
    /// The caller's client may follow redirects, or its redirect policy
    /// cannot be verified.
    #[error(
        "the reqwest::Client passed in may follow redirects, which would re-send the credentials \
         to wherever a redirect points; build it with \
         `.redirect(reqwest::redirect::Policy::none())`"
    )]
    FollowsRedirects,
    /// An `https` URL, but this build has no TLS backend.
    #[error(
        "{url} needs TLS, but this build has no TLS backend: enable the `rustls` (default) or \
         `native-tls` feature, or pass your own reqwest::Client built with TLS"
    )]
    NoTlsBackend {
        /// The URL (scheme and host only).
        url: String,
    },
    /// reqwest could not build the client (e.g. no TLS roots). The
    /// message includes reqwest's, since the clients keep only the text.
    #[error("the HTTP client could not be built: {0}")]
    Build(reqwest::Error),
}

/// The TLS backend the clients' own HTTP clients use: `"native-tls"`,
/// `"rustls"`, or `None` when neither feature is on (then only plain-http
/// URLs, i.e. loopback ones, can be reached, unless the caller passes a
/// client of their own).
pub const TLS_BACKEND: Option<&str> = if cfg!(feature = "native-tls") {
    Some("native-tls")
} else if cfg!(feature = "rustls") {
    Some("rustls")
} else {
    None
};

/// Builds the client an API client uses when the caller brings none: no
/// redirects ([`redirect_policy`](crate::redirect_policy)), the TLS backend
/// chosen by the features (native-tls when both are on), `connect_timeout`
/// and `user_agent`. The per-request timeout is not set here: the API
/// clients set it on every request, so that it applies to a caller's client
/// too.
///
/// `urls` are the URLs the client will call: an `https` one fails with
/// [`HttpClientError::NoTlsBackend`] when this build has no TLS, rather
/// than every request failing later with reqwest's "scheme is not http".
///
/// # Errors
/// [`HttpClientError::NoTlsBackend`], or [`HttpClientError::Build`].
pub fn build_http_client(
    connect_timeout: Duration,
    user_agent: &str,
    urls: &[&Url],
) -> Result<reqwest::Client, HttpClientError> {
    if TLS_BACKEND.is_none()
        && let Some(url) = urls.iter().find(|u| u.scheme() == "https")
    {
        return Err(HttpClientError::NoTlsBackend {
            url: format!("https://{}", url.host_str().unwrap_or_default()),
        });
    }
    let builder = reqwest::Client::builder()
        .redirect(crate::redirect_policy())
        .connect_timeout(connect_timeout)
        .user_agent(user_agent);
    #[cfg(feature = "native-tls")]
    let builder = builder.tls_backend_native();
    #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
    let builder = builder.tls_backend_rustls();
    builder.build().map_err(HttpClientError::Build)
}

/// Checks a caller's client: it must have been built with
/// `.redirect(reqwest::redirect::Policy::none())`.
///
/// reqwest has no accessor for a client's redirect policy, so this reads
/// the client's `Debug` text, which names a policy other than the default
/// (`redirect_policy: "Policy(None)"` for `Policy::none()`). The check
/// fails closed: the default policy (which follows up to 10 redirects),
/// `Policy::limited(n)`, a `Policy::custom(..)` (whose behaviour cannot be
/// inspected), and any text this check does not recognise are all refused
/// with [`HttpClientError::FollowsRedirects`].
///
/// # Errors
/// [`HttpClientError::FollowsRedirects`].
pub fn check_http_client(client: &reqwest::Client) -> Result<(), HttpClientError> {
    // the Debug text is only searched, never logged: it lists the client's
    // default headers
    let text = format!("{client:?}");
    if text.contains(r#"redirect_policy: "Policy(None)""#) {
        Ok(())
    } else {
        Err(HttpClientError::FollowsRedirects)
    }
}

/// A second line of defence behind [`check_http_client`]: `Some`
/// description (`"redirect to host … (followed by …)"`) when `response`
/// came from another origin or path than `requested`, i.e. the client
/// followed a redirect after all. The answer
/// must then be refused (it is not from the API), and the credentials of
/// the request may have reached the redirect's target.
///
/// The query is not compared (the clients add query parameters through
/// reqwest).
pub fn followed_redirect(requested: &Url, response: &reqwest::Response) -> Option<String> {
    let got = response.url();
    let same = got.scheme() == requested.scheme()
        && got.host_str() == requested.host_str()
        && got.port_or_known_default() == requested.port_or_known_default()
        && got.path() == requested.path();
    // worded to follow "answered with a", like describe_redirect's text
    (!same).then(|| {
        format!(
            "redirect to host {} (followed by the HTTP client passed in, which must be built \
             with `redirect::Policy::none()`; its answer is refused)",
            got.host_str().unwrap_or("?")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::redirect::Policy;

    #[test]
    fn only_a_client_that_never_follows_redirects_is_accepted() {
        let none = reqwest::Client::builder()
            .redirect(Policy::none())
            .user_agent("x")
            .build()
            .unwrap();
        check_http_client(&none).unwrap();
        // the crate's own clients pass their own check
        let ours = build_http_client(Duration::from_secs(1), "ua", &[]).unwrap();
        check_http_client(&ours).unwrap();

        for refused in [
            reqwest::Client::new(),
            reqwest::Client::builder()
                .redirect(Policy::limited(3))
                .build()
                .unwrap(),
            reqwest::Client::builder()
                .redirect(Policy::custom(|a| a.stop()))
                .build()
                .unwrap(),
        ] {
            let err = check_http_client(&refused).unwrap_err();
            assert!(matches!(err, HttpClientError::FollowsRedirects));
            assert!(err.to_string().contains("Policy::none()"));
        }
    }

    #[test]
    fn a_header_named_like_the_policy_does_not_fool_the_check() {
        // default headers are printed too: a value that looks like the
        // policy's text must not pass for it
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-trick",
            reqwest::header::HeaderValue::from_static(r#"redirect_policy: "Policy(None)""#),
        );
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        assert!(check_http_client(&client).is_err());
    }

    #[test]
    fn https_needs_a_tls_backend() {
        let https = Url::parse("https://api.example.test/v1").unwrap();
        let http = Url::parse("http://127.0.0.1:1/").unwrap();
        let result = build_http_client(Duration::from_secs(1), "ua", &[&http, &https]);
        match TLS_BACKEND {
            Some(_) => {
                result.unwrap();
            }
            None => {
                let err = result.unwrap_err();
                assert!(err.to_string().contains("https://api.example.test"));
            }
        }
        build_http_client(Duration::from_secs(1), "ua", &[&http]).unwrap();
    }

    #[tokio::test]
    async fn a_followed_redirect_is_noticed() {
        use httpmock::prelude::*;
        let server = MockServer::start_async().await;
        server
            .mock_async(|w, t| {
                w.path("/from");
                t.status(302).header("location", "/to");
            })
            .await;
        server
            .mock_async(|w, t| {
                w.path("/to");
                t.status(200);
            })
            .await;
        let from = Url::parse(&server.url("/from")).unwrap();
        let following = reqwest::Client::new();
        let response = following.get(from.clone()).send().await.unwrap();
        assert!(followed_redirect(&from, &response).is_some());

        let ours = build_http_client(Duration::from_secs(1), "ua", &[]).unwrap();
        let response = ours
            .get(from.clone())
            .query(&[("a", "b")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
        assert_eq!(followed_redirect(&from, &response), None);
    }
}
