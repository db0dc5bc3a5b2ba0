//! The `exemplar` command as a user runs it: demo files, imports with their exit codes, exports.

mod common;

use common::{TestDb, parse_csv};
use std::process::{Command, Output};

fn exemplar(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exemplar"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the command runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_demo_file_is_the_same_for_the_same_seed_and_differs_for_another() {
    let db = TestDb::new();
    let a = exemplar(&db, &["demo", "--trusts", "12", "--quarters", "3", "--seed", "7", "--end", "2025-Q4"]);
    let b = exemplar(&db, &["demo", "--trusts", "12", "--quarters", "3", "--seed", "7", "--end", "2025-Q4"]);
    let c = exemplar(&db, &["demo", "--trusts", "12", "--quarters", "3", "--seed", "8", "--end", "2025-Q4"]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
    let (header, rows) = parse_csv(&text(&a.stdout));
    assert_eq!(header, ["org_code", "metric_id", "period", "value", "numerator", "denominator"]);
    let orgs: std::collections::BTreeSet<_> = rows.iter().map(|r| r[0].clone()).collect();
    let periods: std::collections::BTreeSet<_> = rows.iter().map(|r| r[2].clone()).collect();
    assert_eq!(orgs.len(), 12);
    assert_eq!(periods.into_iter().collect::<Vec<_>>(), ["2025-Q2", "2025-Q3", "2025-Q4"]);
}

#[test]
fn importing_stores_a_valid_file_recognises_it_again_and_rejects_a_bad_one_with_every_error() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo.csv");
    let made =
        exemplar(&db, &["demo", "--trusts", "8", "--quarters", "2", "--end", "2025-Q4", "-o", demo.to_str().unwrap()]);
    assert!(made.status.success(), "{}", text(&made.stderr));

    let dry = exemplar(&db, &["import", "submissions", demo.to_str().unwrap(), "--dry-run"]);
    assert!(dry.status.success());
    assert!(text(&dry.stdout).contains("dry run"));
    let export = exemplar(&db, &["export", "values"]);
    assert_eq!(parse_csv(&text(&export.stdout)).1.len(), 0, "a dry run stores nothing");

    let first = exemplar(&db, &["import", "submissions", demo.to_str().unwrap()]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stdout).contains("Accepted as submission 1"), "{}", text(&first.stdout));
    let again = exemplar(&db, &["import", "submissions", demo.to_str().unwrap()]);
    assert!(again.status.success());
    assert!(text(&again.stdout).contains("Duplicate"), "{}", text(&again.stdout));

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "org_code,metric_id,period,value\nRGT,digital_leadership_capability,2025-Q1,45%\nRGT,nope,2025-Q1,3\nRGT,digital_leadership_capability,2025-Q5,3\n").unwrap();
    let rejected = exemplar(&db, &["import", "submissions", bad.to_str().unwrap()]);
    assert_eq!(rejected.status.code(), Some(1));
    let err = text(&rejected.stderr);
    assert!(
        err.contains("row 2, column value")
            && err.contains("row 3, column metric_id")
            && err.contains("row 4, column period"),
        "{err}"
    );

    let values = exemplar(&db, &["export", "values", "--period", "2025/26 Q3"]);
    let (_, rows) = parse_csv(&text(&values.stdout));
    assert!(!rows.is_empty() && rows.iter().all(|r| r[8] == "2025-Q4"));
    let benchmarks = exemplar(
        &db,
        &["export", "benchmarks", "--peer-group", "acute", "-o", dir.path().join("b.csv").to_str().unwrap()],
    );
    assert!(benchmarks.status.success());
    let written = std::fs::read_to_string(dir.path().join("b.csv")).unwrap();
    let (header, rows) = parse_csv(&written);
    assert_eq!(header[4], "n");
    assert!(rows.iter().all(|r| r[3] == "acute"));
}

#[test]
fn an_unknown_export_or_filter_is_refused_with_a_reason() {
    let db = TestDb::new();
    let unknown = exemplar(&db, &["export", "nonsense"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("there is no export 'nonsense'"));
    let bad_period = exemplar(&db, &["export", "values", "--period", "Q1 2024"]);
    assert_eq!(bad_period.status.code(), Some(2));
    assert!(text(&bad_period.stderr).contains("not a quarter"));
}

fn exemplar_with_input(db: &TestDb, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_exemplar"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn accounts_and_tokens_are_managed_from_the_command_line() {
    let db = TestDb::new();
    let added = exemplar_with_input(
        &db,
        &["user", "add", "--email", "Sub@RGT.example", "--role", "trust", "--org", "rgt"],
        "a long enough password\n",
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let short = exemplar_with_input(&db, &["user", "add", "--email", "x@y.example", "--role", "board"], "short\n");
    assert_eq!(short.status.code(), Some(2));
    assert!(text(&short.stderr).contains("at least 12 characters"));
    let unbound = exemplar_with_input(
        &db,
        &["user", "add", "--email", "t@y.example", "--role", "trust"],
        "a long enough password\n",
    );
    assert!(text(&unbound.stderr).contains("exactly one ODS code"));

    let list = exemplar(&db, &["user", "list"]);
    assert!(text(&list.stdout).contains("sub@rgt.example\ttrust\tRGT\tactive"), "{}", text(&list.stdout));

    let created = exemplar(&db, &["token", "create", "--email", "sub@rgt.example"]);
    let out = text(&created.stdout);
    let token = out.split_whitespace().last().unwrap().to_string();
    assert_eq!(token.len(), 64, "{out}");
    let listed = text(&exemplar(&db, &["token", "list"]).stdout);
    assert!(listed.contains("sub@rgt.example") && !listed.contains(&token), "the token itself is never listed again");
    let id = listed.split_whitespace().next().unwrap().to_string();
    assert!(exemplar(&db, &["token", "revoke", "--id", &id]).status.success());
    assert!(text(&exemplar(&db, &["token", "list"]).stdout).contains("revoked"));
    let scoped = exemplar(
        &db,
        &[
            "token",
            "create",
            "--email",
            "sub@rgt.example",
            "--scope",
            "read",
            "--expires-in",
            "90d",
            "--name",
            "reader",
        ],
    );
    assert!(text(&scoped.stdout).contains("(read; expires 20"), "{}", text(&scoped.stdout));
    let listed = text(&exemplar(&db, &["token", "list"]).stdout);
    assert!(
        listed.lines().any(|l| l.contains("reader\tread\t") && l.contains("expires 20") && l.contains("never used")),
        "{listed}"
    );
    let bad = exemplar(&db, &["token", "create", "--email", "sub@rgt.example", "--scope", "write"]);
    assert!(text(&bad.stderr).contains("'write' is not a scope"));
    let bad = exemplar(&db, &["token", "create", "--email", "sub@rgt.example", "--expires-in", "3 months"]);
    assert!(text(&bad.stderr).contains("--expires-in"));

    assert!(exemplar(&db, &["user", "disable", "--email", "sub@rgt.example"]).status.success());
    assert!(text(&exemplar(&db, &["user", "list"]).stdout).contains("disabled"));
}

#[test]
fn conformance_results_and_the_published_dspt_file_are_imported() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("conformance.csv");
    std::fs::write(&file, "subject,standard_id,result,assessed_on\nRGT,national_data_opt_out,pass,2025-03-31\n")
        .unwrap();
    let ok = exemplar(&db, &["import", "conformance", file.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    std::fs::write(&file, "subject,standard_id,result,assessed_on\nRGT,snomed_ct,pass,2025-03-31\n").unwrap();
    let refused = exemplar(&db, &["import", "conformance", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("row 2, column subject"));

    let dspt = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/dspt_trusts_2022_23.csv");
    // The same pipeline as every submission: a dry run stores nothing, a second import is a duplicate.
    let dry = exemplar(&db, &["import", "dspt", dspt.to_str().unwrap(), "--dry-run"]);
    assert!(dry.status.success() && text(&dry.stdout).contains("22/23 Standards Met"), "{}", text(&dry.stderr));
    let before = exemplar(&db, &["export", "conformance", "--org-code", "RGT"]);
    assert!(!text(&before.stdout).contains(",dspt,"), "the dry run stored nothing");
    let loaded = exemplar(&db, &["import", "dspt", dspt.to_str().unwrap()]);
    let out = text(&loaded.stdout);
    assert!(loaded.status.success(), "{}", text(&loaded.stderr));
    assert!(
        out.contains("22/23 Standards Met") && out.contains("not loaded") && out.contains("Accepted as submission"),
        "{out}"
    );
    let results = exemplar(&db, &["export", "conformance", "--org-code", "RGT"]);
    let (_, rows) = parse_csv(&text(&results.stdout));
    assert!(rows.iter().any(|r| r[2] == "dspt") && rows.iter().any(|r| r[2] == "national_data_opt_out"));
    let again = exemplar(&db, &["import", "dspt", dspt.to_str().unwrap()]);
    assert!(text(&again.stdout).to_lowercase().contains("duplicate"), "{}", text(&again.stdout));
}

#[test]
fn a_demo_beyond_the_reference_trusts_brings_synthetic_organisations_that_import_first() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.csv");
    let orgs = dir.path().join("orgs.csv");
    let (v, o) = (values.to_str().unwrap(), orgs.to_str().unwrap());
    let out = exemplar(&db, &["demo", "--trusts", "260", "--quarters", "2", "-o", v, "--organisations-output", o]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (header, rows) = parse_csv(&std::fs::read_to_string(&orgs).unwrap());
    assert_eq!(header, ["org_code", "org_name", "trust_type", "region", "exemplar", "exemplar_cohort"]);
    assert_eq!(rows.len(), 260 - 202, "the reference holds 202 trusts");
    assert!(rows.iter().all(|r| r[0].starts_with('Z') && r[0].len() == 5));
    // The values name organisations the database does not know yet: rejected, row by row.
    let refused = exemplar(&db, &["import", "submissions", v]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("Z0000"), "{}", text(&refused.stderr));
    let dry = exemplar(&db, &["import", "organisations", o, "--dry-run"]);
    assert!(text(&dry.stdout).contains("Valid: 58 rows"), "{}", text(&dry.stdout));
    let loaded = exemplar(&db, &["import", "organisations", o]);
    assert!(loaded.status.success() && text(&loaded.stdout).contains("58 new revisions"), "{}", text(&loaded.stdout));
    let accepted = exemplar(&db, &["import", "submissions", v]);
    assert!(accepted.status.success(), "{}", text(&accepted.stdout));
    let export = exemplar(&db, &["export", "organisations", "--org-code", "Z0000"]);
    let (_, rows) = parse_csv(&text(&export.stdout));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][1], "Synthetic organisation Z0000");
    let benchmarks = exemplar(&db, &["export", "trust_benchmarks", "--org-code", "Z0000"]);
    assert!(parse_csv(&text(&benchmarks.stdout)).1.len() > 10, "the synthetic organisation is benchmarked");
}

#[test]
fn an_organisations_file_with_bad_rows_is_refused_with_every_error_and_stores_nothing() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("orgs.csv");
    std::fs::write(
        &file,
        "org_code,org_name,trust_type,region,exemplar,exemplar_cohort\n\
         ZA001,Good one,acute,London,none,\n\
         Z-1,Bad code,acute,London,none,\n\
         ZA002,,hospital,Atlantis,gde,nineteen\n\
         ZA001,Repeated,acute,London,none,\n",
    )
    .unwrap();
    let out = exemplar(&db, &["import", "organisations", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out.stderr);
    for expected in [
        "row 3, column org_code",
        "row 4, column org_name",
        "row 4, column trust_type",
        "row 4, column region",
        "row 4, column exemplar_cohort",
        "row 5, column org_code: ZA001 is already on row 2",
    ] {
        assert!(said.contains(expected), "missing '{expected}' in:\n{said}");
    }
    let export = exemplar(&db, &["export", "organisations", "--org-code", "ZA001"]);
    assert!(text(&export.stderr).contains("unknown organisation 'ZA001'"), "nothing was stored");
}

/// `exemplar backup` and `exemplar restore` on the database the tests run on (SQLite, or
/// PostgreSQL with `pg_dump`): every export of the restored copy is byte-identical to the
/// original's, and so are its audit log and users.
#[test]
fn a_backup_restored_into_an_empty_database_gives_byte_identical_exports() {
    let (db, copy) = (TestDb::new(), TestDb::new());
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo.csv");
    let made =
        exemplar(&db, &["demo", "--trusts", "8", "--quarters", "3", "--end", "2025-Q4", "-o", demo.to_str().unwrap()]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    assert!(exemplar(&db, &["import", "submissions", demo.to_str().unwrap()]).status.success());
    let user = Command::new(env!("CARGO_BIN_EXE_exemplar"))
        .args(["user", "add", "--email", "lead@rgt.example", "--role", "trust", "--org", "RGT"])
        .env("DATABASE_URL", &db.url)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(common::PASSWORD.as_bytes())?;
            child.wait()
        })
        .unwrap();
    assert!(user.success());
    // An export computes the figures once and stores them (with the time they were computed,
    // which Parquet files carry): the copy starts from the same.
    assert!(exemplar(&db, &["export", "values"]).status.success());
    let backup = dir.path().join("exemplar.backup");
    let done = exemplar(&db, &["backup", backup.to_str().unwrap()]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    // Restored into a database that has only been created (and migrated) so far.
    assert!(exemplar(&copy, &["user", "list"]).status.success());
    let done = exemplar(&copy, &["restore", backup.to_str().unwrap()]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    for (name, _) in exemplar::export::EXPORTS {
        for format in ["csv", "parquet"] {
            let (a, b) = (
                exemplar(&db, &["export", name, "--format", format]),
                exemplar(&copy, &["export", name, "--format", format]),
            );
            assert!(a.status.success() && !a.stdout.is_empty(), "{name}.{format}: {}", text(&a.stderr));
            assert!(a.stdout == b.stdout, "{name}.{format} differs after the round trip");
        }
    }
    assert_eq!(exemplar(&db, &["user", "list"]).stdout, exemplar(&copy, &["user", "list"]).stdout);
    // A file that is not a backup is refused, and the database is left as it was.
    let junk = dir.path().join("junk.backup");
    std::fs::write(&junk, b"not a backup").unwrap();
    assert!(!exemplar(&copy, &["restore", junk.to_str().unwrap()]).status.success());
    assert_eq!(exemplar(&db, &["export", "values"]).stdout, exemplar(&copy, &["export", "values"]).stdout);
}

/// The publication commands as an administrator runs them.
#[test]
fn windows_sign_off_and_publication_from_the_command_line() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("values.csv");
    std::fs::write(&file, "org_code,metric_id,period,value\nRGT,clinical_wifi_coverage,2025-Q4,80\n").unwrap();
    assert!(exemplar(&db, &["import", "submissions", file.to_str().unwrap()]).status.success());
    let past = exemplar(&db, &["window", "open", "2025-Q4", "--closes", "2020-01-01"]);
    assert!(!past.status.success() && text(&past.stderr).contains("in the past"));
    assert!(exemplar(&db, &["window", "open", "2025-Q4", "--closes", "2099-12-31"]).status.success());
    assert!(exemplar(&db, &["signoff", "2025-Q4", "--org", "RGT"]).status.success());
    let published = exemplar(&db, &["publish", "2025-Q4", "--note", "First"]);
    assert!(published.status.success(), "{}", text(&published.stderr));
    let id = text(&published.stdout).split_whitespace().last().unwrap().to_string();
    assert_eq!(id, "2025-Q4.1");
    let again = exemplar(&db, &["publish", "2025-Q4", "--note", "Again"]);
    assert!(!again.status.success() && text(&again.stderr).contains("nothing has been submitted since"));
    assert!(exemplar(&db, &["releases", "--next", "2099-01-15"]).status.success());
    assert!(!exemplar(&db, &["releases", "--next", "2001-01-15"]).status.success());
    let listed = exemplar(&db, &["releases"]);
    assert!(text(&listed.stdout).starts_with("2025-Q4.1\t"));
    let (a, b) = (
        exemplar(&db, &["export", "values", "--release", &id]),
        exemplar(&db, &["export", "values", "--release", "latest"]),
    );
    assert!(
        a.status.success() && a.stdout == b.stdout && text(&a.stdout).contains(",2025-Q4,2025-10-01,2025-12-31,80,1,")
    );
}

/// `exemplar serve` on `db` with no demo data on a port of its own, run by `sh -c` after `before`
/// (a shell command, such as a limit to start under); returns once it says where it serves.
fn serving(db: &TestDb, before: &str) -> std::process::Child {
    use std::io::BufRead;
    let serve = format!("{before} exec {} serve --no-demo --addr 127.0.0.1:0", env!("CARGO_BIN_EXE_exemplar"));
    let mut child = Command::new("sh")
        .args(["-c", &serve])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let serving = lines.by_ref().map_while(Result::ok).any(|l| l.starts_with("Exemplar is serving"));
    assert!(serving, "the server says where it serves");
    // The rest of what it prints is read too: a closed pipe would fail its next line.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

/// Sends SIGTERM to `child` and waits for it.
fn terminate(mut child: std::process::Child) -> std::process::ExitStatus {
    let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    child.wait().unwrap()
}

#[test]
fn the_server_stops_cleanly_when_a_service_manager_sends_sigterm() {
    let db = TestDb::new();
    // The figures load in the background; a stop during the load is a stop too.
    let status = terminate(serving(&db, ""));
    assert!(status.success(), "a stop asked for is a clean exit: {status:?}");
    if let Some(file) = db.url.strip_prefix("sqlite://") {
        // Its connections closed, SQLite folded the write-ahead log into the database.
        assert!(std::path::Path::new(file).exists());
        assert!(!std::path::Path::new(&format!("{file}-wal")).exists(), "no write-ahead log left to read back");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn the_server_raises_its_soft_limit_of_open_files_to_the_hard_one() {
    let db = TestDb::new();
    // Started under a low soft limit, as some service managers start a process.
    let child = serving(&db, "ulimit -Sn 256 &&");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    assert!(terminate(child).success());
    let open_files: Vec<&str> =
        limits.lines().find(|l| l.starts_with("Max open files")).unwrap().split_whitespace().skip(3).take(2).collect();
    assert_eq!(open_files[0], open_files[1], "soft limit raised to the hard one: {open_files:?}");
}
