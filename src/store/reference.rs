//! Reference data in the database: loaded once from `data/`, read back as a `Reference`.

use super::Store;
use super::batch::{Cell, insert};
use crate::domain::Reference;
use crate::domain::reference::*;
use anyhow::{Context, Result};
use sqlx::Row;

impl Store {
    /// Loads `reference` when the database has none yet; returns whether it did.
    pub async fn ensure_reference(&self, reference: &Reference) -> Result<bool> {
        let (_guard, mut tx) = self.write().await?;
        let loaded: Option<String> = sqlx::query_scalar("SELECT value FROM app_state WHERE key = 'reference_loaded'")
            .fetch_optional(&mut *tx)
            .await?;
        if loaded.is_some() {
            // Definitions are documentation shipped with the code: brought up to date each start.
            for m in &reference.metrics {
                let d = &m.definition;
                sqlx::query(
                    "UPDATE metrics SET rationale = $1, numerator = $2, denominator = $3, source = $4, frequency = $5, \
                     caveats = $6 WHERE metric_id = $7",
                )
                .bind(&d.rationale)
                .bind(&d.numerator)
                .bind(&d.denominator)
                .bind(&d.source)
                .bind(&d.frequency)
                .bind(&d.caveats)
                .bind(&m.metric_id)
                .execute(&mut *tx)
                .await?;
            }
            // A database loaded before ICBs were kept gets each trust's from the bundled list.
            for o in reference.organisations.iter().filter(|o| !o.icb.is_empty()) {
                sqlx::query("UPDATE organisations SET icb = $1 WHERE ods_code = $2 AND icb = ''")
                    .bind(&o.icb)
                    .bind(&o.ods_code)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            return Ok(false);
        }
        let conn = &mut *tx;
        insert(
            conn,
            "domains",
            &["domain_id", "name", "description", "position"],
            reference.domains.iter().enumerate().map(|(i, d)| {
                vec![
                    Cell::Text(d.domain_id.clone()),
                    Cell::Text(d.name.clone()),
                    Cell::Text(d.description.clone()),
                    Cell::Int(i as i64),
                ]
            }),
            "",
        )
        .await?;
        insert(conn, "organisations", ORGANISATION_COLUMNS, reference.organisations.iter().map(organisation_cells), "")
            .await?;
        insert(
            conn,
            "metrics",
            &[
                "metric_id",
                "domain",
                "name",
                "description",
                "unit",
                "scale_min",
                "scale_max",
                "direction",
                "applies_to",
                "counted",
                "rationale",
                "numerator",
                "denominator",
                "source",
                "frequency",
                "caveats",
                "position",
            ],
            reference.metrics.iter().enumerate().map(|(i, m)| {
                vec![
                    Cell::Text(m.metric_id.clone()),
                    Cell::Text(m.domain.clone()),
                    Cell::Text(m.name.clone()),
                    Cell::Text(m.description.clone()),
                    Cell::Text(m.unit.to_string()),
                    Cell::Float(m.scale_min),
                    Cell::Float(m.scale_max),
                    Cell::Text(m.direction.to_string()),
                    Cell::Text(m.applies_to_text()),
                    Cell::Text(m.counted.clone()),
                    Cell::Text(m.definition.rationale.clone()),
                    Cell::Text(m.definition.numerator.clone()),
                    Cell::Text(m.definition.denominator.clone()),
                    Cell::Text(m.definition.source.clone()),
                    Cell::Text(m.definition.frequency.clone()),
                    Cell::Text(m.definition.caveats.clone()),
                    Cell::Int(i as i64),
                ]
            }),
            "",
        )
        .await?;
        insert(
            conn,
            "standards",
            &[
                "standard_id",
                "name",
                "category",
                "version",
                "mandatory_from",
                "assessed_at",
                "reference",
                "description",
                "position",
            ],
            reference.standards.iter().enumerate().map(|(i, s)| {
                vec![
                    Cell::Text(s.standard_id.clone()),
                    Cell::Text(s.name.clone()),
                    Cell::Text(s.category.to_string()),
                    Cell::Text(s.version.clone()),
                    Cell::OptText(s.mandatory_from.map(|d| d.to_string())),
                    Cell::Text(s.assessed_at.to_string()),
                    Cell::Text(s.reference.clone()),
                    Cell::Text(s.description.clone()),
                    Cell::Int(i as i64),
                ]
            }),
            "",
        )
        .await?;
        insert(
            conn,
            "systems",
            &["system_id", "supplier", "product", "version", "position"],
            reference.systems.iter().enumerate().map(|(i, s)| {
                vec![
                    Cell::Text(s.system_id.clone()),
                    Cell::Text(s.supplier.clone()),
                    Cell::Text(s.product.clone()),
                    Cell::Text(s.version.clone()),
                    Cell::Int(i as i64),
                ]
            }),
            "",
        )
        .await?;
        insert(
            conn,
            "deployments",
            &["ods_code", "system_id", "function"],
            reference.deployments.iter().map(|d| {
                vec![Cell::Text(d.ods_code.clone()), Cell::Text(d.system_id.clone()), Cell::Text(d.function.clone())]
            }),
            "",
        )
        .await?;
        sqlx::query("INSERT INTO app_state (key, value) VALUES ('reference_loaded', $1)")
            .bind(super::now_text())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, 'system', 'reference.load', 'reference data', $2)")
            .bind(super::now_text())
            .bind(format!(
                "{} organisations, {} metrics, {} standards, {} systems",
                reference.organisations.len(), reference.metrics.len(), reference.standards.len(), reference.systems.len()
            ))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The reference data as stored.
    pub async fn reference(&self) -> Result<Reference> {
        let organisations = sqlx::query(
            "SELECT ods_code, name, trust_type, region, exemplar, exemplar_cohort, icb FROM organisations ORDER BY ods_code",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| {
            Ok(Organisation {
                ods_code: r.try_get(0)?,
                name: r.try_get(1)?,
                trust_type: parse(r.try_get(2)?)?,
                region: r.try_get(3)?,
                exemplar: parse(r.try_get(4)?)?,
                exemplar_cohort: r.try_get::<Option<i64>, _>(5)?.map(|y| y as i32),
                icb: r.try_get(6)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let domains = sqlx::query("SELECT domain_id, name, description FROM domains ORDER BY position")
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| Ok(Domain { domain_id: r.try_get(0)?, name: r.try_get(1)?, description: r.try_get(2)? }))
            .collect::<Result<Vec<_>>>()?;
        let metrics = sqlx::query(
            "SELECT metric_id, domain, name, description, unit, scale_min, scale_max, direction, applies_to, counted, \
             rationale, numerator, denominator, source, frequency, caveats FROM metrics ORDER BY position",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| {
            Ok(Metric {
                metric_id: r.try_get(0)?,
                domain: r.try_get(1)?,
                name: r.try_get(2)?,
                description: r.try_get(3)?,
                unit: parse(r.try_get(4)?)?,
                scale_min: r.try_get(5)?,
                scale_max: r.try_get(6)?,
                direction: parse(r.try_get(7)?)?,
                applies_to: Metric::parse_applies_to(&r.try_get::<String, _>(8)?).map_err(anyhow::Error::msg)?,
                counted: r.try_get(9)?,
                definition: Definition {
                    rationale: r.try_get(10)?,
                    numerator: r.try_get(11)?,
                    denominator: r.try_get(12)?,
                    source: r.try_get(13)?,
                    frequency: r.try_get(14)?,
                    caveats: r.try_get(15)?,
                },
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let standards = sqlx::query("SELECT standard_id, name, category, version, mandatory_from, assessed_at, reference, description FROM standards ORDER BY position")
            .fetch_all(&self.pool).await?
            .into_iter()
            .map(|r| Ok(Standard {
                standard_id: r.try_get(0)?,
                name: r.try_get(1)?,
                category: parse(r.try_get(2)?)?,
                version: r.try_get(3)?,
                mandatory_from: r.try_get::<Option<String>, _>(4)?.map(|d| d.parse()).transpose().context("mandatory_from")?,
                assessed_at: parse(r.try_get(5)?)?,
                reference: r.try_get(6)?,
                description: r.try_get(7)?,
            }))
            .collect::<Result<Vec<_>>>()?;
        let systems = sqlx::query("SELECT system_id, supplier, product, version FROM systems ORDER BY position")
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| {
                Ok(System {
                    system_id: r.try_get(0)?,
                    supplier: r.try_get(1)?,
                    product: r.try_get(2)?,
                    version: r.try_get(3)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let deployments =
            sqlx::query("SELECT ods_code, system_id, function FROM deployments ORDER BY ods_code, function, system_id")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|r| Ok(Deployment { ods_code: r.try_get(0)?, system_id: r.try_get(1)?, function: r.try_get(2)? }))
                .collect::<Result<Vec<_>>>()?;
        Ok(Reference::new(organisations, domains, metrics, standards, systems, deployments))
    }
}

const ORGANISATION_COLUMNS: &[&str] =
    &["ods_code", "name", "trust_type", "region", "exemplar", "exemplar_cohort", "icb"];

fn organisation_cells(o: &Organisation) -> Vec<Cell> {
    vec![
        Cell::Text(o.ods_code.clone()),
        Cell::Text(o.name.clone()),
        Cell::Text(o.trust_type.to_string()),
        Cell::Text(o.region.clone()),
        Cell::Text(o.exemplar.to_string()),
        Cell::OptInt(o.exemplar_cohort.map(i64::from)),
        Cell::Text(o.icb.clone()),
    ]
}

fn parse<T: std::str::FromStr<Err = String>>(text: String) -> Result<T> {
    text.parse().map_err(anyhow::Error::msg)
}

impl Store {
    /// Adds the organisations whose ODS code is new and replaces the details of the others, as
    /// one submission: a new data version, since peer groups and cohorts may change.
    pub async fn store_organisations(
        &self,
        sub: &super::NewSubmission,
        orgs: &[Organisation],
    ) -> Result<super::Outcome> {
        let (_guard, mut tx, id) = match self.open_submission(sub, orgs.len()).await? {
            Ok(opened) => opened,
            Err(duplicate) => return Ok(duplicate),
        };
        let known: std::collections::HashSet<String> =
            sqlx::query_scalar("SELECT ods_code FROM organisations").fetch_all(&mut *tx).await?.into_iter().collect();
        let added = orgs.iter().filter(|o| !known.contains(&o.ods_code)).count();
        insert(
            &mut tx,
            "organisations",
            ORGANISATION_COLUMNS,
            orgs.iter().map(organisation_cells),
            "ON CONFLICT (ods_code) DO UPDATE SET name = excluded.name, trust_type = excluded.trust_type, \
             region = excluded.region, exemplar = excluded.exemplar, exemplar_cohort = excluded.exemplar_cohort, \
             icb = CASE WHEN excluded.icb = '' THEN organisations.icb ELSE excluded.icb END",
        )
        .await?;
        let detail = format!("{} organisations: {added} added, {} updated", orgs.len(), orgs.len() - added);
        super::submissions::close_submission(tx, sub, id, orgs.len(), orgs.len(), &detail).await
    }
}
