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

#[cfg(test)]
mod tests {
    use crate::{Credential, CustomFieldType, Group, InvitationStatus, User, UserId};

    #[test]
    fn nulls_and_numbers_are_tolerated_where_brivo_is_sloppy() {
        let user: User = serde_json::from_str(
            r#"{"id":"15540776","externalId":1,"firstName":null,"lastName":"last",
                "emails":null,"phoneNumbers":[{"number":5417543010,"type":null}],
                "customFields":[{"id":2,"fieldType":"text","value":8675309}],
                "created":"2024-04-17T08:52:39.724Z","unknownField":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(user.id, UserId(15540776));
        assert_eq!(user.external_id.as_deref(), Some("1"));
        assert_eq!(user.first_name, "");
        assert!(user.emails.is_empty());
        assert_eq!(user.phone_numbers[0].number, "5417543010");
        assert_eq!(
            user.custom_fields[0].field_type,
            Some(CustomFieldType::Text)
        );
        assert_eq!(user.custom_fields[0].value.as_deref(), Some("8675309"));
        let card: Credential =
            serde_json::from_str(r#"{"id":1,"size":"26","credentialFormat":{"id":"100"}}"#)
                .unwrap();
        assert_eq!(card.size, Some(26));
        assert_eq!(card.credential_format.unwrap().id, 100);
        let group: Group = serde_json::from_str(r#"{"id":1,"name":null}"#).unwrap();
        assert_eq!(group.name, "");
        let status: InvitationStatus = serde_json::from_str(r#""canceled""#).unwrap();
        assert_eq!(status, InvitationStatus::Cancelled);
    }

    #[test]
    fn ids_and_dates_stay_strict() {
        for bad in [
            r#"{"id":"abc"}"#,
            r#"{"id":1.5}"#,
            r#"{"id":null}"#,
            r#"{"firstName":"no id"}"#,
            r#"{"id":1,"created":"31/12/2020"}"#,
            r#"{"id":1,"effectiveTo":12345}"#,
        ] {
            assert!(serde_json::from_str::<User>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn filters_are_joined_and_unsafe_values_refused() {
        let parts = vec![
            (
                "id".to_string(),
                "eq",
                vec!["1".to_string(), "2".to_string()],
            ),
            ("firstname".to_string(), "eq", vec!["Ann".to_string()]),
        ];
        assert_eq!(
            super::filter_string(&parts).unwrap().as_deref(),
            Some("id__eq:1,2;firstname__eq:Ann")
        );
        assert_eq!(super::filter_string(&[]).unwrap(), None);
        let bad = vec![("firstname".to_string(), "eq", vec!["a;b".to_string()])];
        assert!(super::filter_string(&bad).is_err());
        let empty = vec![("id".to_string(), "eq", vec![])];
        assert!(super::filter_string(&empty).is_err());
    }
}
