//! Multi-row INSERTs with bound parameters, in chunks both backends accept.

use anyhow::Result;
use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

/// One bound value.
#[derive(Debug, Clone)]
pub enum Cell {
    Int(i64),
    Float(f64),
    Text(String),
    OptText(Option<String>),
    OptInt(Option<i64>),
}

/// Inserts `rows` into `table (columns)`, `suffix` appended to each statement (e.g. ON CONFLICT).
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = Vec<Cell>>,
    suffix: &str,
) -> Result<()> {
    // PostgreSQL gains from fewer round trips, with bound parameters: literal statements of
    // the same rows took 1.6 times as long to commit 1.5 million values (BENCHMARKS.md).
    if conn.backend_name() == "SQLite" {
        return insert_sqlite(conn, table, columns, rows, suffix).await;
    }
    let params = 30_000;
    let per_statement = (params / columns.len()).clamp(1, 1000);
    let mut chunk: Vec<Vec<Cell>> = Vec::with_capacity(per_statement);
    for row in rows {
        chunk.push(row);
        if chunk.len() == per_statement {
            execute(conn, table, columns, &chunk, suffix).await?;
            chunk.clear();
        }
    }
    if !chunk.is_empty() {
        execute(conn, table, columns, &chunk, suffix).await?;
    }
    Ok(())
}

/// SQLite: 500 rows a statement with the cells written as SQL literals. sqlx binds a SQLite
/// parameter in time proportional to the statement's parameter count (it looks each one up by
/// name), so bound statements had to stay at 128 parameters; such a statement of 16 rows cost
/// about 12 µs a row, six times what SQLite itself spends storing it. Numbers are written by
/// Rust's float and integer formatting; text is an SQL string literal with its quotes doubled,
/// which is all SQLite's tokenizer gives meaning to. A chunk with a NUL character in a text
/// falls back to bound parameters.
async fn insert_sqlite(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = Vec<Cell>>,
    suffix: &str,
) -> Result<()> {
    let mut chunk: Vec<Vec<Cell>> = Vec::with_capacity(500);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        chunk.clear();
        chunk.extend(rows.by_ref().take(500));
        match literal_statement(table, columns, &chunk, suffix) {
            Some(sql) => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await?;
            }
            None => {
                for part in chunk.chunks((128 / columns.len()).max(1)) {
                    execute(conn, table, columns, part, suffix).await?;
                }
            }
        }
    }
    Ok(())
}

/// `INSERT INTO table (columns) VALUES (…), (…) suffix` with literal cells; `None` when a text
/// holds a NUL character.
fn literal_statement(table: &str, columns: &[&str], rows: &[Vec<Cell>], suffix: &str) -> Option<String> {
    use std::fmt::Write;
    fn text(sql: &mut String, t: &str) -> Option<()> {
        if t.contains('\0') {
            return None;
        }
        sql.push('\'');
        sql.push_str(&t.replace('\'', "''"));
        sql.push('\'');
        Some(())
    }
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    for (i, row) in rows.iter().enumerate() {
        sql.push_str(if i == 0 { "(" } else { ",(" });
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                sql.push(',');
            }
            match cell {
                Cell::Int(v) | Cell::OptInt(Some(v)) => write!(sql, "{v}").ok()?,
                Cell::Float(v) if v.is_finite() => write!(sql, "{v:?}").ok()?,
                Cell::Float(_) => return None,
                Cell::Text(t) | Cell::OptText(Some(t)) => text(&mut sql, t)?,
                Cell::OptText(None) | Cell::OptInt(None) => sql.push_str("NULL"),
            }
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(suffix);
    Some(sql)
}

async fn execute(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Cell>],
    suffix: &str,
) -> Result<()> {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 0;
    for (i, _) in rows.iter().enumerate() {
        if i > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..columns.len() {
            if c > 0 {
                sql.push(',');
            }
            n += 1;
            sql.push('$');
            sql.push_str(&n.to_string());
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(suffix);
    let mut query: Query<'_, Any, AnyArguments> = sqlx::query(sqlx::AssertSqlSafe(sql));
    for row in rows {
        for cell in row {
            query = match cell {
                Cell::Int(v) => query.bind(*v),
                Cell::Float(v) => query.bind(*v),
                Cell::Text(v) => query.bind(v.clone()),
                Cell::OptText(v) => query.bind(v.clone()),
                Cell::OptInt(v) => query.bind(*v),
            };
        }
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_cells_double_their_quotes_and_keep_floats_real() {
        let rows = vec![vec![Cell::Text("RGT".into()), Cell::Float(3.0), Cell::OptText(Some("it's ok".into()))]];
        let sql = literal_statement("t", &["a", "b", "c"], &rows, "").unwrap();
        assert_eq!(sql, "INSERT INTO t (a, b, c) VALUES ('RGT',3.0,'it''s ok') ");
    }

    #[test]
    fn a_text_with_a_nul_character_is_left_to_bound_parameters() {
        let rows = vec![vec![Cell::Text("a\0b".into())]];
        assert_eq!(literal_statement("t", &["a"], &rows, ""), None);
    }
}
