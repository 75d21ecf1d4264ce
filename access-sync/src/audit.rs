//! The audit log: one JSON line per run with the inputs' counts, the plan,
//! each action's result, what was held back while applying and the calls
//! made.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::backend::CallCounts;
use crate::error::ErrorKind;
use crate::sources::{InputCounts, SourceReport};
use crate::syncer::ActionResult;
use access_engine::{Held, Plan};

/// What kind of run a record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunKind {
    /// A dry run: fetched, observed and planned; nothing written.
    Plan,
    /// A plan applied.
    Apply,
    /// A run that failed before it had a plan (e.g. Brivo could not be observed).
    Failed,
}

/// One audit line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditRecord {
    /// Wall-clock instant the record was written.
    pub recorded_at: DateTime<Utc>,
    /// The instant planned for.
    pub now: DateTime<Utc>,
    /// Kind of run.
    pub kind: RunKind,
    /// How each source's fetch went.
    pub sources: Vec<SourceReport>,
    /// Counts of what was planned from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<InputCounts>,
    /// The plan (actions with reasons, held items, warnings, digests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// Each action's result, by index into the plan's actions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<ActionResult>,
    /// Items held back while applying, beside the plan's own held items:
    /// additions Brivo refused for its 16-group cap, each with the rule
    /// (`too_many_groups`) and its reasons; their action's result says
    /// what was applied instead (`held`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<Held>,
    /// Backend calls made by this run.
    pub calls: CallCounts,
    /// Why the run failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What kind of failure it was ([`SyncError::kind`](crate::SyncError::kind)),
    /// if the run failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
    /// Reads deferred because they would have overspent a budget, each
    /// with the window and when it recovers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deferred: Vec<crate::budget::Deferral>,
    /// Each budget's windows after the run: calls counted and limits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budgets: Vec<crate::budget::BudgetUse>,
}

/// Where audit records go.
pub trait AuditSink: Send + Sync + fmt::Debug {
    /// Records one run. A failure is logged by the runner, never fatal.
    fn record(&self, record: &AuditRecord) -> io::Result<()>;
}

/// Appends one JSON line per run to a file.
///
/// **The file holds personal data**: the plans' profiles and reasons name
/// people (first and last names, emails, phone numbers) with the leases,
/// memberships and bookings that granted or revoked their access. Treat it
/// like the source systems' data:
///
/// - On Unix the file is created `0600` and missing directories `0700`
///   (owner only). An existing file readable or writable by others is
///   tightened to `0600` (it is ours and holds personal data); if that
///   fails, a warning is logged. An existing directory is never changed
///   (it may be shared, e.g. `/var/log`): one open to others gets a
///   warning.
/// - The SDK never prunes it: it grows by one line per run. Rotate it
///   (e.g. logrotate with `copytruncate`, or `create 0600`) and keep only
///   what your audit needs; 90 days is a reasonable default unless your
///   privacy policy says otherwise.
#[derive(Debug)]
pub struct JsonLinesAudit {
    path: PathBuf,
    file: Mutex<File>,
}

impl JsonLinesAudit {
    /// Opens `path` for appending (creating it `0600` and its missing
    /// directories `0700` on Unix; see the type's docs).
    ///
    /// # Errors
    /// The directory or file cannot be created or opened.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path)?;
        #[cfg(unix)]
        tighten(&file, &path);
        Ok(JsonLinesAudit {
            path,
            file: Mutex::new(file),
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Creates `dir` and its missing parents, owner-only on Unix; an existing
/// directory open to others is left alone with a warning.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                dir = %dir.display(),
                mode = format_args!("{:o}", mode & 0o777),
                "the audit log's directory is open to other users; the log holds personal data: consider chmod 700"
            );
        }
    }
    Ok(())
}

/// Makes an existing audit file owner-only (it holds personal data).
#[cfg(unix)]
fn tighten(file: &File, path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = match file.metadata() {
        Ok(m) => m.permissions().mode(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "could not read the audit log's mode");
            return;
        }
    };
    if mode & 0o077 != 0
        && let Err(e) = file.set_permissions(std::fs::Permissions::from_mode(0o600))
    {
        tracing::warn!(
            path = %path.display(),
            mode = format_args!("{:o}", mode & 0o777),
            error = %e,
            "the audit log is open to other users and could not be made 0600; it holds personal data"
        );
    }
}

impl AuditSink for JsonLinesAudit {
    fn record(&self, record: &AuditRecord) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        f.write_all(&line)?;
        f.flush()
    }
}

/// Keeps records in memory (for tests).
#[derive(Debug, Default)]
pub struct MemoryAudit {
    records: Mutex<Vec<AuditRecord>>,
}

impl MemoryAudit {
    /// An empty log.
    pub fn new() -> Self {
        MemoryAudit::default()
    }

    /// The records so far.
    pub fn records(&self) -> Vec<AuditRecord> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl AuditSink for MemoryAudit {
    fn record(&self, record: &AuditRecord) -> io::Result<()> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record.clone());
        Ok(())
    }
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)] // test code: a panic is a failure
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "access-sync-audit-{name}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_new_log_is_0600_in_new_0700_directories() {
        let root = scratch("new");
        let path = root.join("a/b/audit.jsonl");
        let audit = JsonLinesAudit::open(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&root.join("a/b")), 0o700);
        assert_eq!(mode(&root.join("a")), 0o700);
        assert_eq!(audit.path(), path);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn an_existing_open_log_is_tightened_and_its_directory_left_alone() {
        let root = scratch("existing");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = root.join("audit.jsonl");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        JsonLinesAudit::open(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&root), 0o755, "an existing directory is not changed");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_stricter_existing_log_is_not_loosened() {
        let root = scratch("strict");
        std::fs::create_dir_all(&root).unwrap();
        let path = root.join("audit.jsonl");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        // opening fails for a normal user (read-only) and succeeds for
        // root; either way the mode is not loosened
        let _ = JsonLinesAudit::open(&path);
        assert_eq!(mode(&path), 0o400);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_directory_that_cannot_be_created_is_an_error() {
        let root = scratch("blocked");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("file"), b"").unwrap();
        let e = JsonLinesAudit::open(root.join("file/audit.jsonl")).unwrap_err();
        assert_ne!(e.kind(), io::ErrorKind::NotFound, "{e}");
        std::fs::remove_dir_all(root).unwrap();
    }
}
