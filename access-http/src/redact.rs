//! One redaction for every client's error text: a server may echo what it
//! was sent (a token endpoint repeating the form, a gateway quoting the
//! `Authorization` header), and error text ends up in logs.

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// Keys whose value is a secret in `key=value` (forms, query strings) and
/// `"key": "value"` (JSON) shapes. Matched case-insensitively.
const SECRET_KEYS: &[&str] = &[
    "client_secret",
    "password",
    "refresh_token",
    "access_token",
    "id_token",
    "api_key",
    "api-key",
    "apikey",
    "x-api-key",
    "authorization",
];

/// Secrets shorter than this are not searched for: replacing every "ab" in
/// a message would make it unreadable and hide nothing worth hiding.
const MIN_SECRET_LEN: usize = 4;

/// Returns `text` with every occurrence of `secrets` (the configured
/// credentials and tokens), every value of a secret-looking key
/// (`client_secret=…`, `"password": "…"`), every bearer/basic credential and
/// every JWT-shaped word replaced by [`REDACTED`].
///
/// ```
/// use access_http::redact;
///
/// let echoed = r#"bad request: grant_type=client_credentials&client_secret=s3cr3t&scope=x"#;
/// assert_eq!(
///     redact(echoed, &[]),
///     "bad request: grant_type=client_credentials&client_secret=[REDACTED]&scope=x"
/// );
/// assert_eq!(redact("key hunter22 refused", &["hunter22"]), "key [REDACTED] refused");
/// ```
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    // longest first, so a secret containing another is replaced whole
    let mut secrets: Vec<&str> = secrets
        .iter()
        .copied()
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets {
        if out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    for key in SECRET_KEYS {
        out = redact_values_of(&out, key);
    }
    for scheme in ["bearer ", "basic "] {
        out = redact_after(&out, scheme);
    }
    redact_jwts(&out)
}

/// Ends a secret value: separators of forms, JSON, headers and prose.
fn ends_value(c: char) -> bool {
    c.is_whitespace() || matches!(c, '&' | '"' | '\'' | ',' | ';' | '}' | ']' | ')' | '<')
}

/// Replaces the value after `key`, an optional closing quote, `=` or `:`,
/// and optional spaces and opening quote.
fn redact_values_of(text: &str, key: &str) -> String {
    // ASCII lower-casing keeps byte offsets; every delimiter below is ASCII,
    // so every index computed lands on a char boundary
    let lower = text.to_ascii_lowercase();
    let b = text.as_bytes();
    let skip = |mut i: usize, what: fn(u8) -> bool| {
        while i < b.len() && what(b[i]) {
            i += 1;
        }
        i
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find(key) {
        let start = from + found;
        from = start + key.len();
        // a key inside a longer word (`my_password_hint`) is not the key
        if start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_') {
            continue;
        }
        let mut i = skip(from, |c| c == b'"' || c == b'\'');
        i = skip(i, |c| c == b' ');
        if i >= b.len() || !(b[i] == b'=' || b[i] == b':') {
            continue;
        }
        i = skip(i + 1, |c| c == b' ');
        let quoted = i < b.len() && (b[i] == b'"' || b[i] == b'\'');
        if quoted {
            i += 1;
        }
        let rest = &text[i..];
        let len = if quoted {
            rest.find(['"', '\'']).unwrap_or(rest.len())
        } else {
            rest.find(ends_value).unwrap_or(rest.len())
        };
        // "Authorization: Bearer x": the scheme pass redacts x, keeping "Bearer"
        let scheme = ["bearer", "basic"]
            .iter()
            .any(|s| lower[i..i + len].eq_ignore_ascii_case(s));
        if len == 0 || rest.starts_with(REDACTED) || scheme {
            continue;
        }
        out.push_str(&text[copied..i]);
        out.push_str(REDACTED);
        copied = i + len;
        from = copied;
    }
    out.push_str(&text[copied..]);
    out
}

/// Replaces the word after `scheme` (`"bearer "`), matched case-insensitively.
fn redact_after(text: &str, scheme: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find(scheme) {
        let value_at = from + found + scheme.len();
        let value = &text[value_at..];
        let len = value.find(ends_value).unwrap_or(value.len());
        from = value_at + len;
        if len == 0 || value.starts_with(REDACTED) {
            continue;
        }
        out.push_str(&text[copied..value_at]);
        out.push_str(REDACTED);
        copied = value_at + len;
    }
    out.push_str(&text[copied..]);
    out
}

fn redact_jwts(text: &str) -> String {
    if !text.split(ends_value).any(jwt_like) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars() {
        if ends_value(c) {
            out.push_str(if jwt_like(&word) { REDACTED } else { &word });
            word.clear();
            out.push(c);
        } else {
            word.push(c);
        }
    }
    out.push_str(if jwt_like(&word) { REDACTED } else { &word });
    out
}

fn jwt_like(word: &str) -> bool {
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            p.len() >= 8
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_secrets_are_replaced_wherever_they_appear() {
        assert_eq!(
            redact(
                "echo: idXYZsecret123 and again idXYZsecret123",
                &["idXYZsecret123", "ab"]
            ),
            "echo: [REDACTED] and again [REDACTED]"
        );
        // too short to search for: left alone
        assert_eq!(redact("ab cd", &["ab"]), "ab cd");
    }

    #[test]
    fn secret_shaped_values_are_replaced() {
        for (given, want) in [
            (
                "grant_type=password&username=admin&password=pa55&x=1",
                "grant_type=password&username=admin&password=[REDACTED]&x=1",
            ),
            (
                r#"{"client_secret": "abc def", "client_id":"id"}"#,
                r#"{"client_secret": "[REDACTED]", "client_id":"id"}"#,
            ),
            (
                "CLIENT_SECRET=Zz9 rejected",
                "CLIENT_SECRET=[REDACTED] rejected",
            ),
            (
                "header Authorization: Bearer abc.def-123 was refused",
                "header Authorization: Bearer [REDACTED] was refused",
            ),
            ("x-api-key: k3y!", "x-api-key: [REDACTED]"),
            (
                "Invalid token eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2Q",
                "Invalid token [REDACTED]",
            ),
            ("my_password_hint=ok", "my_password_hint=ok"),
            ("password is wrong", "password is wrong"),
        ] {
            assert_eq!(redact(given, &[]), want, "{given}");
        }
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in [
            "password=",
            "password:",
            "bearer ",
            "é password=ü€",
            "\"password\"",
            "",
        ] {
            let _ = redact(text, &["€€€€"]);
        }
        assert_eq!(redact("é password=ü€ x", &[]), "é password=[REDACTED] x");
    }
}
