//! The API's OpenAPI 3.1 document (`GET /api/v1/openapi.json`), built with utoipa's model from
//! the code's own declarations: every dataset and its row schema from the data dictionary, the
//! filters the datasets take, the submission endpoints, the errors and the bearer
//! authentication. Nothing in it is written by hand twice.

use super::datasets::{DEFAULT_LIMIT, FILTERS, MOST_LIMIT};
use crate::export::{EXPORTS, Kind};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItemBuilder};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, Required,
};

fn typed(t: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(t)
}

fn nullable(t: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([t, Type::Null]))
}

fn reference(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

fn kind_type(kind: Kind) -> Type {
    match kind {
        Kind::Text => Type::String,
        Kind::Float => Type::Number,
        Kind::Int => Type::Integer,
        Kind::Bool => Type::Boolean,
    }
}

/// A dataset's row: every column, typed, `null` when empty.
fn row_schema(dataset: &str) -> Schema {
    let mut row = typed(Type::Object).description(Some(format!("A row of {dataset}")));
    for c in crate::export::columns(dataset).into_iter() {
        row = row
            .property(c.name, nullable(kind_type(c.kind)).description(Some(format!("{} ({})", c.meaning, c.unit))))
            .required(c.name);
    }
    row.into()
}

/// A page of a dataset: the envelope naming the figures, and the rows.
fn page_schema(dataset: &str) -> Schema {
    typed(Type::Object)
        .property("dataset", typed(Type::String))
        .required("dataset")
        .property(
            "release",
            nullable(Type::String).description(Some("The release's id, or null for provisional figures")),
        )
        .required("release")
        .property("data_version", typed(Type::Integer))
        .required("data_version")
        .property("computed_at", typed(Type::String))
        .required("computed_at")
        .property("provisional", typed(Type::Boolean))
        .required("provisional")
        .property("synthetic", typed(Type::Boolean).description(Some("Demonstration figures, not NHS data")))
        .required("synthetic")
        .property("status", typed(Type::String).enum_values(Some(["provisional", "published", "as_of", "unpublished"])))
        .required("status")
        .property("columns", ArrayBuilder::new().items(reference("Column")))
        .required("columns")
        .property("next", nullable(Type::String).description(Some("The cursor of the next page, or null on the last")))
        .required("next")
        .property("rows", ArrayBuilder::new().items(reference(&format!("Row_{dataset}"))))
        .required("rows")
        .into()
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", ContentBuilder::new().schema(Some(reference("Problem"))).build())
        .build()
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(reference("Error"))).build())
        .content("application/problem+json", ContentBuilder::new().schema(Some(reference("Problem"))).build())
        .build()
}

fn query(name: &str, schema: ObjectBuilder, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(schema))
        .description(Some(description))
        .build()
}

/// The schema of each filter the datasets take, from the reference data: the values it accepts.
fn filter_schema(filter: &str, reference: &crate::domain::Reference) -> ObjectBuilder {
    let one_of = |values: Vec<String>| typed(Type::String).enum_values(Some(values));
    match filter {
        "period" => typed(Type::String)
            .pattern(Some(r"^(latest|[0-9]{4}-Q[1-4]|[0-9]{4}/[0-9]{2} Q[1-4])$"))
            .description(Some("A quarter (2026-Q3 or 2026/27 Q2), or latest")),
        "peer_group" => {
            let types: Vec<&str> = crate::domain::TrustType::ALL.iter().map(|t| t.as_str()).collect();
            typed(Type::String).pattern(Some(format!("^({}|saved-[1-9][0-9]*)$", types.join("|")))).description(Some(
                "A trust type, or a saved peer group (saved-N, listed by the peer_groups dataset); a saved group the \
                 caller may not see is a 404",
            ))
        }
        "metric_id" => one_of(reference.metrics.iter().map(|m| m.metric_id.clone()).collect()),
        "org_code" => one_of(reference.organisations.iter().map(|o| o.ods_code.clone()).collect())
            .description(Some("An ODS code (several may be joined by commas)")),
        "region" => one_of(crate::domain::REGIONS.iter().map(|(_, r)| r.to_string()).collect()),
        "icb" => one_of(crate::domain::icbs().iter().map(|i| i.icb_code.clone()).collect()),
        "exemplar" => one_of(crate::domain::Exemplar::ALL.iter().map(|e| e.as_str().to_string()).collect()),
        "release" => typed(Type::String)
            .pattern(Some(r"^(latest|[0-9]{4}-Q[1-4]\.[0-9]+)$"))
            .description(Some("A release's id, or latest; an unknown release is a 404")),
        "as_of" => typed(Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime)))
            .description(Some("The figures as they stood at a moment (board, analysts, administrators)")),
        _ => typed(Type::String),
    }
}

/// The whole document; the filters' accepted values come from `reference`.
pub fn document(catalogue: &crate::domain::Reference) -> OpenApi {
    let bearer = || SecurityRequirement::new("bearer", Vec::<String>::new());
    let mut components = ComponentsBuilder::new()
        .security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()))
        .schema(
            "Problem",
            typed(Type::Object)
                .description(Some("An RFC 9457 problem document"))
                .property("type", typed(Type::String))
                .property("title", typed(Type::String))
                .required("title")
                .property("status", typed(Type::Integer))
                .required("status")
                .property("detail", typed(Type::String))
                .required("detail"),
        )
        .schema("Error", typed(Type::Object).property("error", typed(Type::String)).required("error"))
        .schema(
            "Column",
            typed(Type::Object)
                .property("name", typed(Type::String))
                .required("name")
                .property("type", typed(Type::String).enum_values(Some(["string", "number", "integer", "boolean"])))
                .required("type")
                .property("unit", typed(Type::String))
                .required("unit")
                .property("meaning", typed(Type::String))
                .required("meaning"),
        )
        .schema(
            "DatasetList",
            typed(Type::Object)
                .property(
                    "datasets",
                    ArrayBuilder::new().items(
                        typed(Type::Object)
                            .property("name", typed(Type::String))
                            .required("name")
                            .property("description", typed(Type::String))
                            .required("description")
                            .property("href", typed(Type::String))
                            .required("href")
                            .property("columns", ArrayBuilder::new().items(reference("Column")))
                            .required("columns"),
                    ),
                )
                .required("datasets"),
        )
        .schema(
            "SubmissionAnswer",
            typed(Type::Object)
                .description(Some("A submission's status, its rows and every error (row, column, reason)"))
                .property("submission_id", nullable(Type::Integer))
                .property("status", typed(Type::String))
                .required("status")
                .property("rows", typed(Type::Integer)),
        );
    let mut paths = PathsBuilder::new().path(
        "/api/v1/datasets",
        PathItemBuilder::new()
            .operation(
                HttpMethod::Get,
                OperationBuilder::new()
                    .operation_id(Some("listDatasets"))
                    .summary(Some("Every dataset with its description and columns"))
                    .security(bearer())
                    .response(
                        "200",
                        ResponseBuilder::new().description("The datasets").content(
                            "application/json",
                            ContentBuilder::new().schema(Some(reference("DatasetList"))).build(),
                        ),
                    )
                    .response("401", problem_response("No valid token or session"))
                    .response("429", problem_response("Too many requests: try again after Retry-After seconds")),
            )
            .build(),
    );
    for (name, description) in EXPORTS {
        components = components
            .schema(format!("Row_{name}"), row_schema(name))
            .schema(format!("Page_{name}"), page_schema(name));
        let mut operation = OperationBuilder::new()
            .operation_id(Some(format!("dataset_{name}")))
            .summary(Some(format!("A page of {name}")))
            .description(Some(*description))
            .tag("datasets")
            .security(bearer());
        for filter in FILTERS {
            operation = operation.parameter(query(
                filter,
                filter_schema(filter, catalogue),
                "An export filter (docs/RULES.md §7.3)",
            ));
        }
        operation = operation
            .parameter(query(
                "limit",
                typed(Type::Integer).minimum(Some(1)).maximum(Some(MOST_LIMIT as i64)),
                &format!("Rows in a page, {DEFAULT_LIMIT} unless given"),
            ))
            .parameter(query(
                "cursor",
                typed(Type::String).pattern(Some("^[0-9a-f]+$")),
                "The next page's cursor, from the previous page's next (another is a 400)",
            ))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("A page of rows")
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(reference(&format!("Page_{name}")))).build(),
                    )
                    .content("text/csv", ContentBuilder::new().schema(Some(typed(Type::String))).build())
                    .content(
                        "application/vnd.apache.parquet",
                        ContentBuilder::new()
                            .schema(Some(typed(Type::String).content_media_type("application/vnd.apache.parquet")))
                            .build(),
                    ),
            )
            .response("304", ResponseBuilder::new().description("Not modified since the ETag sent in If-None-Match"))
            .response("400", problem_response("A parameter is unknown or its value names nothing"))
            .response("401", problem_response("No valid token or session"))
            .response("429", problem_response("Too many requests: try again after Retry-After seconds"))
            .response("403", problem_response("The token's scope or the user's role does not allow it"))
            .response("404", problem_response("No such release"))
            .response("406", problem_response("The Accept header asks for no format offered"));
        paths = paths.path(
            format!("/api/v1/datasets/{name}"),
            PathItemBuilder::new().operation(HttpMethod::Get, operation).build(),
        );
    }
    let answer = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(reference("SubmissionAnswer"))).build())
            .build()
    };
    paths = paths
        .path(
            "/api/v1/submissions",
            PathItemBuilder::new()
                .operation(
                    HttpMethod::Post,
                    OperationBuilder::new()
                        .operation_id(Some("createSubmission"))
                        .summary(Some("Send metric values, targets or conformance results"))
                        .tag("submissions")
                        .security(bearer())
                        .parameter(query("dry_run", typed(Type::Boolean), "Check without storing"))
                        .parameter(query(
                            "kind",
                            typed(Type::String).enum_values(Some(["metrics", "targets", "conformance"])),
                            "What a CSV holds (metrics unless given)",
                        ))
                        .request_body(Some(
                            RequestBodyBuilder::new()
                                .content("text/csv", ContentBuilder::new().schema(Some(typed(Type::String))).build())
                                .content(
                                    "application/fhir+json",
                                    ContentBuilder::new().schema(Some(typed(Type::Object))).build(),
                                )
                                .build(),
                        ))
                        .response("200", answer("Checked (dry run), or the same content as an accepted submission"))
                        .response("201", answer("Stored"))
                        .response("400", error_response("The request could not be read"))
                        .response("401", problem_response("No valid token"))
                        .response("429", problem_response("Too many requests: try again after Retry-After seconds"))
                        .response("403", error_response("Not this user's to send, or the token's scope is read"))
                        .response("409", error_response("The collection window of the quarter is closed"))
                        .response("413", error_response("The body is too large"))
                        .response("415", error_response("A media type that is not accepted"))
                        .response("422", answer("Some row is invalid: nothing stored, every problem listed")),
                )
                .build(),
        )
        .path(
            "/api/v1/submissions/{id}",
            PathItemBuilder::new()
                .operation(
                    HttpMethod::Get,
                    OperationBuilder::new()
                        .operation_id(Some("getSubmission"))
                        .summary(Some("A submission's status and every error"))
                        .tag("submissions")
                        .security(bearer())
                        .parameter(
                            ParameterBuilder::new()
                                .name("id")
                                .parameter_in(ParameterIn::Path)
                                .required(Required::True)
                                .schema(Some(typed(Type::Integer).minimum(Some(1)).maximum(Some(i64::MAX)))),
                        )
                        .response("200", answer("The submission"))
                        .response("400", problem_response("The id is not a number"))
                        .response("401", problem_response("No valid token or session"))
                        .response("429", problem_response("Too many requests: try again after Retry-After seconds"))
                        .response("404", error_response("No submission with this id that the user may see")),
                )
                .build(),
        );
    OpenApiBuilder::new()
        .info(InfoBuilder::new().title("Exemplar API").version("1").description(Some(
            "Every dataset of Exemplar as JSON, CSV or Parquet, and the submission endpoints. \
                     Human documentation: /api.",
        )))
        .paths(paths)
        .components(Some(components.build()))
        .build()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_dataset_has_its_path_and_row_schema() {
        let doc = super::document(&crate::ingest::reference::parse(&crate::ingest::reference::BUNDLED).unwrap());
        let json = serde_json::to_value(&doc).unwrap();
        assert_eq!(json["openapi"], "3.1.0");
        for (name, _) in crate::export::EXPORTS {
            assert!(json["paths"][format!("/api/v1/datasets/{name}")]["get"].is_object(), "{name}");
            assert!(json["components"]["schemas"][format!("Row_{name}")]["properties"].is_object(), "{name}");
        }
    }
}
