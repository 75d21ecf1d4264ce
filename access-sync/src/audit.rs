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
}

/// Where audit records go.
pub trait AuditSink: Send + Sync + fmt::Debug {
    /// Records one run. A failure is logged by the runner, never fatal.
    fn record(&self, record: &AuditRecord) -> io::Result<()>;
}

/// Appends one JSON line per run to a file.
#[derive(Debug)]
pub struct JsonLinesAudit {
    path: PathBuf,
    file: Mutex<File>,
}

impl JsonLinesAudit {
    /// Opens `path` for appending (creating it and its directory).
    ///
    /// # Errors
    /// The directory or file cannot be created or opened.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
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
