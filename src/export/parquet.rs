//! The exports in Parquet (docs/RULES.md §7.2): the same columns as the CSV files, typed by the data
//! dictionary (`dictionary::Kind`, from each column's unit): text, a 64-bit float, a 64-bit
//! integer or a boolean, so that a file's schema does not depend on the rows a filter leaves.
//! An empty cell, and a number that is not finite, is null. Text is written as it is: the `'`
//! that guards a CSV cell against a spreadsheet's formulas is for spreadsheets only.

use super::Cell;
use super::dictionary::Kind;
use anyhow::Result;
use parquet::basic::{LogicalType, Repetition, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use std::io::Write;
use std::sync::Arc;

/// Rows per row group: what the writer holds at a time, however long the export.
const ROW_GROUP: usize = 1 << 16;

/// Writes the columns `fields` (name and kind) and `rows` as one Parquet file, in row groups of
/// `ROW_GROUP` rows.
pub fn write_parquet<W: Write + Send>(
    out: W,
    fields: &[(&str, Kind)],
    metadata: &[(String, String)],
    mut rows: impl Iterator<Item = Vec<Cell>>,
) -> Result<()> {
    let kinds: Vec<Kind> = fields.iter().map(|(_, kind)| *kind).collect();
    let header: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    let fields = fields
        .iter()
        .map(|(name, kind)| {
            let (physical, logical) = match kind {
                Kind::Bool => (Physical::BOOLEAN, None),
                Kind::Int => (Physical::INT64, None),
                Kind::Float => (Physical::DOUBLE, None),
                Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
            };
            Ok(Arc::new(
                Type::primitive_type_builder(name, physical)
                    .with_repetition(Repetition::OPTIONAL)
                    .with_logical_type(logical)
                    .build()?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let schema = Arc::new(Type::group_type_builder("export").with_fields(fields).build()?);
    let metadata: Vec<parquet::file::metadata::KeyValue> =
        metadata.iter().map(|(k, v)| parquet::file::metadata::KeyValue::new(k.clone(), v.clone())).collect();
    let properties =
        WriterProperties::builder().set_key_value_metadata((!metadata.is_empty()).then_some(metadata)).build();
    let mut writer = SerializedFileWriter::new(out, schema, Arc::new(properties))?;
    loop {
        let chunk: Vec<Vec<Cell>> = rows.by_ref().take(ROW_GROUP).collect();
        if chunk.is_empty() {
            break;
        }
        write_group(&mut writer, &header, &kinds, &chunk)?;
    }
    writer.close()?;
    Ok(())
}

/// One row group of `rows`.
fn write_group<W: Write + Send>(
    writer: &mut SerializedFileWriter<W>,
    header: &[&str],
    kinds: &[Kind],
    rows: &[Vec<Cell>],
) -> Result<()> {
    let column = |j: usize| rows.iter().map(move |r| r.get(j).unwrap_or(&Cell::Empty));
    let mut group = writer.next_row_group()?;
    let mut j = 0;
    while let Some(mut column_writer) = group.next_column()? {
        let cells = column(j);
        // A cell of another kind than its column's is a mistake in the export's code.
        let wrong = |c: &Cell| anyhow::anyhow!("column {}: {c:?} in a {:?} column", header[j], kinds[j]);
        match kinds[j] {
            Kind::Bool => write(
                column_writer.typed::<BoolType>(),
                cells.map(|c| match c {
                    Cell::Bool(b) => Ok(Some(*b)),
                    Cell::Empty => Ok(None),
                    c => Err(wrong(c)),
                }),
            )?,
            Kind::Int => write(
                column_writer.typed::<Int64Type>(),
                cells.map(|c| match c {
                    Cell::Int(v) => Ok(Some(*v)),
                    Cell::Empty => Ok(None),
                    c => Err(wrong(c)),
                }),
            )?,
            Kind::Float => write(
                column_writer.typed::<DoubleType>(),
                cells.map(|c| match c {
                    Cell::Number(v) => Ok(v.is_finite().then_some(*v)),
                    Cell::Int(v) => Ok(Some(*v as f64)),
                    Cell::Empty => Ok(None),
                    c => Err(wrong(c)),
                }),
            )?,
            Kind::Text => write(
                column_writer.typed::<ByteArrayType>(),
                cells.map(|c| match c {
                    Cell::Text(s) => Ok(Some(ByteArray::from(s.as_str()))),
                    Cell::Empty => Ok(None),
                    c => Err(wrong(c)),
                }),
            )?,
        }
        column_writer.close()?;
        j += 1;
    }
    group.close()?;
    Ok(())
}

/// One column's values, `None` for a null (definition level 0).
fn write<T: parquet::data_type::DataType>(
    writer: &mut parquet::column::writer::ColumnWriterImpl<'_, T>,
    cells: impl Iterator<Item = Result<Option<T::T>>>,
) -> Result<()> {
    let (mut values, mut defined) = (Vec::new(), Vec::new());
    for cell in cells {
        let cell = cell?;
        defined.push(i16::from(cell.is_some()));
        values.extend(cell);
    }
    writer.write_batch(&values, Some(&defined), None)?;
    Ok(())
}

/// Every row of a Parquet file as text: numbers as the CSV files write them, an empty string
/// for a null. For tests, which compare a Parquet export with its CSV file.
pub fn parquet_rows(file: std::fs::File) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let reader = SerializedFileReader::new(file)?;
    let header =
        reader.metadata().file_metadata().schema_descr().columns().iter().map(|c| c.name().to_string()).collect();
    let mut rows = Vec::new();
    for row in reader.get_row_iter(None)? {
        let row = row?;
        rows.push(
            row.get_column_iter()
                .map(|(_, field)| match field {
                    Field::Null => String::new(),
                    Field::Str(s) => s.clone(),
                    Field::Double(v) => super::format_number(*v),
                    Field::Long(v) => v.to_string(),
                    Field::Bool(b) => b.to_string(),
                    other => other.to_string(),
                })
                .collect(),
        );
    }
    Ok((header, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(fields: &[(&str, Kind)], rows: Vec<Vec<Cell>>) -> Result<(Vec<String>, Vec<Vec<String>>)> {
        let mut file = tempfile::tempfile()?;
        write_parquet(&mut file, fields, &[], rows.into_iter())?;
        parquet_rows(file)
    }

    #[test]
    fn columns_are_typed_by_their_kind_with_nulls_for_no_value() {
        let header = ["org_code", "median", "rank", "behind_best_practice"];
        let fields =
            [(header[0], Kind::Text), (header[1], Kind::Float), (header[2], Kind::Int), (header[3], Kind::Bool)];
        let rows = vec![
            vec![Cell::text("=RGT"), Cell::Number(2.5), Cell::Int(1), Cell::Bool(true)],
            vec![Cell::text("RJ1"), Cell::Number(f64::NAN), Cell::Empty, Cell::Empty],
            vec![Cell::Empty, Cell::Int(3), Cell::Int(2), Cell::Bool(false)],
        ];
        let (names, values) = written(&fields, rows).unwrap();
        assert_eq!(names, header);
        assert_eq!(
            values,
            [["=RGT", "2.5", "1", "true"], ["RJ1", "", "", ""], ["", "3", "2", "false"]]
                .map(|r| r.map(String::from).to_vec())
                .to_vec(),
            "text unguarded, NaN and empty cells null, a whole number in a float column"
        );
        // The schema is the columns' even with no rows.
        let mut file = tempfile::tempfile().unwrap();
        write_parquet(&mut file, &fields, &[], std::iter::empty()).unwrap();
        let reader = parquet::file::serialized_reader::SerializedFileReader::new(file).unwrap();
        let kinds: Vec<_> = parquet::file::reader::FileReader::metadata(&reader)
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.physical_type())
            .collect();
        use parquet::basic::Type;
        assert_eq!(kinds, [Type::BYTE_ARRAY, Type::DOUBLE, Type::INT64, Type::BOOLEAN]);
    }

    #[test]
    fn a_long_export_goes_in_row_groups_of_its_rows_in_order() {
        let n = ROW_GROUP + 3;
        let mut file = tempfile::tempfile().unwrap();
        write_parquet(&mut file, &[("rank", Kind::Int)], &[], (0..n as i64).map(|i| vec![Cell::Int(i)])).unwrap();
        let reader = parquet::file::serialized_reader::SerializedFileReader::new(file.try_clone().unwrap()).unwrap();
        assert_eq!(parquet::file::reader::FileReader::metadata(&reader).num_row_groups(), 2);
        let (_, rows) = parquet_rows(file).unwrap();
        assert_eq!(rows.len(), n);
        assert!(rows.iter().enumerate().all(|(i, r)| r[0] == i.to_string()));
    }

    #[test]
    fn a_cell_of_another_kind_than_its_column_is_an_error() {
        let error = written(&[("rank", Kind::Int)], vec![vec![Cell::Number(1.5)]]).unwrap_err();
        assert!(error.to_string().contains("column rank"), "{error}");
    }
}
