//! Directory feeds (Connect-style user lifecycles): the [`DirectoryFeed`]
//! trait a platform implements, and [`DirectorySource`], the
//! [`FactSource`] over it.

use access_engine::{DirectoryState, DirectoryUser, Facts, Profile, Scope};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::sources::{FactSource, SourceBatch, SourceError};

/// One user as a directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirectoryRecord {
    /// The user's id in the directory.
    pub user_id: String,
    /// Name and contact.
    pub profile: Profile,
    /// Lifecycle state: Active (gets the directory's groups), Suspended,
    /// Disabled (loses every managed group), Deleted (deleted if owned).
    pub state: DirectoryState,
}

impl DirectoryRecord {
    /// A record.
    pub fn new(user_id: impl Into<String>, profile: Profile, state: DirectoryState) -> Self {
        DirectoryRecord {
            user_id: user_id.into(),
            profile,
            state,
        }
    }
}

/// What a directory listed: its users, and the records it could not read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirectoryListing {
    /// The users.
    pub users: Vec<DirectoryRecord>,
    /// Records that could not be read (the directory is then marked
    /// incomplete, so none of its users loses access this run).
    pub skipped: Vec<String>,
    /// Requests made.
    pub calls: u64,
}

/// A directory of users with a lifecycle (essensys Connect and the like).
/// Implement [`list_users`](DirectoryFeed::list_users) over the platform's
/// API; wrap it in a [`DirectorySource`] to feed a [`crate::Syncer`].
///
/// A deleted user should still be listed (as [`DirectoryState::Deleted`])
/// for as long as the platform remembers it, so that its Brivo user is
/// deleted; a user who simply disappears loses its groups only.
#[async_trait]
pub trait DirectoryFeed: Send + Sync {
    /// The directory's id (the key of [`access_engine::Mappings::directories`]).
    fn directory_id(&self) -> &str;

    /// Every user of the directory, whatever its state.
    async fn list_users(&self) -> Result<DirectoryListing, SourceError>;
}

/// A [`FactSource`] over a [`DirectoryFeed`]; a failure or a skipped record
/// marks [`Scope::Directory`] incomplete.
///
/// ```
/// use access_engine::{DirectoryState, Profile};
/// use access_sync::directory::{DirectoryFeed, DirectoryListing, DirectoryRecord, DirectorySource};
/// use access_sync::{FactSource, SourceError, async_trait};
///
/// struct Connect;
///
/// #[async_trait]
/// impl DirectoryFeed for Connect {
///     fn directory_id(&self) -> &str { "connect-hq" }
///     async fn list_users(&self) -> Result<DirectoryListing, SourceError> {
///         let mut listing = DirectoryListing::default();
///         listing.users.push(DirectoryRecord::new(
///             "u1", Profile::new("Ada", "Lovelace"), DirectoryState::Active));
///         Ok(listing)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let source = DirectorySource::new(Connect);
/// let batch = source.fetch(chrono::Utc::now()).await.unwrap();
/// assert_eq!(batch.facts.directory_users[0].directory_id, "connect-hq");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DirectorySource<F> {
    feed: F,
    name: String,
}

impl<F: DirectoryFeed> DirectorySource<F> {
    /// A source over `feed`, named `directory:<id>`.
    pub fn new(feed: F) -> Self {
        let name = format!("directory:{}", feed.directory_id());
        DirectorySource { feed, name }
    }
}

#[async_trait]
impl<F: DirectoryFeed> FactSource for DirectorySource<F> {
    fn name(&self) -> &str {
        &self.name
    }

    fn scope(&self) -> Scope {
        Scope::Directory(self.feed.directory_id().to_owned())
    }

    async fn fetch(&self, _now: DateTime<Utc>) -> Result<SourceBatch, SourceError> {
        let listing = self.feed.list_users().await?;
        let directory_id = self.feed.directory_id().to_owned();
        let mut facts = Facts::default();
        facts.directory_users = listing
            .users
            .into_iter()
            .map(|r| DirectoryUser::new(directory_id.clone(), r.user_id, r.profile, r.state))
            .collect();
        let mut batch = SourceBatch::new(facts).with_calls(listing.calls);
        for s in listing.skipped {
            batch.mark_incomplete(Scope::Directory(directory_id.clone()), s);
        }
        Ok(batch)
    }
}
