//! Typed models of Brivo's resources.

pub(crate) mod common;
pub(crate) mod credential;
pub(crate) mod custom_field;
pub(crate) mod group;
pub(crate) mod site;
pub(crate) mod user;

/// Builds Brivo's `filter` value: `field__op:v1,v2;field2__op:v`.
pub(crate) fn filter_string(
    parts: &[(String, &'static str, Vec<String>)],
) -> Result<Option<String>, String> {
    if parts.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(parts.len());
    for (field, op, values) in parts {
        if values.is_empty() {
            return Err(format!("filter on {field} has no value"));
        }
        if let Some(bad) = values.iter().find(|v| v.contains([',', ';'])) {
            return Err(format!(
                "filter value {bad:?} contains ',' or ';', which Brivo's filter syntax cannot express"
            ));
        }
        out.push(format!("{field}__{op}:{}", values.join(",")));
    }
    Ok(Some(out.join(";")))
}
