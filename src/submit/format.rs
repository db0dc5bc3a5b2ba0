//! What a submission holds, and how to tell from its first bytes.

use crate::store::SubmissionKind;
use serde::Serialize;

/// What a submission holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `org_code,metric_id,period,value[,comment]`
    MetricsCsv,
    /// `org_code,metric_id,period,target`
    TargetsCsv,
    /// A FHIR R4 MeasureReport or a Bundle of them.
    MeasureReport,
    /// `subject,standard_id,result,assessed_on[,assessor][,evidence]`
    ConformanceCsv,
    /// A FHIR R4 TestReport or a Bundle of them.
    TestReport,
    /// The organisations file: `ods_code,name,trust_type,region[,…]`.
    OrganisationsCsv,
    /// A published Data Security and Protection Toolkit trust status file.
    Dspt,
    /// NHS App uptake: `area_code,month,measure,value[,age_band]`.
    UptakeCsv,
    /// NHS App uptake as FHIR R4 MeasureReports with the area as subject.
    UptakeMeasureReport,
}

impl Format {
    pub fn kind(self) -> SubmissionKind {
        match self {
            Format::MetricsCsv | Format::MeasureReport => SubmissionKind::Metrics,
            Format::TargetsCsv => SubmissionKind::Targets,
            Format::ConformanceCsv | Format::TestReport | Format::Dspt => SubmissionKind::Conformance,
            Format::OrganisationsCsv => SubmissionKind::Organisations,
            Format::UptakeCsv | Format::UptakeMeasureReport => SubmissionKind::Uptake,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::MetricsCsv => "metrics_csv",
            Format::TargetsCsv => "targets_csv",
            Format::MeasureReport => "measure_report",
            Format::ConformanceCsv => "conformance_csv",
            Format::TestReport => "test_report",
            Format::OrganisationsCsv => "organisations_csv",
            Format::Dspt => "dspt",
            Format::UptakeCsv => "uptake_csv",
            Format::UptakeMeasureReport => "uptake_measure_report",
        }
    }

    pub fn parse(text: &str) -> Option<Format> {
        [
            Format::MetricsCsv,
            Format::TargetsCsv,
            Format::MeasureReport,
            Format::ConformanceCsv,
            Format::TestReport,
            Format::OrganisationsCsv,
            Format::Dspt,
            Format::UptakeCsv,
            Format::UptakeMeasureReport,
        ]
        .into_iter()
        .find(|f| f.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::MetricsCsv => "metric values (CSV)",
            Format::TargetsCsv => "targets (CSV)",
            Format::MeasureReport => "metric values (FHIR MeasureReport)",
            Format::ConformanceCsv => "conformance results (CSV)",
            Format::TestReport => "conformance results (FHIR TestReport)",
            Format::OrganisationsCsv => "organisations (CSV)",
            Format::Dspt => "Data Security and Protection Toolkit results (published CSV)",
            Format::UptakeCsv => "NHS App uptake (CSV)",
            Format::UptakeMeasureReport => "NHS App uptake (FHIR MeasureReport)",
        }
    }

    /// Guesses the format of an upload from its first bytes and header.
    pub fn sniff(bytes: &[u8]) -> Format {
        let start = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let first = start.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'{') {
            let json = serde_json::from_slice::<serde_json::Value>(start).ok();
            if json.as_ref().is_some_and(crate::ingest::uptake::is_uptake_report) {
                return Format::UptakeMeasureReport;
            }
            let resource = json.and_then(|v| v.get("resourceType").and_then(|r| r.as_str()).map(str::to_string));
            let bundle_of_tests =
                resource.as_deref() == Some("Bundle") && String::from_utf8_lossy(start).contains("\"TestReport\"");
            return if resource.as_deref() == Some("TestReport") || bundle_of_tests {
                Format::TestReport
            } else {
                Format::MeasureReport
            };
        }
        let header_end = start.iter().position(|b| *b == b'\n').unwrap_or(start.len());
        let header = String::from_utf8_lossy(&start[..header_end]).to_ascii_lowercase();
        let has = |name: &str| header.split(',').any(|c| c.trim() == name);
        if has("area_code") && has("measure") {
            Format::UptakeCsv
        } else if has("standard_id") {
            Format::ConformanceCsv
        } else if has("target") {
            Format::TargetsCsv
        } else {
            Format::MetricsCsv
        }
    }
}

/// What an import on the command line is meant to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Values,
    Targets,
    Conformance,
    Organisations,
    Dspt,
    Uptake,
}

impl Format {
    /// The format to read a file imported as `kind`, given what the file looks like
    /// (`sniffed`): a CSV or FHIR resource of the kind's own, or an error naming what the file
    /// holds. Organisations and DSPT files are taken as such whatever they look like.
    pub fn for_import(kind: ImportKind, sniffed: Format) -> Result<Format, String> {
        use ImportKind as K;
        Ok(match (kind, sniffed) {
            (K::Organisations, _) => Format::OrganisationsCsv,
            (K::Dspt, _) => Format::Dspt,
            (K::Uptake, Format::UptakeMeasureReport | Format::MeasureReport | Format::TestReport) => {
                Format::UptakeMeasureReport
            }
            (K::Uptake, _) => Format::UptakeCsv,
            (K::Targets, Format::MetricsCsv | Format::TargetsCsv) => Format::TargetsCsv,
            (K::Conformance, f @ (Format::ConformanceCsv | Format::TestReport)) => f,
            (K::Conformance, Format::MeasureReport) => Format::TestReport,
            (K::Conformance, _) => Format::ConformanceCsv,
            (K::Values, f @ (Format::MetricsCsv | Format::MeasureReport)) => f,
            (K::Values, Format::TestReport) => Format::MeasureReport,
            (_, f) => {
                return Err(format!(
                    "this file holds {}: import it with the matching `exemplar import` command",
                    f.label()
                ));
            }
        })
    }
}
