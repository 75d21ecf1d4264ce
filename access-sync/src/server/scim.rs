//! A SCIM 2.0 directory (RFC 7643 and 7644, the core User resource) that a
//! Connect-style platform or an identity provider pushes users into, and
//! that feeds the runner as a [`DirectoryFeed`].
//!
//! What the platform does and what Brivo sees:
//!
//! | SCIM request | directory state | the runner in Brivo |
//! |---|---|---|
//! | `POST /Users` (`active` true or absent) | Active | creates the user (owned), adds the directory's groups |
//! | `PATCH` or `PUT` with `active: false` | Suspended | suspends the user, keeps its groups |
//! | `PATCH` or `PUT` with `active: true` | Active | unsuspends it |
//! | `DELETE /Users/{id}` | Deleted | deletes the Brivo user **if this integration created it**; a user it did not create only loses the managed groups |
//!
//! The usual safety rules hold: the directory is a scope like any other,
//! so an empty or vanished listing holds revocations rather than revoking
//! everyone, and the mass-revocation threshold applies.
//!
//! Users are kept in memory and, with [`ScimDirectory::open`], in a JSON
//! file (mode 0600: it holds names and emails) rewritten atomically on
//! every change, so a restart forgets nothing. A directory with no file is
//! not ready until the platform's first push: until then its fetch fails,
//! which holds every revocation it feeds, instead of reading "nobody" and
//! revoking everyone. A deleted user is remembered for
//! [`TOMBSTONE_DAYS`] so the runner sees the deletion even after a pause.
//!
//! Supported: create, get, list with `filter=userName eq "..."` or
//! `externalId eq "..."` and `startIndex`/`count` paging, replace (PUT),
//! patch (`replace`/`add` of `active`, `userName`, `externalId`,
//! `displayName`, `name.givenName`, `name.familyName`, `emails`,
//! `phoneNumbers`; `remove` of `externalId`), delete; bearer-token
//! authentication. Attributes it does not use are ignored, as RFC 7644
//! allows. `/ServiceProviderConfig` and `/ResourceTypes` describe this
//! (no token needed: they hold no user data). Not supported: Groups, Bulk,
//! ETags on requests, sorting, `/Schemas`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use access_engine::{DirectoryState, Profile};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::directory::{DirectoryFeed, DirectoryListing, DirectoryRecord};
use crate::error::ErrorKind;
use crate::sources::SourceError;

/// How long a deleted user is still listed (as Deleted) for the runner.
pub const TOMBSTONE_DAYS: i64 = 30;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The most users one list answer holds.
pub const MAX_PAGE: usize = 200;

/// `GET /ServiceProviderConfig` (RFC 7643 section 5): patch and `eq` filters on
/// `userName`/`externalId`, pages of [`MAX_PAGE`], a bearer token; no bulk,
/// sort, ETags or password changes.
pub(crate) fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_PAGE},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "Authorization: Bearer <the runner's SCIM_BEARER_TOKEN>",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}

/// `GET /ResourceTypes` (RFC 7643 section 6): Users only.
pub(crate) fn resource_types(base: &str) -> Value {
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "schema": USER_SCHEMA,
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
    });
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": 1,
        "startIndex": 1,
        "itemsPerPage": 1,
        "Resources": [user],
    })
}

/// `GET /Schemas` (RFC 7643 section 7): the User attributes the directory
/// keeps; any other attribute sent is ignored.
pub(crate) fn schemas(base: &str) -> Value {
    let attr = |name: &str, kind: &str, required: bool, extra: Value| {
        let mut a = json!({
            "name": name, "type": kind, "multiValued": false, "required": required,
            "caseExact": false, "mutability": "readWrite", "returned": "default",
            "uniqueness": "none",
        });
        if let (Some(a), Some(extra)) = (a.as_object_mut(), extra.as_object()) {
            a.extend(extra.clone());
        }
        a
    };
    let multi = |name: &str| {
        attr(
            name,
            "complex",
            false,
            json!({"multiValued": true, "subAttributes": [
                attr("value", "string", true, json!({})),
                attr("primary", "boolean", false, json!({})),
            ]}),
        )
    };
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A person the directory lets through Brivo's doors while active",
        "attributes": [
            attr("userName", "string", true, json!({"uniqueness": "server"})),
            attr("externalId", "string", false, json!({"caseExact": true})),
            attr("displayName", "string", false, json!({})),
            attr("name", "complex", false, json!({"subAttributes": [
                attr("givenName", "string", false, json!({})),
                attr("familyName", "string", false, json!({})),
            ]})),
            attr("active", "boolean", false, json!({})),
            multi("emails"),
            multi("phoneNumbers"),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{USER_SCHEMA}")},
    });
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": 1,
        "startIndex": 1,
        "itemsPerPage": 1,
        "Resources": [user],
    })
}

/// One user as the directory keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct User {
    id: String,
    user_name: String,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    phones: Vec<String>,
    active: bool,
    #[serde(default)]
    deleted: Option<DateTime<Utc>>,
    created: DateTime<Utc>,
    last_modified: DateTime<Utc>,
    version: u64,
}

impl User {
    fn profile(&self) -> Profile {
        let (first, last) = match (self.given_name.is_empty(), self.family_name.is_empty()) {
            (true, true) => match self
                .display_name
                .as_deref()
                .and_then(|d| d.rsplit_once(' '))
            {
                Some((f, l)) => (f.to_owned(), l.to_owned()),
                None => (String::new(), self.user_name.clone()),
            },
            _ => (self.given_name.clone(), self.family_name.clone()),
        };
        let mut p = Profile::new(first, last);
        if let Some(e) = self.emails.first() {
            p = p.with_email(e.clone());
        }
        if let Some(t) = self.phones.first() {
            p = p.with_phone(t.clone());
        }
        p
    }

    fn state(&self) -> DirectoryState {
        match (self.deleted, self.active) {
            (Some(_), _) => DirectoryState::Deleted,
            (None, true) => DirectoryState::Active,
            (None, false) => DirectoryState::Suspended,
        }
    }

    fn to_scim(&self, base: &str) -> Value {
        let mut v = json!({
            "schemas": [USER_SCHEMA],
            "id": self.id,
            "userName": self.user_name,
            "name": {"givenName": self.given_name, "familyName": self.family_name},
            "active": self.active,
            "emails": self.emails.iter().enumerate()
                .map(|(i, e)| json!({"value": e, "primary": i == 0})).collect::<Vec<_>>(),
            "phoneNumbers": self.phones.iter().map(|p| json!({"value": p})).collect::<Vec<_>>(),
            "meta": {
                "resourceType": "User",
                "created": self.created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "lastModified": self.last_modified.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "location": format!("{base}/Users/{}", self.id),
            },
        });
        if let Some(x) = &self.external_id {
            v["externalId"] = json!(x);
        }
        if let Some(d) = &self.display_name {
            v["displayName"] = json!(d);
        }
        v
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    directory_id: String,
    users: Vec<User>,
}

#[derive(Debug, Default)]
struct Store {
    users: BTreeMap<String, User>,
    ready: bool,
}

#[derive(Debug)]
struct Inner {
    directory_id: String,
    path: Option<PathBuf>,
    store: Mutex<Store>,
}

/// The SCIM directory: serve it with [`Routes::scim`](super::Routes::scim)
/// and feed it to a [`Syncer`](crate::Syncer) with
/// [`DirectorySource`](crate::DirectorySource). Cheap to clone; clones
/// share the users.
///
/// ```
/// use access_sync::server::ScimDirectory;
/// use access_sync::DirectorySource;
///
/// let dir = std::env::temp_dir().join(format!("scim-doc-{}", std::process::id()));
/// let scim = ScimDirectory::open("connect-hq", dir.join("users.json"))?;
/// let source = DirectorySource::new(scim.clone()); // .source(source) on the SyncerBuilder
/// // Routes::new(monitor).scim(scim, token, syncer.waker()).into_router()
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ScimDirectory {
    inner: Arc<Inner>,
}

/// A SCIM error answer: its HTTP status, `scimType` and detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScimError {
    pub(crate) status: u16,
    pub(crate) scim_type: Option<&'static str>,
    pub(crate) detail: String,
}

impl ScimError {
    fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    fn not_found(id: &str) -> Self {
        Self::new(404, None, format!("no user {id}"))
    }

    fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    pub(crate) fn body(&self) -> Value {
        let mut v = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            v["scimType"] = json!(t);
        }
        v
    }
}

impl ScimDirectory {
    /// A directory kept in memory only: not ready (its fetch fails, holding
    /// revocations) until the platform's first push after each start.
    pub fn in_memory(directory_id: impl Into<String>) -> Self {
        ScimDirectory {
            inner: Arc::new(Inner {
                directory_id: directory_id.into(),
                path: None,
                store: Mutex::new(Store::default()),
            }),
        }
    }

    /// A directory kept in the JSON file at `path` (created, mode 0600,
    /// with its directory, on the first push). Ready at once if the file
    /// exists.
    ///
    /// # Errors
    /// The file exists but cannot be read or is not this directory's (its
    /// directory id differs): refuse to start rather than serve another
    /// directory's users.
    pub fn open(
        directory_id: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> std::io::Result<Self> {
        let directory_id = directory_id.into();
        let path = path.into();
        let mut store = Store::default();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let saved: Saved = serde_json::from_slice(&bytes).map_err(|e| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{}: not a SCIM user store: {e}", path.display()),
                    )
                })?;
                if saved.directory_id != directory_id {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "{} holds directory {:?}, not {directory_id:?}: point each directory at its own file",
                            path.display(),
                            saved.directory_id
                        ),
                    ));
                }
                store.users = saved.users.into_iter().map(|u| (u.id.clone(), u)).collect();
                store.ready = true;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("{}: {e}", path.display()),
                ));
            }
        }
        Ok(ScimDirectory {
            inner: Arc::new(Inner {
                directory_id,
                path: Some(path),
                store: Mutex::new(store),
            }),
        })
    }

    /// Creates the file at `path` holding an empty directory, ready at
    /// once: for a directory that is known to have no users yet (a new
    /// platform, a sandbox). Refuses a file that exists.
    ///
    /// # Errors
    /// The file exists, or cannot be written.
    pub fn create_empty(
        directory_id: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> std::io::Result<Self> {
        let directory_id = directory_id.into();
        let path = path.into();
        if path.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists: open it instead", path.display()),
            ));
        }
        save(&path, &directory_id, &BTreeMap::new())?;
        Self::open(directory_id, path)
    }

    /// Users listed (deleted ones included, until their tombstone expires).
    pub fn len(&self) -> usize {
        self.store().users.len()
    }

    /// Whether no user is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.inner
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `change` to a copy of the users, saves the copy, and only
    /// then makes it current: a failed save changes nothing.
    fn change<T>(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, User>, DateTime<Utc>) -> Result<T, ScimError>,
    ) -> Result<T, ScimError> {
        let now = Utc::now();
        let mut store = self.store();
        let mut users = store.users.clone();
        let out = change(&mut users, now)?;
        let cutoff = now - chrono::Duration::days(TOMBSTONE_DAYS);
        users.retain(|_, u| u.deleted.is_none_or(|d| d > cutoff));
        if let Some(path) = &self.inner.path {
            save(path, &self.inner.directory_id, &users).map_err(|e| {
                tracing::error!(error = %e, path = %path.display(), "could not save the SCIM users");
                ScimError::new(500, None, "the directory could not be saved; nothing was changed")
            })?;
        }
        store.users = users;
        store.ready = true;
        Ok(out)
    }

    pub(crate) fn create(&self, body: &Value, base: &str) -> Result<Value, ScimError> {
        let input = UserInput::from_value(body)?;
        self.change(|users, now| {
            taken(users, &input.user_name, None)?;
            let user = input.into_user(new_id(users), now);
            let out = user.to_scim(base);
            users.insert(user.id.clone(), user);
            Ok(out)
        })
    }

    pub(crate) fn get(&self, id: &str, base: &str) -> Result<Value, ScimError> {
        match self.store().users.get(id) {
            Some(u) if u.deleted.is_none() => Ok(u.to_scim(base)),
            _ => Err(ScimError::not_found(id)),
        }
    }

    pub(crate) fn list(
        &self,
        filter: Option<&str>,
        start_index: Option<usize>,
        count: Option<usize>,
        base: &str,
    ) -> Result<Value, ScimError> {
        let filter = filter.map(Filter::parse).transpose()?;
        let store = self.store();
        let matching: Vec<&User> = store
            .users
            .values()
            .filter(|u| u.deleted.is_none())
            .filter(|u| filter.as_ref().is_none_or(|f| f.matches(u)))
            .collect();
        // RFC 7644 3.4.2.4: startIndex below 1 is 1; count is capped
        let start = start_index.unwrap_or(1).max(1);
        let count = count.unwrap_or(MAX_PAGE).min(MAX_PAGE);
        let page: Vec<Value> = matching
            .iter()
            .skip(start - 1)
            .take(count)
            .map(|u| u.to_scim(base))
            .collect();
        Ok(json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": matching.len(),
            "startIndex": start,
            "itemsPerPage": page.len(),
            "Resources": page,
        }))
    }

    pub(crate) fn replace(&self, id: &str, body: &Value, base: &str) -> Result<Value, ScimError> {
        let input = UserInput::from_value(body)?;
        self.change(|users, now| {
            let old = live(users, id)?.clone();
            taken(users, &input.user_name, Some(id))?;
            let keep_active = input.active.is_none();
            let mut user = input.into_user(old.id.clone(), now);
            if keep_active {
                user.active = old.active;
            }
            user.created = old.created;
            user.version = old.version + 1;
            let out = user.to_scim(base);
            users.insert(user.id.clone(), user);
            Ok(out)
        })
    }

    pub(crate) fn patch(&self, id: &str, body: &Value, base: &str) -> Result<Value, ScimError> {
        let ops = patch_ops(body)?;
        self.change(|users, now| {
            let mut user = live(users, id)?.clone();
            for op in &ops {
                op.apply(&mut user)?;
            }
            if user.user_name.trim().is_empty() {
                return Err(ScimError::bad("invalidValue", "userName cannot be empty"));
            }
            taken(users, &user.user_name, Some(id))?;
            user.last_modified = now;
            user.version += 1;
            let out = user.to_scim(base);
            users.insert(user.id.clone(), user);
            Ok(out)
        })
    }

    pub(crate) fn delete(&self, id: &str) -> Result<(), ScimError> {
        self.change(|users, now| {
            let user = users
                .get_mut(id)
                .filter(|u| u.deleted.is_none())
                .ok_or_else(|| ScimError::not_found(id))?;
            user.deleted = Some(now);
            user.active = false;
            user.last_modified = now;
            user.version += 1;
            Ok(())
        })
    }
}

#[async_trait]
impl DirectoryFeed for ScimDirectory {
    fn directory_id(&self) -> &str {
        &self.inner.directory_id
    }

    async fn list_users(&self) -> Result<DirectoryListing, SourceError> {
        let store = self.store();
        if !store.ready {
            return Err(SourceError::new(
                "scim",
                "no SCIM push received since the start and no saved directory: \
                 the directory's revocations are held until the platform pushes",
            )
            .with_kind(ErrorKind::Transient));
        }
        Ok(DirectoryListing {
            users: store
                .users
                .values()
                .map(|u| DirectoryRecord::new(u.id.clone(), u.profile(), u.state()))
                .collect(),
            ..DirectoryListing::default()
        })
    }
}

fn save(path: &Path, directory_id: &str, users: &BTreeMap<String, User>) -> std::io::Result<()> {
    use std::io::Write;
    let saved = Saved {
        directory_id: directory_id.to_owned(),
        users: users.values().cloned().collect(),
    };
    let bytes = serde_json::to_vec_pretty(&saved).map_err(std::io::Error::other)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    // the rename itself survives a power cut only once the directory is synced
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn new_id(users: &BTreeMap<String, User>) -> String {
    loop {
        let id = format!("{:016x}", fastrand::u64(..));
        if !users.contains_key(&id) {
            return id;
        }
    }
}

fn live<'a>(users: &'a BTreeMap<String, User>, id: &str) -> Result<&'a User, ScimError> {
    users
        .get(id)
        .filter(|u| u.deleted.is_none())
        .ok_or_else(|| ScimError::not_found(id))
}

/// userName is unique among live users, compared without case (RFC 7643
/// 4.1.1: caseExact false).
fn taken(
    users: &BTreeMap<String, User>,
    user_name: &str,
    except: Option<&str>,
) -> Result<(), ScimError> {
    let clash = users.values().any(|u| {
        u.deleted.is_none()
            && Some(u.id.as_str()) != except
            && u.user_name.eq_ignore_ascii_case(user_name)
    });
    if clash {
        return Err(ScimError::new(
            409,
            Some("uniqueness"),
            format!("userName {user_name:?} is taken"),
        ));
    }
    Ok(())
}

/// The attributes a create or replace carries.
struct UserInput {
    user_name: String,
    external_id: Option<String>,
    given_name: String,
    family_name: String,
    display_name: Option<String>,
    emails: Vec<String>,
    phones: Vec<String>,
    /// `None` when the body leaves it out: a create makes the user
    /// active, a replace keeps what the user was (a PUT that forgets
    /// `active` must not lift a suspension).
    active: Option<bool>,
}

impl UserInput {
    fn from_value(v: &Value) -> Result<Self, ScimError> {
        let obj = v
            .as_object()
            .ok_or_else(|| ScimError::bad("invalidSyntax", "the body is not a JSON object"))?;
        let user_name = match attr(obj, "userName") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
            _ => {
                return Err(ScimError::bad(
                    "invalidValue",
                    "userName is required (a non-empty string)",
                ));
            }
        };
        let name = attr(obj, "name");
        let active = match attr(obj, "active") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                boolean(v)
                    .ok_or_else(|| ScimError::bad("invalidValue", "active must be a boolean"))?,
            ),
        };
        Ok(UserInput {
            user_name,
            external_id: attr(obj, "externalId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            given_name: name
                .and_then(|n| n.get("givenName"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            family_name: name
                .and_then(|n| n.get("familyName"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            display_name: attr(obj, "displayName")
                .and_then(Value::as_str)
                .map(str::to_owned),
            emails: multi(attr(obj, "emails"))?,
            phones: multi(attr(obj, "phoneNumbers"))?,
            active,
        })
    }

    fn into_user(self, id: String, now: DateTime<Utc>) -> User {
        User {
            id,
            user_name: self.user_name,
            external_id: self.external_id,
            given_name: self.given_name,
            family_name: self.family_name,
            display_name: self.display_name,
            emails: self.emails,
            phones: self.phones,
            active: self.active.unwrap_or(true),
            deleted: None,
            created: now,
            last_modified: now,
            version: 1,
        }
    }
}

/// An attribute by name, without case (RFC 7643 2.1).
fn attr<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A boolean, or the strings "true" and "false" that some identity
/// providers send (Microsoft Entra ID's PATCH does).
fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A multi-valued attribute's values, the primary one first.
fn multi(v: Option<&Value>) -> Result<Vec<String>, ScimError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let items = v
        .as_array()
        .ok_or_else(|| ScimError::bad("invalidValue", "emails and phoneNumbers must be arrays"))?;
    let mut values: Vec<(bool, String)> = items
        .iter()
        .filter_map(|i| {
            let value = i.get("value")?.as_str()?.trim();
            let primary = i.get("primary").and_then(boolean).unwrap_or(false);
            (!value.is_empty()).then(|| (primary, value.to_owned()))
        })
        .collect();
    values.sort_by_key(|(primary, _)| !primary); // stable: primary first, else as sent
    Ok(values.into_iter().map(|(_, v)| v).collect())
}

/// The filters the directory answers: the ones provisioning clients use to
/// look a user up before creating it.
enum Filter {
    UserName(String),
    ExternalId(String),
}

impl Filter {
    fn parse(text: &str) -> Result<Self, ScimError> {
        let invalid = || {
            ScimError::bad(
                "invalidFilter",
                format!(
                    "unsupported filter {text:?}: only userName eq \"...\" and externalId eq \"...\""
                ),
            )
        };
        let (attribute, value) = eq_filter(text).ok_or_else(invalid)?;
        let attribute = core_path(attribute);
        if attribute.eq_ignore_ascii_case("userName") {
            Ok(Filter::UserName(value))
        } else if attribute.eq_ignore_ascii_case("externalId") {
            Ok(Filter::ExternalId(value))
        } else {
            Err(invalid())
        }
    }

    /// The `"x"` of a `value eq "x"` filter.
    fn value_eq(text: &str) -> Option<String> {
        eq_filter(text)
            .filter(|(attribute, _)| attribute.eq_ignore_ascii_case("value"))
            .map(|(_, value)| value)
    }

    fn matches(&self, u: &User) -> bool {
        match self {
            Filter::UserName(n) => u.user_name.eq_ignore_ascii_case(n),
            // externalId is caseExact (RFC 7643 3.1)
            Filter::ExternalId(x) => u.external_id.as_deref() == Some(x.as_str()),
        }
    }
}

/// `attribute eq "value"`, separated by any run of spaces: the attribute
/// and the value (a JSON string); `None` for another operator or a value
/// that is not a string.
fn eq_filter(text: &str) -> Option<(&str, String)> {
    let (attribute, rest) = text.trim_start().split_once(char::is_whitespace)?;
    let (op, value) = rest.trim_start().split_once(char::is_whitespace)?;
    if !op.eq_ignore_ascii_case("eq") {
        return None;
    }
    Some((attribute, serde_json::from_str(value.trim()).ok()?))
}

/// One PATCH operation (RFC 7644 3.5.2).
struct PatchOp {
    op: String,
    path: Option<String>,
    value: Option<Value>,
}

fn patch_ops(body: &Value) -> Result<Vec<PatchOp>, ScimError> {
    let schemas_ok = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(PATCH_SCHEMA)));
    if !schemas_ok {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("a PATCH body names the schema {PATCH_SCHEMA}"),
        ));
    }
    let ops = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::bad("invalidSyntax", "a PATCH body has an Operations array"))?;
    ops.iter()
        .map(|o| {
            let op = o
                .get("op")
                .and_then(Value::as_str)
                .ok_or_else(|| ScimError::bad("invalidSyntax", "every operation has an op"))?
                .to_ascii_lowercase();
            if !matches!(op.as_str(), "add" | "replace" | "remove") {
                return Err(ScimError::bad(
                    "invalidSyntax",
                    format!("unknown op {op:?}"),
                ));
            }
            Ok(PatchOp {
                op,
                path: o.get("path").and_then(Value::as_str).map(str::to_owned),
                value: o.get("value").cloned(),
            })
        })
        .collect()
}

impl PatchOp {
    fn apply(&self, user: &mut User) -> Result<(), ScimError> {
        // a path that is the core schema itself addresses the whole user,
        // like no path (`{"path": "urn:...:User", "value": {"active": false}}`)
        let path = self
            .path
            .as_deref()
            .filter(|p| !p.eq_ignore_ascii_case(USER_SCHEMA))
            .map(core_path);
        match (path, self.op.as_str()) {
            (Some(path), "remove") => remove(user, path),
            (Some(path), op) => {
                let value = self
                    .value
                    .as_ref()
                    .ok_or_else(|| ScimError::bad("invalidValue", format!("{path}: no value")))?;
                add_or_set(user, op, path, value)
            }
            (None, "remove") => Err(ScimError::bad("noTarget", "remove needs a path")),
            (None, op) => {
                // no path: the value is an object of attributes to set
                let obj = self
                    .value
                    .as_ref()
                    .and_then(Value::as_object)
                    .ok_or_else(|| {
                        ScimError::bad("invalidValue", "an op without a path takes an object")
                    })?;
                obj.iter().try_for_each(|(k, v)| {
                    // `{"urn:...:core:2.0:User": {...}}` holds core attributes
                    match v.as_object() {
                        Some(inner) if k.eq_ignore_ascii_case(USER_SCHEMA) => inner
                            .iter()
                            .try_for_each(|(k, v)| add_or_set(user, op, core_path(k), v)),
                        _ => add_or_set(user, op, core_path(k), v),
                    }
                })
            }
        }
    }
}

/// A path without the core User schema in front
/// (`urn:ietf:params:scim:schemas:core:2.0:User:active` is `active`, RFC
/// 7644 3.10): Microsoft Entra ID and others send either form, and a
/// suspension must not be ignored for its spelling.
fn core_path(path: &str) -> &str {
    let (schema, bytes) = (USER_SCHEMA.as_bytes(), path.as_bytes());
    // compared as bytes: the schema is ASCII, the path may not be
    if bytes.len() > schema.len()
        && bytes[..schema.len()].eq_ignore_ascii_case(schema)
        && bytes[schema.len()] == b':'
    {
        &path[schema.len() + 1..]
    } else {
        path
    }
}

/// `add` to a multi-valued attribute appends (RFC 7644 3.5.2.1); anything
/// else sets.
fn add_or_set(user: &mut User, op: &str, path: &str, value: &Value) -> Result<(), ScimError> {
    match (op, path.to_ascii_lowercase().as_str()) {
        ("add", "emails") => append(&mut user.emails, multi(Some(value))?),
        ("add", "phonenumbers") => append(&mut user.phones, multi(Some(value))?),
        _ => return set(user, path, value),
    }
    Ok(())
}

/// Sets one attribute by its path; attributes the directory does not keep
/// are ignored (RFC 7644 3.5.2: the service provider decides what it keeps).
fn set(user: &mut User, path: &str, value: &Value) -> Result<(), ScimError> {
    let text = || {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ScimError::bad("invalidValue", format!("{path} must be a string")))
    };
    let lower = path.to_ascii_lowercase();
    match lower.as_str() {
        "active" => {
            user.active = boolean(value)
                .ok_or_else(|| ScimError::bad("invalidValue", "active must be a boolean"))?;
        }
        "username" => user.user_name = text()?.trim().to_owned(),
        "externalid" => user.external_id = Some(text()?),
        "displayname" => user.display_name = Some(text()?),
        "name.givenname" => user.given_name = text()?,
        "name.familyname" => user.family_name = text()?,
        "name" => {
            if let Some(g) = value.get("givenName").and_then(Value::as_str) {
                user.given_name = g.to_owned();
            }
            if let Some(f) = value.get("familyName").and_then(Value::as_str) {
                user.family_name = f.to_owned();
            }
        }
        "emails" => user.emails = multi(Some(value))?,
        "phonenumbers" => user.phones = multi(Some(value))?,
        // e.g. emails[type eq "work"].value, as Microsoft Entra ID sends it
        p if p.starts_with("emails[") && p.ends_with("].value") => {
            set_first(&mut user.emails, text()?)
        }
        p if p.starts_with("phonenumbers[") && p.ends_with("].value") => {
            set_first(&mut user.phones, text()?);
        }
        // a spelling of `active` not understood must not answer 200 and
        // leave a suspension undone
        p if p.contains("active") => {
            return Err(ScimError::bad(
                "invalidPath",
                format!("{path}: not understood; set `active` to suspend or reinstate"),
            ));
        }
        _ => tracing::debug!(path, "SCIM attribute not kept; ignored"),
    }
    Ok(())
}

/// Removes one attribute (RFC 7644 3.5.2.2): what the directory keeps is
/// cleared; `userName` and `active` are required and cannot be; attributes
/// it does not keep are ignored, as on set.
fn remove(user: &mut User, path: &str) -> Result<(), ScimError> {
    let lower = path.to_ascii_lowercase();
    match lower.as_str() {
        "username" | "active" => {
            return Err(ScimError::bad(
                "mutability",
                format!("{path} cannot be removed"),
            ));
        }
        "externalid" => user.external_id = None,
        "displayname" => user.display_name = None,
        "name" => {
            user.given_name.clear();
            user.family_name.clear();
        }
        "name.givenname" => user.given_name.clear(),
        "name.familyname" => user.family_name.clear(),
        // `emails[value eq "x"]` removes that one; the directory keeps no
        // types, so any other filter clears them all
        p if p.starts_with("emails[") => remove_matching(&mut user.emails, path),
        p if p.starts_with("phonenumbers[") => remove_matching(&mut user.phones, path),
        "emails" => user.emails.clear(),
        "phonenumbers" => user.phones.clear(),
        _ => tracing::debug!(path, "SCIM attribute not kept; remove ignored"),
    }
    Ok(())
}

/// Removes the values a `attr[value eq "x"]` path names, or all of them
/// for a filter on anything else.
fn remove_matching(values: &mut Vec<String>, path: &str) {
    let inner = path
        .split_once('[')
        .and_then(|(_, rest)| rest.strip_suffix(']'))
        .unwrap_or("");
    match Filter::value_eq(inner) {
        Some(v) => values.retain(|x| !x.eq_ignore_ascii_case(&v)),
        None => values.clear(),
    }
}

fn append(values: &mut Vec<String>, more: Vec<String>) {
    for v in more {
        if !values.iter().any(|x| x.eq_ignore_ascii_case(&v)) {
            values.push(v);
        }
    }
}

fn set_first(values: &mut Vec<String>, value: String) {
    match values.first_mut() {
        Some(first) => *first = value,
        None => values.push(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> Value {
        json!({"schemas": [USER_SCHEMA], "userName": name,
               "name": {"givenName": "Ada", "familyName": "Byron"},
               "emails": [{"value": "other@example.com"}, {"value": "ada@example.com", "primary": true}]})
    }

    fn patch(ops: Value) -> Value {
        json!({"schemas": [PATCH_SCHEMA], "Operations": ops})
    }

    #[tokio::test]
    async fn not_ready_until_the_first_push_then_lists_every_state() {
        let d = ScimDirectory::in_memory("hq");
        let e = d.list_users().await.unwrap_err();
        assert!(e.is_retryable(), "{e}");

        let a = d.create(&user("ada"), "").unwrap();
        let b = d.create(&user("bob"), "").unwrap();
        let c = d.create(&user("cy"), "").unwrap();
        let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
        d.patch(
            &id(&b),
            &patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
            "",
        )
        .unwrap();
        d.delete(&id(&c)).unwrap();

        let listing = d.list_users().await.unwrap();
        let states: BTreeMap<_, _> = listing
            .users
            .iter()
            .map(|u| (u.user_id.clone(), u.state))
            .collect();
        assert_eq!(states[&id(&a)], DirectoryState::Active);
        assert_eq!(states[&id(&b)], DirectoryState::Suspended);
        assert_eq!(states[&id(&c)], DirectoryState::Deleted);
        let ada = listing.users.iter().find(|u| u.user_id == id(&a)).unwrap();
        assert_eq!(
            ada.profile.email.as_deref(),
            Some("ada@example.com"),
            "primary first"
        );
        assert_eq!(d.get(&id(&c), "").unwrap_err().status, 404);
    }

    /// The forms identity providers send to suspend someone: each must
    /// suspend, none may be ignored for its spelling.
    #[test]
    fn every_spelling_of_a_suspension_suspends() {
        let d = ScimDirectory::in_memory("hq");
        for (i, ops) in [
            json!([{"op": "replace", "path": "active", "value": false}]),
            json!([{"op": "Replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active", "value": "False"}]),
            // Okta, Microsoft Entra ID: no path, an object of attributes
            json!([{"op": "replace", "value": {"active": false}}]),
            json!([{"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User:active": false}}]),
            json!([{"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User": {"active": false}}}]),
            json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User", "value": {"active": false}}]),
        ]
        .into_iter()
        .enumerate()
        {
            let u = d.create(&user(&format!("u{i}")), "").unwrap();
            let id = u["id"].as_str().unwrap();
            let after = d.patch(id, &patch(ops.clone()), "").unwrap();
            assert_eq!(after["active"], false, "{ops}");
        }
    }

    #[test]
    fn an_active_not_understood_is_refused_not_ignored() {
        let d = ScimDirectory::in_memory("hq");
        let u = d.create(&user("ada"), "").unwrap();
        let id = u["id"].as_str().unwrap();
        for path in [
            "activeFlag",
            "urn:example:ext:2.0:User:active",
            "é€urn:ietf:params:scim:schemas:core:2.0:User:active",
        ] {
            let e = d
                .patch(
                    id,
                    &patch(json!([{"op": "replace", "path": path, "value": false}])),
                    "",
                )
                .unwrap_err();
            assert_eq!(e.scim_type, Some("invalidPath"), "{path}");
        }
        assert_eq!(d.get(id, "").unwrap()["active"], true, "nothing changed");
    }

    #[test]
    fn a_replace_that_leaves_active_out_keeps_a_suspension() {
        let d = ScimDirectory::in_memory("hq");
        let u = d.create(&user("ada"), "").unwrap();
        let id = u["id"].as_str().unwrap();
        d.patch(
            id,
            &patch(json!([{"op": "replace", "path": "active", "value": false}])),
            "",
        )
        .unwrap();
        let put = d.replace(id, &user("ada"), "").unwrap();
        assert_eq!(
            put["active"], false,
            "PUT without active lifted a suspension"
        );
        let mut back = user("ada");
        back["active"] = json!(true);
        assert_eq!(d.replace(id, &back, "").unwrap()["active"], true);
        // a create without active is active (RFC 7643 leaves it to the provider)
        assert_eq!(d.create(&user("bob"), "").unwrap()["active"], true);
    }

    #[test]
    fn emails_are_added_to_and_removed_one_by_one() {
        let d = ScimDirectory::in_memory("hq");
        let u = d.create(&user("ada"), "").unwrap();
        let id = u["id"].as_str().unwrap();
        let emails = |v: &Value| -> Vec<String> {
            v["emails"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["value"].as_str().unwrap().to_owned())
                .collect()
        };
        let added = d
            .patch(
                id,
                &patch(json!([{"op": "add", "value": {"emails": [{"value": "new@example.com"}]}}])),
                "",
            )
            .unwrap();
        assert_eq!(
            emails(&added),
            ["ada@example.com", "other@example.com", "new@example.com"]
        );
        let removed = d
            .patch(
                id,
                &patch(json!([{"op": "remove", "path": "emails[value eq \"other@example.com\"]"}])),
                "",
            )
            .unwrap();
        assert_eq!(emails(&removed), ["ada@example.com", "new@example.com"]);
    }

    #[test]
    fn filters_take_any_spacing_and_the_qualified_name() {
        let d = ScimDirectory::in_memory("hq");
        d.create(&user("ada"), "").unwrap();
        for f in [
            "userName  eq   \"ada\"",
            " userName eq \"ADA\" ",
            "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"ada\"",
        ] {
            assert_eq!(
                d.list(Some(f), None, None, "").unwrap()["totalResults"],
                1,
                "{f}"
            );
        }
    }

    #[test]
    fn user_names_are_unique_without_case_and_free_again_after_delete() {
        let d = ScimDirectory::in_memory("hq");
        let a = d.create(&user("Ada"), "").unwrap();
        let e = d.create(&user("ada"), "").unwrap_err();
        assert_eq!((e.status, e.scim_type), (409, Some("uniqueness")));
        d.delete(a["id"].as_str().unwrap()).unwrap();
        assert!(d.create(&user("ada"), "").is_ok());
    }

    #[test]
    fn filters_and_paging() {
        let d = ScimDirectory::in_memory("hq");
        for n in ["a", "b", "c"] {
            d.create(&user(n), "").unwrap();
        }
        let one = d.list(Some(r#"userName eq "B""#), None, None, "").unwrap();
        assert_eq!(one["totalResults"], 1);
        assert_eq!(one["Resources"][0]["userName"], "b");
        let page = d.list(None, Some(2), Some(1), "").unwrap();
        assert_eq!(
            (page["totalResults"].as_u64(), page["itemsPerPage"].as_u64()),
            (Some(3), Some(1))
        );
        for bad in ["userName co \"a\"", "title eq \"x\"", "userName eq a", ""] {
            let e = d.list(Some(bad), None, None, "").unwrap_err();
            assert_eq!(e.scim_type, Some("invalidFilter"), "{bad}");
        }
    }

    #[test]
    fn bad_input_is_refused_and_changes_nothing() {
        let d = ScimDirectory::in_memory("hq");
        let a = d.create(&user("ada"), "").unwrap();
        let id = a["id"].as_str().unwrap();
        for (body, scim_type) in [
            (json!({"name": {}}), "invalidValue"),
            (json!([1]), "invalidSyntax"),
            (json!({"userName": "x", "active": 3}), "invalidValue"),
        ] {
            assert_eq!(d.create(&body, "").unwrap_err().scim_type, Some(scim_type));
        }
        for (body, scim_type) in [
            (json!({"Operations": []}), "invalidSyntax"),
            (
                patch(json!([{"op": "move", "path": "active"}])),
                "invalidSyntax",
            ),
            (
                patch(json!([{"op": "replace", "path": "active", "value": 1}])),
                "invalidValue",
            ),
            (
                patch(json!([{"op": "replace", "path": "userName", "value": " "}])),
                "invalidValue",
            ),
            (
                patch(json!([{"op": "remove", "path": "userName"}])),
                "mutability",
            ),
            (
                patch(json!([{"op": "remove", "path": "active"}])),
                "mutability",
            ),
        ] {
            assert_eq!(
                d.patch(id, &body, "").unwrap_err().scim_type,
                Some(scim_type),
                "{body}"
            );
        }
        assert_eq!(d.get(id, "").unwrap(), a, "nothing changed");
    }

    #[test]
    fn patch_removes_what_it_keeps_and_adds_to_lists() {
        let d = ScimDirectory::in_memory("hq");
        let a = d.create(&user("ada"), "").unwrap();
        let id = a["id"].as_str().unwrap();
        let got = d
            .patch(
                id,
                &patch(json!([
                    {"op": "add", "path": "emails", "value": [{"value": "second@example.com"}]},
                    {"op": "remove", "path": "name.familyName"},
                    {"op": "remove", "path": "title"}
                ])),
                "",
            )
            .unwrap();
        let emails: Vec<&str> = got["emails"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["value"].as_str().unwrap())
            .collect();
        assert_eq!(
            emails,
            ["ada@example.com", "other@example.com", "second@example.com"]
        );
        assert_eq!(got["name"]["familyName"], "");
        let got = d
            .patch(
                id,
                &patch(json!([{"op": "remove", "path": "emails[type eq \"work\"].value"}])),
                "",
            )
            .unwrap();
        assert!(got["emails"].as_array().unwrap().is_empty());
    }

    #[test]
    fn a_file_store_survives_a_restart_and_refuses_another_directory() {
        let dir = std::env::temp_dir().join(format!(
            "scim-test-{}-{}",
            std::process::id(),
            fastrand::u32(..)
        ));
        let path = dir.join("users.json");
        let d = ScimDirectory::open("hq", &path).unwrap();
        let a = d.create(&user("ada"), "").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let again = ScimDirectory::open("hq", &path).unwrap();
        assert_eq!(again.get(a["id"].as_str().unwrap(), "").unwrap(), a);
        let e = ScimDirectory::open("other", &path).unwrap_err();
        assert!(e.to_string().contains("not \"other\""), "{e}");
        std::fs::write(&path, b"{").unwrap();
        assert!(ScimDirectory::open("hq", &path).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
