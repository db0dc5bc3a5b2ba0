//! Conformance results in: CSV with its checks, FHIR TestReports shaped like the HL7 example, the
//! real DSPT files; and the pages and exports that show them.

mod common;

use common::{TestApp, TestDb, parse_csv};
use exemplar::domain::Role;
use exemplar::ingest::metrics::Rules;
use exemplar::ingest::reference::bundled;

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn rules(reference: &exemplar::domain::Reference) -> Rules<'_> {
    Rules::new(reference, today())
}

#[test]
fn conformance_csv_checks_the_subject_against_the_level_of_each_standard() {
    let reference = bundled().unwrap();
    let system = &reference.systems[0].system_id;
    let good = format!(
        "subject,standard_id,result,assessed_on,assessor\n{system},snomed_ct,pass,2025-03-31,NHS England\nRGT,dspt,partial,2025-06-30,\n"
    );
    let rows = exemplar::ingest::conformance::parse_conformance_csv(good.as_bytes(), &rules(&reference)).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].subject_kind, exemplar::domain::AssessedAt::Organisation);

    let bad = format!(
        "subject,standard_id,result,assessed_on\nRGT,snomed_ct,pass,2025-03-31\n{system},dspt,pass,2025-03-31\n{system},no_such_standard,pass,2025-03-31\n{system},snomed_ct,maybe,2025-03-31\n{system},snomed_ct,pass,2030-01-01\n{system},snomed_ct,pass,31/03/2025\nnobody,snomed_ct,pass,2025-03-31\n"
    );
    let errors = exemplar::ingest::conformance::parse_conformance_csv(bad.as_bytes(), &rules(&reference)).unwrap_err();
    let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
    assert_eq!(
        found,
        [
            (2, "subject"),
            (3, "subject"),
            (4, "standard_id"),
            (5, "result"),
            (6, "assessed_on"),
            (7, "assessed_on"),
            (8, "subject")
        ]
    );
    assert!(errors[0].message.contains("assessed for each system"));
    assert!(errors[1].message.contains("assessed for each trust"));
    assert!(errors[4].message.contains("in the future"));
}

fn test_report(script: &str, server: &str, result: Option<&str>) -> String {
    let result = result.map(|r| format!(r#""result":"{r}","#)).unwrap_or_default();
    format!(
        r#"{{"resourceType":"TestReport","id":"tr1","status":"completed",{result}"score":100,
        "testScript":{{"reference":"TestScript/{script}"}},"tester":"NHS England assurance","issued":"2025-10-07T08:25:34-05:00",
        "participant":[{{"type":"test-engine","uri":"http://example.org/engine"}},{{"type":"server","uri":"https://systems.example.org/{server}"}}]}}"#
    )
}

#[test]
fn test_reports_shaped_like_the_hl7_example_load_and_bad_ones_are_refused() {
    let reference = bundled().unwrap();
    let system = reference.systems[0].system_id.clone();
    let ok = exemplar::ingest::conformance::parse_test_reports(
        test_report("fhir_uk_core", &system, Some("pass")).as_bytes(),
        &rules(&reference),
    )
    .unwrap();
    assert_eq!(
        (ok[0].subject.as_str(), ok[0].standard_id.as_str(), ok[0].result.as_str()),
        (system.as_str(), "fhir_uk_core", "pass")
    );
    assert_eq!(ok[0].assessed_on.to_string(), "2025-10-07");

    let parse = |body: &str| {
        exemplar::ingest::conformance::parse_test_reports(body.as_bytes(), &rules(&reference)).unwrap_err()
    };
    assert!(parse(&test_report("fhir_uk_core", &system, None))[0].message.contains("no result"));
    assert!(
        parse(&test_report("fhir_uk_core", "unknown_system", Some("pass")))[0]
            .message
            .contains("neither a known system")
    );
    assert!(parse(r#"{"resourceType":"MeasureReport"}"#)[0].message.contains("not a TestReport"));
    let hl7 = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus/testreport-example.json"),
    )
    .unwrap();
    let errors = exemplar::ingest::conformance::parse_test_reports(&hl7, &rules(&reference)).unwrap_err();
    assert!(errors.iter().any(|e| e.message.contains("unknown standard 'testscript-example'")), "{errors:?}");
}

#[test]
fn the_real_dspt_files_load_with_every_trust_row_accounted_for() {
    let reference = bundled().unwrap();
    for file in ["dspt_trusts_2022_23.csv", "dspt_trusts_2021_22.csv"] {
        let bytes = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(file)).unwrap();
        let found = exemplar::ingest::dspt::parse_dspt(&bytes, &reference).unwrap();

        // The file read independently: each known trust's expected result by its status.
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
        let code_at = header.iter().position(|h| h == "ODS Code" || h == "Code").unwrap();
        let status_at = header.iter().position(|h| h == "Status").unwrap();
        let (mut rows, mut expected) = (0, std::collections::BTreeMap::<&str, usize>::new());
        for record in reader.records() {
            let record = record.unwrap();
            rows += 1;
            let status = record[status_at].to_string();
            let known = reference.organisation(record[code_at].trim()).is_some();
            let result = if status.ends_with("Standards Exceeded") || status.ends_with("Standards Met") {
                "pass"
            } else if status.ends_with("Approaching Standards") {
                "partial"
            } else if status.ends_with("Standards Not Met") {
                "fail"
            } else {
                "none"
            };
            if known && result != "none" {
                *expected.entry(result).or_default() += 1;
            }
        }
        assert_eq!(found.rows.len() + found.skipped.len(), rows, "{file}: every row loaded or reported");
        assert_eq!(found.by_status.values().sum::<usize>(), rows, "{file}: counts by status cover the file");
        for (result, n) in expected {
            assert_eq!(found.rows.iter().filter(|r| r.result.as_str() == result).count(), n, "{file}: {result}");
        }
        assert!(
            found.skipped.iter().all(|(_, _, reason)| !reason.is_empty()),
            "{file}: every skipped row has a reason"
        );
        assert!(
            found.skipped.iter().any(|(_, _, reason)| reason.contains("merged or closed")),
            "{file}: merged trusts reported"
        );
    }
}

#[tokio::test]
async fn the_standards_are_public_and_the_systems_pages_follow_the_roles() {
    let app = TestApp::spawn(true).await;
    let anonymous = app.anonymous();
    let page = anonymous.get(format!("{}/standards", app.base)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Data Security and Protection Toolkit"));
    assert_eq!(anonymous.get(format!("{}/standards/dspt", app.base)).send().await.unwrap().status().as_u16(), 200);
    assert_eq!(anonymous.get(format!("{}/systems", app.base)).send().await.unwrap().status().as_u16(), 303);

    for path in ["/systems", "/systems?on=2024-01-01", "/systems/upgrades?region=London", "/gaps/claims", "/trusts/RGT"]
    {
        let (status, body) = app.text(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!body.is_empty());
    }
    let (_, sorted) = app.text("/systems?sort=trusts&dir=desc").await;
    let deployments: Vec<usize> = sorted
        .split("<td class=\"app-num\">")
        .skip(1)
        .filter_map(|cell| cell.split('<').next().and_then(|v| v.parse().ok()))
        .collect();
    assert_eq!(deployments.len(), app.state.figures().reference.systems.len());
    assert!(
        deployments.windows(2).all(|w| w[0] >= w[1]),
        "sorted by the trusts deploying each system: {deployments:?}"
    );
    let (_, claims) = app.text("/gaps/claims").await;
    assert!(claims.contains("The rule:"), "the page states its rule");
    let system = app.state.figures().reference.systems[0].system_id.clone();
    assert_eq!(app.get(&format!("/systems/{system}")).await.status().as_u16(), 200);

    let (_, systems) = app.text("/export/systems.csv").await;
    let (header, rows) = parse_csv(&systems);
    assert_eq!(header, ["system_id", "supplier", "product", "version", "procurable", "failing_standards"]);
    assert_eq!(rows.len(), app.state.figures().reference.systems.len());
    assert!(rows.iter().all(|r| (r[4] == "true") == r[5].is_empty()));
    let (_, results) = app.text("/export/conformance.csv").await;
    let (header, rows) = parse_csv(&results);
    assert_eq!(header, ["subject", "subject_kind", "standard_id", "result", "assessed_on", "assessor", "current"]);
    assert!(rows.iter().any(|r| r[2] == "dspt" && r[0] == "RGT"), "the real DSPT results are in the demo");
    let (_, trusts) = app.text("/export/trust_conformance.csv?peer_group=ambulance").await;
    let (header, rows) = parse_csv(&trusts);
    assert_eq!(header, ["org_code", "required", "passed", "conformance_rate", "failing"]);
    assert_eq!(rows.len(), 10);
}

#[tokio::test]
async fn a_trust_sends_conformance_results_through_the_api_for_itself_only() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    app.user("conf@rgt.example", Role::Trust, Some("RGT")).await;
    let token = app.token("conf@rgt.example").await;
    let post = |body: String| {
        reqwest::Client::new()
            .post(format!("{}/api/v1/submissions", app.base))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let own = post("subject,standard_id,result,assessed_on\nRGT,national_data_opt_out,pass,2025-03-31\n".into())
        .await
        .unwrap();
    assert_eq!(own.status().as_u16(), 201);
    let other = post("subject,standard_id,result,assessed_on\nRJ1,national_data_opt_out,pass,2025-03-31\n".into())
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 403);
    app.state.refresh().await.unwrap();
    assert_eq!(app.state.figures().conformance.len(), 1);
}
