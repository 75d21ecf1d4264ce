use std::net::IpAddr;

use url::{Host, Url};

/// A base URL that would send credentials in clear text.
///
/// Returned by [`check_base_url`] for `http://` URLs whose host is not
/// loopback, and for schemes other than `http` and `https`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "base URL {url} is not HTTPS: credentials would travel in clear text \
     (plain http is allowed only for loopback hosts such as 127.0.0.1 or localhost)"
)]
pub struct InsecureBaseUrl {
    /// The URL, without user info or query.
    pub url: String,
}

/// Accepts `https://` URLs, and `http://` only when the host is loopback
/// (`127.0.0.0/8`, `::1`, `localhost`): the sandbox and mock servers.
///
/// ```
/// use access_http::check_base_url;
/// use url::Url;
///
/// assert!(check_base_url(&Url::parse("https://api.brivo.com/v1/api").unwrap()).is_ok());
/// assert!(check_base_url(&Url::parse("http://127.0.0.1:8080/").unwrap()).is_ok());
/// assert!(check_base_url(&Url::parse("http://api.brivo.com/").unwrap()).is_err());
/// ```
pub fn check_base_url(url: &Url) -> Result<(), InsecureBaseUrl> {
    let loopback = match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => {
            let mut shown = url.clone();
            let _ = shown.set_username("");
            let _ = shown.set_password(None);
            shown.set_query(None);
            Err(InsecureBaseUrl {
                url: shown.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) -> Result<(), InsecureBaseUrl> {
        check_base_url(&Url::parse(s).unwrap())
    }

    #[test]
    fn https_anywhere_and_http_on_loopback_only() {
        assert!(check("https://acme.entrata.com/api/v1/").is_ok());
        assert!(check("http://localhost:3000/").is_ok());
        assert!(check("http://127.8.9.10/").is_ok());
        assert!(check("http://[::1]:9000/").is_ok());
        assert!(check("http://10.0.0.5/").is_err());
        assert!(check("http://localhost.evil.example/").is_err());
        assert!(check("ftp://127.0.0.1/").is_err());
    }

    #[test]
    fn the_error_never_shows_credentials_in_the_url() {
        let err = check("http://admin:hunter2@example.com/x?api_key=k").unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("api_key"), "{shown}");
        assert!(shown.contains("example.com"));
    }
}
