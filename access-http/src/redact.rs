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

/// [`redact`] for a decoder's message (serde's, or a `Deserialize` impl's
/// own), after replacing every value it quotes, `"…"` or `` `…` ``, with
/// [`REDACTED`]: serde quotes the offending value (`invalid type: string
/// "hunter2", expected u64`), and a value in an answer can be anything, a
/// secret echoed back or a person's details. What follows the last
/// `, expected ` is the type's own text and is kept, as is the name in
/// `missing field` and serde_json's syntax messages (`expected` …), so the
/// message still says what was wrong and where.
///
/// ```
/// use access_http::redact_decode;
///
/// assert_eq!(
///     redact_decode(r#"invalid type: string "hunter2", expected u64 at line 1 column 9"#, &[]),
///     r#"invalid type: string "[REDACTED]", expected u64 at line 1 column 9"#
/// );
/// assert_eq!(
///     redact_decode("unknown variant `s3cr3t`, expected `a` or `b`", &[]),
///     "unknown variant `[REDACTED]`, expected `a` or `b`"
/// );
/// ```
pub fn redact_decode(text: &str, secrets: &[&str]) -> String {
    let end = if text.starts_with("expected ") || text.starts_with("missing field ") {
        0
    } else {
        text.rfind(", expected ").unwrap_or(text.len())
    };
    let (mut rest, kept) = text.split_at(end);
    let mut out = String::with_capacity(text.len());
    while let Some(open) = rest.find(['"', '`']) {
        let quote = if rest.as_bytes()[open] == b'"' {
            '"'
        } else {
            '`'
        };
        out.push_str(&rest[..=open]);
        out.push_str(REDACTED);
        let value = &rest[open + 1..];
        match closing(value, quote) {
            Some(close) => {
                out.push(quote);
                rest = &value[close + 1..];
            }
            // unterminated: everything after the quote may be the value
            None => rest = "",
        }
    }
    out.push_str(rest);
    out.push_str(kept);
    redact(&out, secrets)
}

/// Where `quote` closes a value: `"…"` as `Debug` writes it (with `\"`
/// escapes); `` `…` `` as serde writes it, unescaped, so at the last
/// backtick (a value may hold backticks itself).
fn closing(value: &str, quote: char) -> Option<usize> {
    if quote == '`' {
        return value.rfind('`');
    }
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// Why a body could not be decoded, as its [`redact_decode`]d message: the
/// clients' decode errors keep this as their `source` instead of the
/// decoder's own error, whose `Display` and `Debug` quote the offending
/// value.
///
/// ```
/// use access_http::DecodeError;
///
/// // serde_json's error for `"pa55w0rd"` read as a u64
/// let raw = r#"invalid type: string "pa55w0rd", expected u64 at line 1 column 10"#;
/// let e = DecodeError::new(&raw, &[]);
/// assert!(!format!("{e} {e:?}").contains("pa55w0rd"));
/// assert!(e.to_string().contains("expected u64"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    message: String,
}

impl DecodeError {
    /// `error`'s message, redacted by [`redact_decode`] with `secrets`.
    pub fn new(error: &dyn std::fmt::Display, secrets: &[&str]) -> Self {
        Self {
            message: redact_decode(&error.to_string(), secrets),
        }
    }

    /// The redacted message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Also redacts `secrets` (known only later, e.g. by the client).
    #[must_use]
    pub fn redact(self, secrets: &[&str]) -> Self {
        Self {
            message: redact(&self.message, secrets),
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

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
    fn decode_messages_keep_what_was_expected_but_not_what_was_found() {
        for (given, want) in [
            (
                r#"invalid type: string "a \"quoted\", expected x", expected u64"#,
                r#"invalid type: string "[REDACTED]", expected u64"#,
            ),
            (
                r#"invalid value: string "tok", expected a date at line 3 column 7"#,
                r#"invalid value: string "[REDACTED]", expected a date at line 3 column 7"#,
            ),
            (
                "unknown variant `a`b`, expected one of `x`, `y`",
                "unknown variant `[REDACTED]`, expected one of `x`, `y`",
            ),
            ("invalid date `13/45/2020`", "invalid date `[REDACTED]`"),
            (r#"id "abc is not an integer"#, r#"id "[REDACTED]"#),
            ("missing field `userId`", "missing field `userId`"),
            (
                "expected `,` or `}` at line 1 column 5",
                "expected `,` or `}` at line 1 column 5",
            ),
            (
                "invalid length 3, expected 2",
                "invalid length 3, expected 2",
            ),
        ] {
            assert_eq!(redact_decode(given, &[]), want, "{given}");
        }
        assert_eq!(
            redact_decode("id hunter22 is out of range", &["hunter22"]),
            "id [REDACTED] is out of range"
        );
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
            let _ = redact_decode(text, &["€€€€"]);
        }
        for text in ["\"", "`", "\"\\", "é\"ü", "x, expected ", ", expected \"é"] {
            let _ = redact_decode(text, &[]);
        }
        assert_eq!(redact("é password=ü€ x", &[]), "é password=[REDACTED] x");
    }
}
