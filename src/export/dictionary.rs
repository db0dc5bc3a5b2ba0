//! Every export declared once (docs/RULES.md §7): its name and description, and each column's
//! name, type, unit and meaning beside how a row's cell is read. The CSV header, the Parquet
//! schema, the JSON API's rows, the OpenAPI schema, the data dictionary page and the exports page
//! all come from these declarations (`declared.rs`); adding a column is one edit there.

/// One column of one export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The export's name (the file is `{export}.csv`).
    pub export: &'static str,
    /// The column's name in the header row.
    pub name: &'static str,
    /// What its values are: the type of its Parquet column and its JSON schema.
    pub kind: Kind,
    /// The unit or form of its values.
    pub unit: &'static str,
    /// What it holds and, for computed figures, how it is computed.
    pub meaning: &'static str,
}

/// What a column's values are, for the typed exports (Parquet, JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Float,
    Int,
    Bool,
}

/// One export: its name, what it lists, and its columns in order.
#[derive(Debug, Clone, Copy)]
pub struct Export {
    pub name: &'static str,
    pub description: &'static str,
    pub columns: &'static [Column],
}

/// Declares an export as a module of the same name holding `EXPORT` (the declaration) and
/// `cells`, which reads one row: the arguments after the name are the row's parts, the block
/// binds what several cells share, and each column is
/// `"name": Kind, "unit", "meaning" => cell;`.
macro_rules! export {
    (
        $name:ident: $description:literal,
        |$($arg:ident: $ty:ty),*| { $($prelude:tt)* }
        [ $( $column:literal: $kind:ident, $unit:literal, $meaning:literal => $cell:expr; )* ]
    ) => {
        pub mod $name {
            use super::*;

            pub const EXPORT: Export = Export {
                name: stringify!($name),
                description: $description,
                columns: &[$(Column {
                    export: stringify!($name),
                    name: $column,
                    kind: Kind::$kind,
                    unit: $unit,
                    meaning: $meaning,
                }),*],
            };

            /// One row's cells, in the order of `EXPORT.columns`.
            pub fn cells($($arg: $ty),*) -> Vec<Cell> {
                $($prelude)*
                vec![$($cell),*]
            }
        }
    };
}
pub(super) use export;

/// Every export, in the order of the exports page.
pub const ALL: &[&Export] = super::declared::ALL;

/// Each export's name and description, in order.
pub const EXPORTS: &[(&str, &str)] = super::declared::EXPORTS;

/// Every column of every export, by export in `ALL` order and in each export's column order.
pub fn dictionary() -> impl Iterator<Item = &'static Column> {
    ALL.iter().flat_map(|e| e.columns.iter())
}

/// The columns of `export`, in order (none when there is no such export).
pub fn columns(export: &str) -> Vec<&'static Column> {
    ALL.iter().find(|e| e.name == export).map_or_else(Vec::new, |e| e.columns.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns_of(export: &str) -> impl Iterator<Item = &'static Column> + '_ {
        dictionary().filter(move |c| c.export == export)
    }

    fn header(name: &str) -> Vec<String> {
        let figures = crate::figures::Figures::new(
            0,
            String::new(),
            crate::ingest::reference::bundled().unwrap(),
            Vec::new(),
            crate::analytics::Tables::default(),
        );
        let mut buf = Vec::new();
        assert!(
            super::super::write_export(
                name,
                &figures,
                &super::super::Records::default(),
                &super::super::Filter::default(),
                super::super::Out::csv(&mut buf)
            )
            .unwrap(),
            "{name} is listed in EXPORTS but not written"
        );
        let text = String::from_utf8(buf).unwrap();
        let first = text.lines().next().unwrap_or_default();
        first.split(',').map(str::to_string).collect()
    }

    #[test]
    fn every_exported_column_has_a_dictionary_entry_in_order() {
        for (name, _) in EXPORTS {
            let described: Vec<&str> = columns_of(name).map(|c| c.name).collect();
            assert!(!described.is_empty(), "{name} has no dictionary entries");
            assert_eq!(described, header(name), "dictionary columns of {name}.csv");
        }
        for c in dictionary() {
            assert!(
                EXPORTS.iter().any(|(name, _)| *name == c.export),
                "{}.{} describes an export that does not exist",
                c.export,
                c.name
            );
            assert!(!c.unit.is_empty() && !c.meaning.is_empty(), "{}.{} needs a unit and a meaning", c.export, c.name);
        }
    }

    #[test]
    fn a_column_name_has_one_kind_in_every_export() {
        for c in dictionary() {
            let first = dictionary().find(|d| d.name == c.name).unwrap();
            assert_eq!(c.kind, first.kind, "{}.{} and {}.{}", c.export, c.name, first.export, first.name);
        }
        let kind = |export: &str, name: &str| columns(export).into_iter().find(|c| c.name == name).unwrap().kind;
        assert_eq!(kind("benchmarks", "median"), Kind::Float);
        assert_eq!(kind("trust_benchmarks", "rank"), Kind::Int);
        assert_eq!(kind("trust_benchmarks", "behind_best_practice"), Kind::Bool);
        assert_eq!(kind("values", "org_code"), Kind::Text);
    }

    #[test]
    fn the_dictionary_lists_exports_in_the_order_of_the_exports_page() {
        let mut order: Vec<&str> = dictionary().map(|c| c.export).collect();
        order.dedup();
        let exports: Vec<&str> = EXPORTS.iter().map(|(name, _)| *name).collect();
        assert_eq!(order, exports);
    }
}
