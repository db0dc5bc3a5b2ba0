//! The conformance exports: results, systems, trusts' conformance and the upgrade list.

use super::{Filter, Out, declared, write_table};
use crate::conformance::{Current, system_status, trust_conformance, upgrades};
use crate::figures::Figures;
use std::io::Write;

/// Writes one of the conformance exports, as of today.
pub fn write_conformance_export<W: Write + Send>(
    name: &str,
    f: &Figures,
    filter: &Filter,
    out: Out<W>,
) -> anyhow::Result<bool> {
    let r = &f.reference;
    let today = chrono::Utc::now().date_naive();
    let current = Current::on(&f.conformance, today);
    // Organisation filters apply to organisation subjects; system results pass them.
    let subject_ok = |subject: &str, kind: &str| {
        kind != "organisation"
            || (filter.org_ok(r, subject)
                && r.organisation(subject).is_some_and(|o| filter.peer_ok(o.trust_type.as_str())))
    };
    match name {
        "conformance" => write_table(
            out,
            "conformance",
            f.conformance.iter().filter(|c| subject_ok(&c.subject, &c.subject_kind)).map(|c| {
                let is_current = current.get(&c.subject, &c.standard_id).is_some_and(|x| x.id == c.id);
                declared::conformance::cells(c, is_current)
            }),
        )?,
        "systems" => write_table(
            out,
            "systems",
            r.systems.iter().map(|s| {
                let st = system_status(r, &current, &s.system_id, today);
                declared::systems::cells(s, &st)
            }),
        )?,
        "trust_conformance" => write_table(
            out,
            "trust_conformance",
            r.organisations
                .iter()
                .filter(|o| filter.org_ok(r, &o.ods_code) && filter.peer_ok(o.trust_type.as_str()))
                .map(|o| {
                    let t = trust_conformance(r, &current, &o.ods_code, today);
                    declared::trust_conformance::cells(o, &t)
                }),
        )?,
        "upgrades" => write_table(
            out,
            "upgrades",
            upgrades(r, &current, today)
                .into_iter()
                .filter(|u| {
                    filter.org_ok(r, &u.ods_code)
                        && r.organisation(&u.ods_code).is_some_and(|o| filter.peer_ok(o.trust_type.as_str()))
                })
                .map(|u| {
                    let o = r.organisation(&u.ods_code);
                    declared::upgrades::cells(&u, o)
                }),
        )?,
        _ => return Ok(false),
    }
    Ok(true)
}
