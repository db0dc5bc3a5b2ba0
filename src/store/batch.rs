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
    // SQLite binds a parameter in time proportional to the statement's parameter count (sqlx
    // looks each one up by name), so a statement's cost grows with its square: keep SQLite's
    // statements small. PostgreSQL gains from fewer round trips.
    let params = if conn.backend_name() == "SQLite" { 128 } else { 30_000 };
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
