//! Brivo's `{data, offset, pageSize, count}` envelope, paged as a lazy
//! stream, with bad records skipped and reported.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::client::{Client, Req, decode};
use crate::error::Error;
use crate::models::common::opt_lenient_u64;

/// Brivo's largest page.
pub const MAX_PAGE_SIZE: u32 = 100;

/// A record of a list answer that could not be read. It was left out of
/// the result; the rest of the answer was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedRecord {
    /// Its position in the whole listing (0-based, across pages).
    pub index: u64,
    /// Its `id`, if that much could be read.
    pub id: Option<i64>,
    /// Why it was skipped, with the JSON path of the bad value.
    pub reason: String,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The records that decoded.
    pub items: Vec<T>,
    /// The records that did not.
    pub skipped: Vec<SkippedRecord>,
    /// The offset this page starts at.
    pub offset: u64,
    /// `count`: the total for the query (not the page length), if sent.
    pub total: Option<u64>,
}

/// A whole listing (every page, or a sub-resource list that is not paged).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Listing<T> {
    /// The records that decoded.
    pub items: Vec<T>,
    /// The records that did not, each with its id when readable.
    pub skipped: Vec<SkippedRecord>,
    /// Brivo's `count` as of the last page read, if sent.
    pub total: Option<u64>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            skipped: Vec::new(),
            total: None,
        }
    }
}

impl<T> Listing<T> {
    /// `true` when no record had to be skipped.
    pub fn is_complete(&self) -> bool {
        self.skipped.is_empty()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    #[serde(default)]
    data: Option<Vec<serde_json::Value>>,
    #[serde(default, deserialize_with = "opt_lenient_u64")]
    count: Option<u64>,
}

/// Decodes an envelope, record by record.
pub(crate) fn decode_listing<T: DeserializeOwned>(
    name: &'static str,
    body: &[u8],
    first_index: u64,
) -> Result<(Listing<T>, Vec<serde_json::Value>), Error> {
    let envelope: Envelope = decode(name, body)?;
    let raw = envelope.data.unwrap_or_default();
    let mut listing = Listing {
        items: Vec::with_capacity(raw.len()),
        skipped: Vec::new(),
        total: envelope.count,
    };
    for (i, value) in raw.iter().enumerate() {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(item) => listing.items.push(item),
            Err(e) => {
                let id = value.get("id").and_then(|id| {
                    id.as_i64()
                        .or_else(|| id.as_str().and_then(|s| s.trim().parse().ok()))
                });
                let index = first_index + i as u64;
                // the decoder quotes the value it refused: not for logs
                let reason = format!(
                    "at `{}`: {}",
                    e.path(),
                    access_http::redact_decode(&e.inner().to_string(), &[])
                );
                tracing::warn!(method = name, index, ?id, %reason, "skipped a record Brivo sent");
                listing.skipped.push(SkippedRecord { index, id, reason });
            }
        }
    }
    Ok((listing, raw))
}

/// A lazy, paged listing. Nothing is sent until it is consumed.
///
/// - [`items`](Self::items): a `Stream` of records;
/// - [`pages`](Self::pages): a `Stream` of pages (with skipped records and
///   Brivo's `count`);
/// - [`collect_all`](Self::collect_all): everything, as one [`Listing`].
///
/// Paging asks for `pageSize=100` (Brivo's maximum) and advances `offset`
/// by the number of records received. It stops at an empty page, when the
/// offset reaches `count`, or, without a `count`, at a short page. A
/// server that sends the same page twice, or pages past `max_pages`, ends
/// the stream with [`Error::Pagination`]. The stream ends at the first
/// error. Offset paging is not a snapshot: records created or deleted
/// while paging may be missed or seen twice.
///
/// ```no_run
/// # async fn run(client: brivo_client::Client) -> Result<(), brivo_client::Error> {
/// use brivo_client::UserQuery;
/// use futures::TryStreamExt;
///
/// let mut users = client.list_users(UserQuery::default()).items();
/// while let Some(user) = users.try_next().await? {
///     println!("{} {}", user.id, user.display_name());
/// }
/// # Ok(()) }
/// ```
#[must_use = "a Paginator does nothing until consumed"]
pub struct Paginator<T> {
    client: Client,
    name: &'static str,
    url: Url,
    page_size: u32,
    max_pages: u64,
    /// An argument problem found when the paginator was made, reported by
    /// the first poll.
    invalid: Option<String>,
    _item: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Paginator<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paginator")
            .field("method", &self.name)
            .field("url", &self.url.as_str())
            .field("page_size", &self.page_size)
            .field("max_pages", &self.max_pages)
            .finish()
    }
}

struct State {
    offset: u64,
    done: bool,
    pages: u64,
    last: Option<u64>,
}

impl<T: DeserializeOwned + Send + 'static> Paginator<T> {
    pub(crate) fn new(client: &Client, name: &'static str, url: Url) -> Self {
        Self {
            client: client.clone(),
            name,
            url,
            page_size: MAX_PAGE_SIZE,
            max_pages: 100_000,
            invalid: None,
            _item: PhantomData,
        }
    }

    /// Names the paginator after another client method (in errors and logs).
    pub(crate) fn rename(&mut self, name: &'static str) {
        self.name = name;
    }

    /// Appends a query parameter to every page request.
    pub(crate) fn with_query(mut self, key: &str, value: &str) -> Self {
        self.url.query_pairs_mut().append_pair(key, value);
        self
    }

    /// Adds Brivo's `filter` parameter, or records why it cannot be sent.
    pub(crate) fn with_filter(self, filter: Result<Option<String>, String>) -> Self {
        match filter {
            Ok(Some(f)) => self.with_query("filter", &f),
            Ok(None) => self,
            Err(message) => Self {
                invalid: Some(message),
                ..self
            },
        }
    }

    /// Records per page, 1 to 100 (clamped). Default 100.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// Gives up with [`Error::Pagination`] after this many pages
    /// (default 100,000).
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// The pages, fetched one at a time as the stream is polled. The
    /// stream is boxed (`Send`, `Unpin`, `'static`): it can be polled
    /// without pinning, stored, or moved into a task.
    pub fn pages(self) -> BoxStream<'static, Result<Page<T>, Error>> {
        let state = State {
            offset: 0,
            done: false,
            pages: 0,
            last: None,
        };
        stream::try_unfold((self, state), |(this, mut st)| async move {
            if st.done {
                return Ok(None);
            }
            if let Some(message) = this.invalid.clone() {
                return Err(Error::InvalidArgument {
                    method: this.name,
                    message,
                });
            }
            if st.pages >= this.max_pages {
                return Err(Error::Pagination {
                    method: this.name,
                    message: format!("more than {} pages; giving up", this.max_pages),
                });
            }
            let mut url = this.url.clone();
            url.query_pairs_mut()
                .append_pair("offset", &st.offset.to_string())
                .append_pair("pageSize", &this.page_size.to_string());
            let req = Req {
                name: this.name,
                verb: Method::GET,
                url,
                body: None,
                idempotent: true,
            };
            let answer = this.client.execute(&req).await?;
            let (listing, raw) = decode_listing::<T>(this.name, &answer.body, st.offset)?;
            st.pages += 1;
            let received = raw.len() as u64;
            if received > 0 {
                let mut h = DefaultHasher::new();
                for v in &raw {
                    v.to_string().hash(&mut h);
                }
                let fingerprint = h.finish();
                if st.last == Some(fingerprint) {
                    return Err(Error::Pagination {
                        method: this.name,
                        message: format!(
                            "Brivo sent the same page again for offset {}; the server ignores paging",
                            st.offset
                        ),
                    });
                }
                st.last = Some(fingerprint);
            }
            let page = Page {
                items: listing.items,
                skipped: listing.skipped,
                offset: st.offset,
                total: listing.total,
            };
            st.offset += received;
            st.done = received == 0
                || match page.total {
                    Some(total) => st.offset >= total,
                    None => received < u64::from(this.page_size),
                };
            Ok(Some((page, (this, st))))
        })
        .boxed()
    }

    /// The records, one at a time. Skipped records are logged (`warn`) and
    /// left out; use [`pages`](Self::pages) or
    /// [`collect_all`](Self::collect_all) to see them.
    pub fn items(self) -> BoxStream<'static, Result<T, Error>> {
        self.pages()
            .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Every page, collected.
    ///
    /// # Errors
    /// The first error of any page; records skipped so far are lost then.
    pub async fn collect_all(self) -> Result<Listing<T>, Error> {
        let mut pages = self.pages();
        let mut all = Listing::default();
        while let Some(page) = pages.next().await {
            let page = page?;
            all.items.extend(page.items);
            all.skipped.extend(page.skipped);
            all.total = page.total.or(all.total);
        }
        Ok(all)
    }

    /// Brivo's `count` for the query, at the cost of one call (a page of one).
    ///
    /// # Errors
    /// As for any call.
    pub async fn total(self) -> Result<Option<u64>, Error> {
        let mut pages = self.page_size(1).max_pages(1).pages();
        match pages.next().await {
            Some(page) => Ok(page?.total),
            None => Ok(None),
        }
    }
}
