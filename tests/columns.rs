//! The column contract of the API's `v1` (and of the exports, which share the declaration): a
//! dataset's columns may only gain new columns at the end. Removing, renaming, reordering or
//! retyping a column fails here against the committed snapshot `tests/columns_v1.json`; that
//! needs a new API version instead. After adding columns at the end (or a new dataset), refresh
//! the snapshot with `EXEMPLAR_WRITE_COLUMNS=1 cargo test --test columns`.

use std::collections::BTreeMap;

type Snapshot = BTreeMap<String, Vec<(String, String)>>;

fn current() -> Snapshot {
    let mut all = Snapshot::new();
    for (name, _) in exemplar::export::EXPORTS {
        let columns = exemplar::export::columns(name)
            .into_iter()
            .map(|c| (c.name.to_string(), format!("{:?}", c.kind).to_lowercase()))
            .collect();
        all.insert(name.to_string(), columns);
    }
    all
}

fn path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/columns_v1.json")
}

#[test]
fn v1_columns_are_only_ever_added_at_the_end() {
    let now = current();
    if std::env::var_os("EXEMPLAR_WRITE_COLUMNS").is_some() {
        std::fs::write(path(), serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
    }
    let committed: Snapshot = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();
    for (dataset, columns) in &committed {
        let Some(current) = now.get(dataset) else {
            panic!("dataset {dataset} was removed from v1");
        };
        for (i, (name, kind)) in columns.iter().enumerate() {
            match current.get(i) {
                Some((n, k)) if n == name && k == kind => {}
                Some((n, k)) => panic!("{dataset}: column {} was {name} ({kind}) in v1, is now {n} ({k})", i + 1),
                None => panic!("{dataset}: column {name} was removed from v1"),
            }
        }
    }
}

#[test]
fn the_check_can_fail() {
    let mut changed = current();
    let values = changed.get_mut("values").unwrap();
    values.swap(0, 1);
    let committed: Snapshot = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();
    let first = |s: &Snapshot| s["values"][0].clone();
    assert_ne!(first(&changed), first(&committed), "a reordered column differs from the snapshot");
}
