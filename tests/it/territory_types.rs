//! The eight territory types of a sales organisation (issue #17), each the active plan of
//! its own team on the demo's real NYC ZIP polygons, with 1,500 synthetic accounts placed
//! around the real ZIP points: geography, customer type, product line (an overlay by
//! borough), vertical market, customer demographics, profitability, channel partner and
//! lead source. Every account's owner in every team comes from the API's export and is
//! checked against an owner worked out here (the unit by point-in-polygon on the raw
//! GeoJSON, the territory from the sheet, the rules as Rust predicates); leads are routed
//! as their accounts are; demographic and profitability plans are rebalanced on a unit
//! metric from another table and on an account metric, and the served sums agree.

use crate::common::{self, send};

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use actix_web::{App, http::StatusCode, test, web};
use geo::{Contains, MultiPolygon, Point};
use geoalign::build::RebalanceParams;
use geoalign::engine::{MaxMoved, RebalanceRequest};
use geoalign::http::{AppState, configure};
use serde_json::{Value, json};

/// A small deterministic generator (SplitMix64), so the accounts are the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// A synthetic account: where it is, and the fields the rules read.
struct Account {
    id: String,
    lon: f64,
    lat: f64,
    employees: f64,
    potential: f64,
    margin: f64,
    text: BTreeMap<&'static str, String>,
}

impl Account {
    fn get(&self, field: &str) -> &str {
        self.text.get(field).map_or("", String::as_str)
    }
}

fn accounts(n: usize) -> Vec<Account> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut points = csv::Reader::from_path(data.join("nyc_zip_points.csv")).unwrap();
    let zips: Vec<(f64, f64)> = points
        .deserialize::<HashMap<String, String>>()
        .map(Result::unwrap)
        .filter(|r| r["zip_type"] == "Standard")
        .map(|r| (r["lon"].parse().unwrap(), r["lat"].parse().unwrap()))
        .collect();
    let mut rng = Rng(17);
    (0..n)
        .map(|i| {
            let (lon, lat) = zips[i % zips.len()];
            let employees = (2 + rng.next() % 3000) as f64;
            let channel = if rng.unit() < 0.2 { "partner" } else { "direct" };
            let mut text = BTreeMap::from([
                (
                    "customer_type",
                    if employees >= 500.0 { "enterprise" } else { "smb" }.to_owned(),
                ),
                (
                    "product_line",
                    rng.pick(&["core", "oncology", "imaging"]).to_owned(),
                ),
                (
                    "vertical",
                    rng.pick(&["Healthcare", "Finance", "Insurance", "Retail", "Manufacturing"])
                        .to_owned(),
                ),
                ("age_band", rng.pick(&["18-34", "35-54", "55+"]).to_owned()),
                ("channel", channel.to_owned()),
                (
                    "lead_source",
                    rng.pick(&["web", "tradeshow", "referral", "event"]).to_owned(),
                ),
            ]);
            if channel == "partner" {
                text.insert("partner_id", rng.pick(&["P17", "P42"]).to_owned());
            }
            Account {
                id: format!("C{i:05}"),
                lon: lon + (rng.unit() - 0.5) * 0.004,
                lat: lat + (rng.unit() - 0.5) * 0.003,
                employees,
                potential: (10_000 * (1 + rng.next() % 200)) as f64,
                margin: (5 + rng.next() % 46) as f64 / 100.0,
                text,
            }
        })
        .collect()
}

/// Each team's plan: the territory an account belongs to by its rules, if one matches
/// (in priority order), with the rules as the API gets them.
struct Plan {
    team: &'static str,
    rules: Vec<(&'static str, &'static str, &'static str)>,
    by_rule: fn(&Account) -> Option<&'static str>,
}

fn plans() -> Vec<Plan> {
    vec![
        Plan {
            team: "core",
            rules: vec![],
            by_rule: |_| None,
        },
        Plan {
            team: "enterprise",
            rules: vec![("ENT", "ENT", "customer_type = 'enterprise'")],
            by_rule: |a| (a.get("customer_type") == "enterprise").then_some("ENT"),
        },
        Plan {
            team: "oncology",
            rules: vec![("NOT-ONC", "CORE-ONLY", "product_line <> 'oncology'")],
            by_rule: |a| (a.get("product_line") != "oncology").then_some("CORE-ONLY"),
        },
        Plan {
            team: "vertical",
            rules: vec![
                ("HC", "VERT-HC", "vertical = 'Healthcare'"),
                ("LARGE", "VERT-LARGE", "employees >= 2000"),
                ("FIN", "VERT-FIN", "vertical IN ('Finance', 'Insurance')"),
            ],
            by_rule: |a| match a.get("vertical") {
                "Healthcare" => Some("VERT-HC"),
                _ if a.employees >= 2000.0 => Some("VERT-LARGE"),
                "Finance" | "Insurance" => Some("VERT-FIN"),
                _ => None,
            },
        },
        Plan {
            team: "demographics",
            rules: vec![("SENIOR", "SENIOR", "age_band = '55+'")],
            by_rule: |a| (a.get("age_band") == "55+").then_some("SENIOR"),
        },
        Plan {
            team: "profitability",
            rules: vec![("KEY", "KEY", "potential >= 1000000 AND margin >= 0.3")],
            by_rule: |a| (a.potential >= 1e6 && a.margin >= 0.3).then_some("KEY"),
        },
        Plan {
            team: "partners",
            rules: vec![
                ("P17", "PARTNER-17", "channel = 'partner' AND partner_id = 'P17'"),
                ("P42", "PARTNER-42", "channel = 'partner' AND partner_id = 'P42'"),
            ],
            by_rule: |a| match (a.get("channel"), a.get("partner_id")) {
                ("partner", "P17") => Some("PARTNER-17"),
                ("partner", "P42") => Some("PARTNER-42"),
                _ => None,
            },
        },
        Plan {
            team: "inside",
            rules: vec![("INSIDE", "INSIDE", "lead_source IN ('tradeshow', 'referral')")],
            by_rule: |a| matches!(a.get("lead_source"), "tradeshow" | "referral").then_some("INSIDE"),
        },
    ]
}

/// The raw NYC ZIP polygons by id, read independently of geoalign's readers.
fn zip_polygons() -> Vec<(String, MultiPolygon<f64>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/nyc_modzcta.geojson");
    let collection: geojson::FeatureCollection = std::fs::read_to_string(path).unwrap().parse().unwrap();
    collection
        .features
        .into_iter()
        .map(|f| {
            let id = f.property("modzcta").unwrap().as_str().unwrap().to_owned();
            let geometry: MultiPolygon<f64> = f.geometry.unwrap().try_into().unwrap();
            (id, geometry)
        })
        .collect()
}

/// The demo sheet: unit -> (territory, district).
fn sheet() -> HashMap<String, (String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/nyc_alignment.csv");
    csv::Reader::from_path(path)
        .unwrap()
        .deserialize::<HashMap<String, String>>()
        .map(Result::unwrap)
        .map(|r| {
            (
                r["unit_id"].clone(),
                (r["territory"].clone(), r["district"].clone()),
            )
        })
        .collect()
}

#[actix_web::test]
async fn eight_territory_types_are_modelled_queried_balanced_and_exported() {
    use geoalign::ingest::metrics_table::{MetricsImport, import};
    let (dir, engine) = common::sample_engine();
    let engine = Arc::new(engine);
    let state = web::Data::new(AppState::with_engine(engine.clone()));
    let app = test::init_service(App::new().app_data(state).configure(configure)).await;
    let accounts = accounts(1500);
    let revision = |name: &str| engine.snapshot(name).unwrap().revision;
    let post_changes = |name: &str, changes: Value| {
        test::TestRequest::post()
            .uri(&format!("/api/alignments/{name}/changes"))
            .set_json(json!({"expected_revision": revision(name), "changes": changes}))
    };

    // The accounts, then a copy of the demo plan per team.
    let records: serde_json::Map<String, Value> = accounts
        .iter()
        .map(|a| {
            let record = json!({"name": a.id, "lon": a.lon, "lat": a.lat,
                "metrics": {"employees": a.employees, "potential": a.potential, "margin": a.margin},
                "attributes": a.text});
            (a.id.clone(), record)
        })
        .collect();
    let (status, body) = send(
        &app,
        post_changes("nyc", json!([{"op": "upsert_accounts", "accounts": records}])),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let plans = plans();
    for plan in &plans {
        let name = match plan.team {
            "core" => "nyc".to_owned(),
            team => {
                let (status, body) = send(
                    &app,
                    test::TestRequest::post()
                        .uri("/api/alignments")
                        .set_json(json!({"name": team, "copy_of": "nyc"})),
                )
                .await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                team.to_owned()
            }
        };
        if plan.team == "oncology" {
            // The product line's overlay covers a borough per territory.
            let mut csv = String::from("unit_id,territory\n");
            for (unit, (_, district)) in sheet() {
                csv.push_str(&format!("{unit},ONC-{district}\n"));
            }
            let (status, body) = send(
                &app,
                test::TestRequest::put()
                    .uri(&format!(
                        "/api/alignments/oncology/sheet?expected_revision={}",
                        revision("oncology")
                    ))
                    .insert_header(("content-type", "text/csv"))
                    .set_payload(csv),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let mut changes = Vec::new();
        for (rule, territory, condition) in &plan.rules {
            if !changes
                .iter()
                .any(|c: &Value| c["op"] == "create_territory" && c["code"] == *territory)
            {
                changes.push(json!({"op": "create_territory", "code": territory}));
            }
            changes.push(
                json!({"op": "create_rule", "rule": rule, "territory": territory, "condition": condition}),
            );
        }
        if !changes.is_empty() {
            let (status, body) = send(&app, post_changes(&name, Value::Array(changes))).await;
            assert_eq!(status, StatusCode::OK, "{}: {body}", plan.team);
        }
        let (status, body) = send(
            &app,
            test::TestRequest::patch()
                .uri(&format!("/api/alignments/{name}"))
                .insert_header(("content-type", "application/merge-patch+json"))
                .set_payload(json!({"team": plan.team, "active": true}).to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // Every account's owner in every team, from the export.
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/accounts?team=all")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let exported = test::read_body(res).await;
    let mut rows: HashMap<(String, String), HashMap<String, String>> = HashMap::new();
    for row in csv::Reader::from_reader(&exported[..]).deserialize::<HashMap<String, String>>() {
        let row = row.unwrap();
        rows.insert((row["team"].clone(), row["id"].clone()), row);
    }
    assert_eq!(rows.len(), accounts.len() * plans.len());
    let polygons = zip_polygons();
    let sheet = sheet();
    let mut checked = 0;
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for account in &accounts {
        let point = Point::new(account.lon, account.lat);
        let containing: Vec<&str> = polygons
            .iter()
            .filter(|(_, p)| p.contains(&point))
            .map(|(id, _)| id.as_str())
            .collect();
        for plan in &plans {
            let row = &rows[&(plan.team.to_owned(), account.id.clone())];
            let unit = row["unit"].as_str();
            // The unit: the one raw polygon holding the point, or one of two that overlap
            // there (cleaning gives the overlap to one of them).
            match containing.as_slice() {
                [one] => assert_eq!(unit, *one, "{}", account.id),
                [] => {}
                several => assert!(several.contains(&unit), "{} in {several:?}: {unit}", account.id),
            }
            let geography = sheet.get(unit).map(|(territory, district)| match plan.team {
                "oncology" => format!("ONC-{district}"),
                _ => territory.clone(),
            });
            let (expected, placed_by) = match (plan.by_rule)(account) {
                Some(territory) => {
                    *by_rule.entry(territory).or_default() += 1;
                    (Some(territory.to_owned()), "rule")
                }
                None => (geography, "unit"),
            };
            let expected = expected.unwrap_or_default();
            assert_eq!(
                (row["territory"].as_str(), row["placed_by"].as_str()),
                (
                    expected.as_str(),
                    if expected.is_empty() { "" } else { placed_by }
                ),
                "team {}, account {}",
                plan.team,
                account.id
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 1500 * 8);
    // Every rule territory got accounts, so no scenario passed vacuously.
    for plan in &plans {
        for (_, territory, _) in &plan.rules {
            assert!(
                by_rule.get(territory).copied().unwrap_or(0) > 20,
                "{territory}: {by_rule:?}"
            );
        }
    }

    // Leads routed in every team land where the same record as an account does.
    for account in accounts.iter().step_by(97) {
        let mut lead = json!({"id": account.id, "lon": account.lon, "lat": account.lat,
            "employees": account.employees, "potential": account.potential, "margin": account.margin});
        for (k, v) in &account.text {
            lead[*k] = json!(v);
        }
        let (status, routed) = send(
            &app,
            test::TestRequest::post()
                .uri("/api/route?team=all")
                .set_json(&lead),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{routed}");
        let answers = routed["answers"].as_array().unwrap();
        assert_eq!(answers.len(), plans.len());
        for answer in answers {
            let team = answer["team"].as_str().unwrap();
            let row = &rows[&(team.to_owned(), account.id.clone())];
            let territory = answer["owner"]["territory"].as_str().unwrap_or("");
            assert_eq!(
                (territory, answer["decided_by"].as_str().unwrap_or("")),
                (row["territory"].as_str(), row["placed_by"].as_str()),
                "lead {} in team {team}: {answer}",
                account.id
            );
        }
    }

    // By address (geocoded once for all eight plans, which share their units): each team's
    // answer is the one its plan gives alone, and the geocode answers agree.
    for zip in ["10001", "11201", "10314"] {
        let lead = json!({"id": zip, "address": format!("New York, NY {zip}"),
            "lead_source": "tradeshow", "customer_type": "enterprise", "employees": 3000});
        let (status, all) = send(
            &app,
            test::TestRequest::post()
                .uri("/api/route?team=all")
                .set_json(&lead),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{all}");
        let (_, geocoded) = send(
            &app,
            test::TestRequest::get().uri(&format!("/api/geocode?team=all&q=New%20York,%20NY%20{zip}")),
        )
        .await;
        for (answer, found) in all["answers"]
            .as_array()
            .unwrap()
            .iter()
            .zip(geocoded["answers"].as_array().unwrap())
        {
            let alignment = answer["alignment"].as_str().unwrap();
            let (_, alone) = send(
                &app,
                test::TestRequest::post()
                    .uri(&format!("/api/route?alignment={alignment}"))
                    .set_json(&lead),
            )
            .await;
            for field in ["unit", "owner", "decided_by", "rule", "geocoded", "point"] {
                assert_eq!(answer[field], alone[field], "{zip} in {alignment}: {field}");
            }
            let (_, found_alone) = send(
                &app,
                test::TestRequest::get().uri(&format!(
                    "/api/geocode?alignment={alignment}&q=New%20York,%20NY%20{zip}"
                )),
            )
            .await;
            assert_eq!(found["alignment"], alignment);
            for field in ["unit", "owner", "reps", "point", "match"] {
                assert_eq!(
                    found[field], found_alone[field],
                    "geocode {zip} in {alignment}: {field}"
                );
            }
        }
    }

    // Rule territories in the level listing: their accounts and account sums, and no
    // part in the units' balance (they hold none).
    let (status, listing) = send(
        &app,
        test::TestRequest::get().uri("/api/alignments/profitability/territories"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{listing}");
    let items = listing["items"].as_array().unwrap();
    let key = items.iter().find(|t| t["code"] == "KEY").unwrap();
    let key_accounts: Vec<&Account> = accounts
        .iter()
        .filter(|a| a.potential >= 1e6 && a.margin >= 0.3)
        .collect();
    assert_eq!(key["metrics"]["accounts"], key_accounts.len());
    let key_potential: f64 = key_accounts.iter().map(|a| a.potential).sum();
    assert_eq!(key["metrics"]["account_sums"]["potential"], key_potential);
    assert_eq!(key["rules"], json!(["KEY"]));
    let geographic: Vec<&Value> = items.iter().filter(|t| t["code"] != "KEY").collect();
    let mean = |metric: &str| {
        geographic
            .iter()
            .map(|t| t["metrics"]["sums"][metric].as_f64().unwrap_or(0.0))
            .sum::<f64>()
            / geographic.len() as f64
    };
    let served = listing["summary"]["population_estimate"]["mean"]
        .as_f64()
        .unwrap();
    assert!(
        (served - mean("population_estimate")).abs() < 1e-6,
        "the population mean is over the territories holding units: {served}"
    );
    assert!(key.get("deviation").is_none(), "{key}");

    // Profitability: rebalanced on an account metric. Units move with the accounts that
    // follow them; the rule territory takes no unit, and the served sums are the
    // proposal's.
    let request = |alignment: &str, balance: &str| RebalanceRequest {
        alignment: alignment.into(),
        balance: balance.into(),
        max_moved: MaxMoved::Units(40),
        params: RebalanceParams {
            tolerance: 0.25,
            ..RebalanceParams::default()
        },
    };
    let worst = |q: &geoalign::build::Quality| q.metrics[0].max_abs_deviation;
    for (alignment, balance) in [("profitability", "potential"), ("demographics", "seniors")] {
        if balance == "seniors" {
            // Demographics: a unit metric from another table (the CLI's `metrics import`).
            let ids: Vec<String> = engine
                .snapshot("nyc")
                .unwrap()
                .dataset
                .units
                .iter()
                .map(|u| u.id.clone())
                .collect();
            let mut csv = String::from("zip,seniors\n");
            for id in &ids {
                let n: u64 = id.parse().unwrap_or(0);
                csv.push_str(&format!("{id},{}\n", 200 + (n * 7919) % 3000));
            }
            let file = dir.path().join("seniors.csv");
            std::fs::write(&file, csv).unwrap();
            let options = MetricsImport {
                path: file,
                dataset: "nyc".into(),
                id_field: "zip".into(),
                choices: Default::default(),
            };
            import(engine.store(), &options).unwrap();
            engine.refresh().unwrap();
        }
        let proposal = engine.rebalance(&request(alignment, balance), &|_| true).unwrap();
        // Closer to balance (the worst may be a one-unit territory with no neighbour to
        // take from, so it is the spread and the count within the tolerance that show it).
        let (before, after) = (&proposal.before.metrics[0], &proposal.after.metrics[0]);
        assert!(
            after.cv < before.cv && after.within_tolerance > before.within_tolerance,
            "{alignment} on {balance}: {before:?} -> {after:?}"
        );
        let rule_territory = plans
            .iter()
            .find(|p| p.team == alignment)
            .map(|p| p.rules[0].1)
            .unwrap();
        for t in &proposal.transfers {
            assert!(t.from != rule_territory && t.to != rule_territory, "{t:?}");
        }
        assert_eq!(proposal.after.territories, geographic.len());
        let (status, body) = send(
            &app,
            test::TestRequest::post()
                .uri(&format!("/api/alignments/{alignment}/changes"))
                .set_json(json!({"expected_revision": proposal.expected_revision,
                    "changes": proposal.changes})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // The served territories now deviate as the proposal said.
        let (_, listing) = send(
            &app,
            test::TestRequest::get().uri(&format!("/api/alignments/{alignment}/territories")),
        )
        .await;
        let served = listing["summary"][balance]["max_abs_deviation"].as_f64().unwrap();
        assert!(
            (served - worst(&proposal.after)).abs() < 1e-9,
            "{alignment}: served max |dev| {served}, proposed {}",
            worst(&proposal.after)
        );
    }
}
