//! `spotprices fetch` against a real HTTP server (tests/http_server.py)
//! serving the real documents of `corpus/prices/` at the request paths
//! the tool uses, and documents built on their structure.

mod common;

use common::*;
use han_testkit::names;
use serde_json::{Value, json};

const TOKEN: &str = "0a1b2c3d-test-token";

/// The config for a server: every source's URL pointed at it.
fn cfg(tmp: &Tmp, s: &Server, extra: &str) -> std::path::PathBuf {
    config(
        tmp,
        &format!(
            "token = \"{TOKEN}\"\napi_url = \"{}\"\npublic_url = \"{}\"\necb_url = \"{}\"\nnorges_bank_url = \"{}\"\nretry_delay = \"10ms\"\nretries = 2\ndir = \"{}\"\n{extra}",
            s.url("/api"),
            s.url("/pub"),
            s.url("/ecb"),
            s.url("/nb"),
            tmp.join("prices").display()
        ),
    )
}

fn slots(v: &Value) -> &Vec<Value> {
    v["slots"].as_array().expect("slots")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// Close to a hand-computed price: well inside an øre or a cent.
fn near(got: f64, want: f64) {
    assert!((got - want).abs() < 0.000006, "got {got}, want {want}");
}

#[test]
fn the_request_names_the_zone_and_the_local_day_and_the_files_hold_it() {
    let Some(dir) = prices_dir() else { return };
    let tmp = Tmp::new("spotprices", "request");
    let s = Server::start(
        &tmp,
        &[route(
            "/api",
            json!({"in_Domain": "10YNL----------L"}),
            json!([file(200, &dir.join("jarvis_NL_PT60M_A03-gap_2025-04-02.xml"))]),
        )],
    );
    let c = cfg(&tmp, &s, "zone = \"NL\"\n");
    let out = run(&c, &["fetch", "--date", "2025-04-02"]);
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{se}");
    assert!(so.contains("NL 2025-04-02: 24 slots of 60 min"), "{so}");
    assert!(!so.contains(TOKEN) && !se.contains(TOKEN), "the token is never shown");
    let reqs = s.requests();
    assert_eq!(reqs.len(), 1);
    let (path, q) = &reqs[0];
    assert_eq!(path, "/api");
    assert_eq!(q["securityToken"], TOKEN);
    assert_eq!(q["documentType"], "A44");
    assert_eq!(q["in_Domain"], "10YNL----------L");
    assert_eq!(q["out_Domain"], "10YNL----------L");
    assert_eq!(q["contract_MarketAgreement.type"], "A01");
    // The Amsterdam day in UTC: 22:00 to 22:00 in summer time.
    assert_eq!(q["periodStart"], "202504012200");
    assert_eq!(q["periodEnd"], "202504022200");

    let day = day_file(&tmp.join("prices"), "2025-04-02");
    assert_eq!(day["zone"], "NL");
    assert_eq!(day["date"], "2025-04-02");
    assert_eq!(day["currency"], "EUR");
    assert_eq!(day["rate"], Value::Null);
    assert_eq!(day["source"], "entsoe");
    let sl = slots(&day);
    assert_eq!(sl.len(), 24);
    assert_eq!(sl[0]["start"], "2025-04-01T22:00:00Z");
    assert_eq!(sl[0]["end"], "2025-04-01T23:00:00Z");
    assert_eq!(sl[23]["end"], "2025-04-02T22:00:00Z");
    // Position 21 is left out (A03): it runs on at 20's price.
    assert_eq!((f(&sl[19]["eur_per_mwh"]), f(&sl[20]["eur_per_mwh"])), (114.0, 114.0));
    assert_eq!(f(&sl[0]["spot_per_kwh"]), 0.06563);
    assert_eq!(sl[0]["total_per_kwh"], Value::Null);
    // The CSV holds the same slots.
    let csv = std::fs::read_to_string(tmp.join("prices/2025-04-02.csv")).expect("csv");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "start,end,eur_per_mwh,spot_per_kwh,total_per_kwh");
    assert_eq!(rows.len(), 25);
    assert_eq!(rows[21], "2025-04-02T18:00:00Z,2025-04-02T19:00:00Z,114,0.114,");

    // A second run finds the day there and asks nothing.
    let again = run(&c, &["fetch", "--date", "2025-04-02"]);
    assert!(again.status.success());
    assert!(text(&again.stderr).contains("already there"), "{}", text(&again.stderr));
    assert_eq!(s.requests().len(), 1);
    let quiet = run(&c, &["fetch", "--date", "2025-04-02", "--quiet-if-done"]);
    assert!(quiet.status.success() && quiet.stderr.is_empty(), "{}", text(&quiet.stderr));
}

#[test]
fn dst_days_have_92_and_100_quarters() {
    let Some(_) = prices_dir() else { return };
    let tmp = Tmp::new("spotprices", "dst");
    let spring: Vec<f64> = (0..92).map(|i| 40.0 + i as f64).collect();
    let autumn: Vec<f64> = (0..100).map(|i| 10.0 + i as f64 / 4.0).collect();
    let normal: Vec<f64> = (0..96).map(|i| 20.0 + i as f64).collect();
    let eic = "10YNO-1--------2";
    let spring_doc = save(&tmp, "spring.xml", &a44(eic, at("2025-03-29T23:00:00Z"), 15, &spring));
    let autumn_doc = save(&tmp, "autumn.xml", &a44(eic, at("2025-10-25T22:00:00Z"), 15, &autumn));
    // 96 quarters from the autumn day's midnight: an hour short of the day.
    let short_doc = save(&tmp, "short.xml", &a44(eic, at("2025-10-25T22:00:00Z"), 15, &normal));
    let s = Server::start(
        &tmp,
        &[
            route("/api", json!({"periodStart": "202503292300"}), json!([file(200, &spring_doc)])),
            route(
                "/api",
                json!({"periodStart": "202510252200", "periodEnd": "202510262300"}),
                json!([file(200, &autumn_doc), file(200, &short_doc)]),
            ),
        ],
    );
    let c = cfg(&tmp, &s, "zone = \"NO1\"\ncurrency = \"EUR\"\n");
    for (date, n, first, last) in [
        ("2025-03-30", 92, "2025-03-29T23:00:00Z", "2025-03-30T22:00:00Z"),
        ("2025-10-26", 100, "2025-10-25T22:00:00Z", "2025-10-26T23:00:00Z"),
    ] {
        let out = run(&c, &["fetch", "--date", date]);
        assert!(out.status.success(), "{date}: {}", text(&out.stderr));
        let day = day_file(&tmp.join("prices"), date);
        let sl = slots(&day);
        assert_eq!(sl.len(), n, "{date}");
        assert_eq!(sl[0]["start"], first);
        assert_eq!(sl[n - 1]["end"], last);
        assert_eq!(day["resolution"], 15);
        let csv = std::fs::read_to_string(tmp.join(&format!("prices/{date}.csv"))).expect("csv");
        assert_eq!(csv.lines().count(), n + 1);
    }
    // The autumn day's repeated hour is shown twice, told apart by its offset.
    let show = run(&c, &["show", "--date", "2025-10-26"]);
    let table = text(&show.stdout);
    assert!(table.contains("02:00+02-02:15+02") && table.contains("02:00+01-02:15+01"), "{table}");
    // A document an hour short of the 25-hour day is refused, and nothing
    // written (exit 3: the fallback has nothing yet either, so cron retries).
    std::fs::remove_file(tmp.join("prices/2025-10-26.json")).expect("removed");
    std::fs::remove_file(tmp.join("prices/2025-10-26.csv")).expect("removed");
    let out = run(&c, &["fetch", "--date", "2025-10-26"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("end at 2025-10-26 22:00:00 UTC, not at the next local midnight 2025-10-26 23:00:00 UTC"),
        "{}",
        text(&out.stderr)
    );
    assert!(!tmp.join("prices/2025-10-26.json").exists());
}

#[test]
fn nok_and_sek_are_converted_with_the_rate_before_the_auction() {
    let Some(dir) = prices_dir() else { return };
    let tmp = Tmp::new("spotprices", "rates");
    let mut hourly = vec![50.0; 24];
    hourly[0] = 65.63;
    hourly[1] = -54.12;
    let no = save(&tmp, "no1.xml", &a44("10YNO-1--------2", at("2026-08-21T22:00:00Z"), 60, &hourly));
    let se = save(&tmp, "se3.xml", &a44("10Y1001A1001A46L", at("2022-07-09T22:00:00Z"), 60, &hourly));
    let se9 = save(&tmp, "se3-9.xml", &a44("10Y1001A1001A46L", at("2022-07-08T22:00:00Z"), 60, &hourly));
    let s = Server::start(
        &tmp,
        &[
            route("/api", json!({"in_Domain": "10YNO-1--------2"}), json!([file(200, &no)])),
            route("/api", json!({"periodStart": "202207092200"}), json!([file(200, &se)])),
            route("/api", json!({"periodStart": "202207082200"}), json!([file(200, &se9)])),
            route(
                "/nb/EXR/B.EUR.NOK.SP",
                json!({}),
                json!([file(200, &dir.join("norgesbank_EXR_B.USD+EUR.NOK.SP_generic_2026-08-20_21.xml"))]),
            ),
            route(
                "/ecb/eurofxref-daily.xml",
                json!({}),
                json!([file(200, &dir.join("ecb_eurofxref-daily_2022-07-08.xml"))]),
            ),
        ],
    );
    // NOK from Norges Bank: delivery Saturday 22 August, auction Friday the
    // 21st at noon; the 21st's rate comes at 16:00, so the 20th's it is.
    let c = cfg(&tmp, &s, "zone = \"NO1\"\n");
    let out = run(&c, &["fetch", "--date", "2026-08-22"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let day = day_file(&tmp.join("prices"), "2026-08-22");
    assert_eq!(day["currency"], "NOK");
    assert_eq!(day["rate"], json!({"value": 10.9025, "date": "2026-08-20", "source": "norges-bank"}));
    let sl = slots(&day);
    // 65.63 EUR/MWh * 10.9025 NOK/EUR / 1000 = 0.715531075 NOK/kWh.
    near(f(&sl[0]["spot_per_kwh"]), 0.71553);
    // -54.12 * 10.9025 / 1000 = -0.5900433.
    near(f(&sl[1]["spot_per_kwh"]), -0.59004);
    assert_eq!(f(&sl[0]["eur_per_mwh"]), 65.63, "EUR stays the truth");
    let nb = s.requests().into_iter().find(|(p, _)| p.starts_with("/nb")).expect("asked Norges Bank");
    assert_eq!(nb.1["startPeriod"], "2026-08-08");
    assert_eq!(nb.1["endPeriod"], "2026-08-20");

    // SEK from the ECB: delivery 10 July 2022, the 8th's rate (the 9th is a Saturday).
    let c = cfg(&tmp, &s, "zone = \"SE3\"\n");
    let out = run(&c, &["fetch", "--date", "2022-07-10"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let day = day_file(&tmp.join("prices"), "2022-07-10");
    assert_eq!(day["rate"], json!({"value": 10.6665, "date": "2022-07-08", "source": "ecb"}));
    // 65.63 * 10.6665 / 1000 = 0.700042395 SEK/kWh.
    near(f(&slots(&day)[0]["spot_per_kwh"]), 0.70004);
    // Delivery on the 9th: the daily document's rate came after that
    // auction and the 90-day history is not served: no file, a clear error.
    let out = run(&c, &["fetch", "--date", "2022-07-09"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no ECB EUR/SEK rate published before the auction for 2022-07-09"),
        "{}",
        text(&out.stderr)
    );
    assert!(!tmp.join("prices/2022-07-09.json").exists());
    assert!(s.requests().iter().any(|(p, _)| p == "/ecb/eurofxref-hist-90d.xml"));
}

#[test]
fn the_all_in_price_with_grid_fees_taxes_vat_and_support() {
    let Some(dir) = prices_dir() else { return };
    let tmp = Tmp::new("spotprices", "allin");
    // Quarters; the hour from 12:00 local alternates 100 and 300 (mean 200),
    // 23:00 is 50 throughout.
    let mut q = vec![80.0; 96];
    for (i, p) in q.iter_mut().enumerate().skip(48).take(4) {
        *p = if i % 2 == 0 { 100.0 } else { 300.0 };
    }
    let doc = save(
        &tmp,
        "no1.xml",
        &a44("10YNO-1--------2", at("2026-08-21T22:00:00Z"), 15, &{
            let mut v = q.clone();
            v[92..].iter_mut().for_each(|p| *p = 50.0);
            v
        }),
    );
    let s = Server::start(
        &tmp,
        &[
            route("/api", json!({}), json!([file(200, &doc)])),
            route(
                "/nb/EXR/B.EUR.NOK.SP",
                json!({}),
                json!([file(200, &dir.join("norgesbank_EXR_B.USD+EUR.NOK.SP_generic_2026-08-20_21.xml"))]),
            ),
        ],
    );
    let tariff =
        "zone = \"NO1\"\nmarkup = 0.05\ngrid_day = 0.40\ngrid_night = 0.30\nnight = \"22:00-06:00\"\ntax = 0.0813\n";
    let fetch = |extra: &str| {
        let c = cfg(&tmp, &s, &format!("{tariff}{extra}"));
        let out = run(&c, &["fetch", "--date", "2026-08-22", "--force"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        day_file(&tmp.join("prices"), "2026-08-22")
    };
    let rate: f64 = 10.9025;
    // Strømstøtte, VAT 25 % (Vestland): 90 % of the hour's mean spot above 0.75.
    let day = fetch("region = \"Vestland\"\nsupport = \"stromstotte\"\n");
    let sl = slots(&day);
    assert_eq!(sl[48]["start"], "2026-08-22T10:00:00Z", "12:00 in Oslo");
    let support = 0.9 * (200.0 * rate / 1000.0 - 0.75);
    // The 100 quarter: spot 1.09025, the support of the whole hour.
    let want = (100.0 * rate / 1000.0 + 0.05 + 0.40 + 0.0813 - support) * 1.25;
    near(f(&sl[48]["total_per_kwh"]), want);
    near(f(&sl[48]["total_per_kwh"]), 0.417625);
    let want = (300.0 * rate / 1000.0 + 0.05 + 0.40 + 0.0813 - support) * 1.25;
    near(f(&sl[49]["total_per_kwh"]), want);
    // 23:00: the night fee, and below the threshold no support.
    near(f(&sl[95]["total_per_kwh"]), (50.0 * rate / 1000.0 + 0.05 + 0.30 + 0.0813) * 1.25);
    // Nordland pays no VAT.
    let day = fetch("region = \"Nordland\"\n");
    near(f(&slots(&day)[95]["total_per_kwh"]), 50.0 * rate / 1000.0 + 0.05 + 0.30 + 0.0813);
    // Norgespris: 0.40 instead of spot, whatever the market did.
    let day = fetch("support = \"norgespris\"\n");
    for i in [0, 48, 49, 95] {
        let grid = if !(24..88).contains(&i) { 0.30 } else { 0.40 };
        near(f(&slots(&day)[i]["total_per_kwh"]), (0.40 + 0.05 + grid + 0.0813) * 1.25);
    }
    // --hourly: the hour means beside the quarters.
    let c = cfg(&tmp, &s, tariff);
    let out = run(&c, &["fetch", "--date", "2026-08-22", "--force", "--hourly"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let day = day_file(&tmp.join("prices"), "2026-08-22");
    let hours = day["hours"].as_array().expect("hours");
    assert_eq!(hours.len(), 24);
    assert_eq!(f(&hours[12]["eur_per_mwh"]), 200.0);
    assert_eq!(hours[12]["end"], "2026-08-22T11:00:00Z");
}

#[test]
fn acknowledgements_and_refusals_say_why_with_exit_3() {
    let Some(dir) = prices_dir() else { return };
    let tmp = Tmp::new("spotprices", "ack");
    let s = Server::start(
        &tmp,
        &[
            route(
                "/api",
                json!({"in_Domain": "10YNL----------L"}),
                json!([file(200, &dir.join("jarvis_NL_ack_no-data_2023-02-20.xml"))]),
            ),
            route(
                "/api",
                json!({"in_Domain": "10YBE----------2"}),
                json!([file(400, &dir.join("hexagon_acknowledgement_invalidrequest.xml"))]),
            ),
            route(
                "/api",
                json!({"in_Domain": "10YFR-RTE------C"}),
                json!([{"status": 401, "body": "<html><body>Unauthorized</body></html>", "type": "text/html"}]),
            ),
        ],
    );
    for (zone, want) in [("NL", "not published yet"), ("BE", "No matching data found"), ("FR", "the token was refused")]
    {
        let c = cfg(&tmp, &s, &format!("zone = \"{zone}\"\n"));
        let out = run(&c, &["fetch", "--date", "2023-02-20"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{zone}: {err}");
        assert!(err.contains(want), "{zone}: {err}");
        assert!(!err.contains(TOKEN), "{zone}: the token is never shown");
        assert!(!tmp.join("prices/2023-02-20.json").exists());
    }
    // An acknowledgement is not retried: cron comes back later.
    assert_eq!(s.requests().len(), 3);
    // Usage: a zone that does not exist, and ENTSO-E without a token.
    let c = config(&tmp, "zone = \"XX9\"\n");
    let out = run(&c, &["fetch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown zone \"XX9\"; known: NO1"), "{}", text(&out.stderr));
    let c = config(&tmp, "zone = \"NL\"\n");
    let out = run(&c, &["fetch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("ENTSO-E needs a token"), "{}", text(&out.stderr));
}

#[test]
fn network_errors_are_retried_then_exit_4() {
    let Some(dir) = prices_dir() else { return };
    let tmp = Tmp::new("spotprices", "retry");
    let nl = dir.join("jarvis_NL_PT60M_A03-gap_2025-04-02.xml");
    let s = Server::start(
        &tmp,
        &[
            route(
                "/api",
                json!({"in_Domain": "10YNL----------L"}),
                json!([{"status": 503}, {"drop": true}, file(200, &nl)]),
            ),
            route("/api", json!({"in_Domain": "10YBE----------2"}), json!([{"status": 502}])),
        ],
    );
    let c = cfg(&tmp, &s, "zone = \"NL\"\n");
    let out = run(&c, &["fetch", "--date", "2025-04-02"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("HTTP 503") && err.matches("retrying").count() == 2, "{err}");
    assert_eq!(s.requests().len(), 3);
    // Always 502: the first try and two retries, then exit 4.
    let c = cfg(&tmp, &s, "zone = \"BE\"\n");
    let out = run(&c, &["fetch", "--date", "2025-04-05"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert_eq!(s.requests().len(), 6);
    assert!(text(&out.stderr).contains("no answer (HTTP 502"), "{}", text(&out.stderr));
    // Nobody listening at all.
    let closed = config(
        &tmp,
        &format!(
            "token = \"t\"\napi_url = \"http://127.0.0.1:9/api\"\nretries = 1\nretry_delay = \"10ms\"\ndir = \"{}\"\nzone = \"NL\"\n",
            tmp.join("prices").display()
        ),
    );
    let out = run(&closed, &["fetch", "--date", "2025-04-03"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
}

#[test]
fn a_failed_fetch_leaves_the_files_there_alone_and_tomorrow_is_never_today() {
    let Some(dir) = prices_dir() else { return };
    let tmp = Tmp::new("spotprices", "untouched");
    let nl = dir.join("jarvis_NL_PT60M_A03-gap_2025-04-02.xml");
    let ack = dir.join("jarvis_NL_ack_no-data_2023-02-20.xml");
    let s = Server::start(
        &tmp,
        &[
            route(
                "/api",
                json!({"periodStart": "202504012200"}),
                json!([file(200, &nl), file(200, &ack), {"status": 500}]),
            ),
            // Asked for the 3rd, the server sends the 2nd again.
            route("/api", json!({"periodStart": "202504022200"}), json!([file(200, &nl)])),
        ],
    );
    let c = cfg(&tmp, &s, "zone = \"NL\"\n");
    let now = ["--now", "2025-04-02T14:00:00+02:00"];
    let out = run(&c, &[&now[..], &["fetch"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = std::fs::read(tmp.join("prices/2025-04-02.json")).expect("json");
    let csv = std::fs::read(tmp.join("prices/2025-04-02.csv")).expect("csv");
    for code in [3, 4] {
        let out = run(&c, &[&now[..], &["fetch", "--force"]].concat());
        assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
        assert_eq!(std::fs::read(tmp.join("prices/2025-04-02.json")).expect("json"), json);
        assert_eq!(std::fs::read(tmp.join("prices/2025-04-02.csv")).expect("csv"), csv);
    }
    let out = run(&c, &[&now[..], &["fetch", "--date", "tomorrow"]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(
            "no prices for 2025-04-03 in the answer (it held 2025-04-01 22:00:00 UTC to 2025-04-02 22:00:00 UTC)"
        ),
        "{}",
        text(&out.stderr)
    );
    assert!(!tmp.join("prices/2025-04-03.json").exists(), "tomorrow is never filled with today's prices");
    assert_eq!(names(&tmp.join("prices")), ["2025-04-02.csv", "2025-04-02.json"], "no temporary files left");
}

#[test]
fn the_public_source_without_a_token_and_as_the_fallback() {
    let Some(dir) = prices_dir() else { return };
    let tmp = Tmp::new("spotprices", "public");
    let prices: Vec<f64> = (0..96).map(|i| 30.0 + i as f64 / 2.0).collect();
    let body = public_day(chrono_tz::Europe::Oslo, "NOK", at("2026-08-21T22:00:00Z"), 15, &prices);
    let public = save(&tmp, "no1.json", &body);
    let nb = dir.join("norgesbank_EXR_B.USD+EUR.NOK.SP_generic_2026-08-20_21.xml");
    let s = Server::start(
        &tmp,
        &[
            route("/api", json!({}), json!([file(200, &dir.join("jarvis_NL_ack_no-data_2023-02-20.xml"))])),
            route(
                "/pub/2026/08-22_NO1.json",
                json!({}),
                json!([{"status": 200, "file": public.to_str(), "type": "application/json"}]),
            ),
            route("/nb/EXR/B.EUR.NOK.SP", json!({}), json!([file(200, &nb)])),
        ],
    );
    // With a token: ENTSO-E first; its "no data" sends it to the fallback.
    let c = cfg(&tmp, &s, "zone = \"NO1\"\n");
    let out = run(&c, &["fetch", "--date", "2026-08-22"]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("trying hvakosterstrommen"), "{err}");
    let day = day_file(&tmp.join("prices"), "2026-08-22");
    assert_eq!(day["source"], "hvakosterstrommen");
    assert_eq!(slots(&day).len(), 96);
    assert_eq!(f(&slots(&day)[1]["eur_per_mwh"]), 30.5);
    // EUR from the source, converted with the official rate as always.
    near(f(&slots(&day)[1]["spot_per_kwh"]), 30.5 * 10.9025 / 1000.0);
    // Without a token: the public source only, ENTSO-E never asked.
    let before = s.requests().iter().filter(|(p, _)| p == "/api").count();
    let c = config(
        &tmp,
        &format!(
            "zone = \"NO1\"\npublic_url = \"{}\"\nnorges_bank_url = \"{}\"\ndir = \"{}\"\n",
            s.url("/pub"),
            s.url("/nb"),
            tmp.join("prices").display()
        ),
    );
    let out = run(&c, &["fetch", "--date", "2026-08-22", "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(s.requests().iter().filter(|(p, _)| p == "/api").count(), before);
    // Not there yet (404): exit 3.
    let out = run(&c, &["fetch", "--date", "2026-08-23"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not published yet"), "{}", text(&out.stderr));
}

#[test]
fn de_lu_through_the_server_keeps_sequence_1() {
    let Some(dir) = prices_dir() else { return };
    let tmp = Tmp::new("spotprices", "delu");
    let s = Server::start(
        &tmp,
        &[route(
            "/api",
            json!({"in_Domain": "10Y1001A1001A82H"}),
            json!([file(200, &dir.join("hass-entsoe_DE_60M_15M_overlap.xml"))]),
        )],
    );
    let c = cfg(&tmp, &s, "zone = \"DE-LU\"\n");
    let out = run(&c, &["fetch", "--date", "2024-10-06"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let day = day_file(&tmp.join("prices"), "2024-10-06");
    let sl = slots(&day);
    assert_eq!((sl.len(), f(&sl[0]["eur_per_mwh"])), (24, 67.04));
}

#[test]
fn a_web_page_answered_with_200_is_said_to_be_one() {
    let Some(_) = prices_dir() else { return };
    let tmp = Tmp::new("spotprices", "webpage");
    // A captive portal (a doctype: an XML parser said "XML with DTD detected"), a
    // maintenance page without a title, and a proxy's page for the banks.
    let portal = "<!DOCTYPE html>\n<html lang=\"no\"><head><meta charset=\"utf-8\">\n<title>Hotel Fjordgl\u{f8}tt &ndash;\n  WiFi login</title></head>\n<body><form><input name=\"room\"></form></body></html>\n";
    let maintenance = "<html><head><style>body { font: sans-serif }</style></head><body>\n<h1>Scheduled\n maintenance</h1><p>We are upgrading our systems tonight between 22:00 and 04:00. Prices will be back shortly. Thank you for your patience.</p></body></html>";
    let proxy = "<!doctype html><html><head><title>Access denied by the proxy</title></head><body>Policy</body></html>";
    let html = |body: &str| json!([{"status": 200, "body": body, "type": "text/html; charset=utf-8"}]);
    let hourly = vec![50.0; 24];
    let no1 = save(&tmp, "no1.xml", &a44("10YNO-1--------2", at("2026-08-21T22:00:00Z"), 60, &hourly));
    let se3 = save(&tmp, "se3.xml", &a44("10Y1001A1001A46L", at("2022-07-09T22:00:00Z"), 60, &hourly));
    let s = Server::start(
        &tmp,
        &[
            route("/api", json!({"in_Domain": "10YNL----------L"}), html(portal)),
            route("/api", json!({"periodStart": "202608222200"}), html(portal)),
            route("/pub/2026/08-23_NO1.json", json!({}), html(maintenance)),
            route("/api", json!({"in_Domain": "10YNO-1--------2"}), json!([file(200, &no1)])),
            route("/nb/EXR/B.EUR.NOK.SP", json!({}), html(proxy)),
            route("/api", json!({"in_Domain": "10Y1001A1001A46L"}), json!([file(200, &se3)])),
            route("/ecb/eurofxref-daily.xml", json!({}), html(proxy)),
        ],
    );
    let hint = "(a captive portal, a proxy or a maintenance page?)";
    let fails = |zone: &str, date: &str| {
        let out = run(&cfg(&tmp, &s, &format!("zone = \"{zone}\"\n")), &["fetch", "--date", date]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{zone}: {err}");
        assert!(!err.contains("DTD") && !err.contains("expected value"), "{zone}: {err}");
        assert!(!tmp.join(&format!("prices/{date}.json")).exists(), "{zone}");
        err
    };
    // ENTSO-E: the page's title, on one line; an answer, so not retried.
    let err = fails("NL", "2025-04-02");
    let want = format!(
        "spotprices: ENTSO-E NL 2025-04-02: HTTP 200: a web page (\"Hotel Fjordgl\u{f8}tt \u{2013} WiFi login\"), not a price document {hint}\n"
    );
    assert_eq!(err, want);
    assert_eq!(s.requests().len(), 1);
    // The public source wants JSON: a page there is said the same way, with its first words.
    let err = fails("NO1", "2026-08-23");
    assert!(err.contains("ENTSO-E NO1 2026-08-23: HTTP 200: a web page (\"Hotel Fjordgl\u{f8}tt \u{2013} WiFi login\"), not a price document"), "{err}");
    assert!(err.contains("; trying hvakosterstrommen\n"), "{err}");
    let want = format!(
        "spotprices: hvakosterstrommen NO1 2026-08-23: a web page (\"Scheduled maintenance We are upgrading our systems tonight between 22:00 and 04:...\"), not the JSON hvakosterstrommen serves {hint}\n"
    );
    assert!(err.ends_with(&want), "{err}");
    // The rates: Norges Bank's and the ECB's.
    let err = fails("NO1", "2026-08-22");
    assert_eq!(
        err,
        format!("spotprices: a web page (\"Access denied by the proxy\"), not the Norges Bank rates {hint}\n")
    );
    let err = fails("SE3", "2022-07-10");
    assert_eq!(err, format!("spotprices: a web page (\"Access denied by the proxy\"), not the ECB rates {hint}\n"));
}
