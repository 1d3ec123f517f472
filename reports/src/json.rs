//! The JSON form: the [`Report`] as serde writes it, and its JSON Schema, generated from the
//! types and published as `reports/schema/report.schema.json`.

use crate::model::Report;

/// The report as pretty-printed JSON.
pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a report serializes");
    s.push('\n');
    s
}

/// Reads a report written by [`render`]; the error names the field that does not fit.
pub fn parse(text: &str) -> Result<Report, String> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        format!("at `{at}`: {}", e.into_inner())
    })
}

/// The JSON Schema (draft 2020-12) of [`Report`], pretty-printed.
pub fn schema() -> String {
    let mut s = serde_json::to_string_pretty(&schemars::schema_for!(Report)).expect("a schema serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_schema_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/report.schema.json");
        if std::env::var_os("LOCKSTEP_BLESS").is_some() {
            std::fs::write(path, schema()).unwrap();
        }
        let published = std::fs::read_to_string(path).unwrap();
        assert!(
            published == schema(),
            "reports/schema/report.schema.json is stale: rerun this test with LOCKSTEP_BLESS=1"
        );
    }

    #[test]
    fn a_rendered_report_validates_against_the_schema_and_reads_back() {
        let report = crate::sample::report();
        let text = render(&report);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let schema: serde_json::Value = serde_json::from_str(&schema()).unwrap();
        let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
        let errors: Vec<String> =
            validator.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path)).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(parse(&text).unwrap(), report);
        // The schema is strict enough to catch a wrong type.
        let mut bad = value.clone();
        bad["cases"][0]["status"] = serde_json::json!("maybe");
        assert!(!validator.is_valid(&bad));
        assert!(parse(&bad.to_string()).unwrap_err().contains("cases[0].status"));
    }

    #[test]
    fn the_same_report_gives_the_same_bytes() {
        assert_eq!(render(&crate::sample::report()), render(&crate::sample::report()));
    }
}
