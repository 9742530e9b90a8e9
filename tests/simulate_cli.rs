//! `centrala simulate` as users run it: the real binary on the shipped anchor scenario, the
//! JSON field names scripts depend on, the seed flag, and `file:line` errors.

use std::process::Command;

fn centrala(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_centrala"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the centrala binary runs")
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = centrala(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--format json prints JSON")
}

#[test]
fn the_anchor_example_prints_erlang_c_beside_centralas_figures() {
    let v = json(&[
        "simulate",
        "examples/simulate/erlang_c.yaml",
        "--format",
        "json",
    ]);
    let total = &v["total"];
    let sl = total["service_level"]
        .as_f64()
        .expect("total.service_level");
    let asa = total["asa_secs"].as_f64().expect("total.asa_secs");
    assert!((0.0..=1.0).contains(&sl), "a fraction: {sl}");
    assert!(asa >= 0.0);
    let erlang = &total["erlang_c"];
    let model_sl = erlang["service_level"]
        .as_f64()
        .expect("erlang_c.service_level");
    let model_asa = erlang["asa_secs"].as_f64().expect("erlang_c.asa_secs");
    assert!((model_sl - 0.822).abs() < 0.001, "{model_sl}");
    assert!((model_asa - 12.5).abs() < 0.1, "{model_asa}");
    assert!(
        (sl - model_sl).abs() < 0.08,
        "an 8-hour day near Erlang C: {sl}"
    );
    for key in [
        "abandon_rate",
        "occupancy",
        "relationship_hits",
        "offered",
        "answered",
    ] {
        assert!(total.get(key).is_some(), "total.{key} missing");
    }
    assert_eq!(v["intervals"].as_array().map(Vec::len), Some(8));
}

#[test]
fn the_seed_flag_repeats_and_varies_a_run() {
    let args = |seed| {
        [
            "simulate",
            "examples/simulate/erlang_a.yaml",
            "--format",
            "json",
            "--seed",
            seed,
        ]
    };
    let a = json(&args("42"));
    assert_eq!(a, json(&args("42")));
    assert_ne!(a["total"], json(&args("43"))["total"]);
    assert_eq!(a["seed"], 42);
    assert!(a["total"]["erlang_a"]["service_level"].is_f64());
}

#[test]
fn a_bad_scenario_fails_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "hours: 8\nqueues:\n  - name: q\n    wrap_up: later\n",
    )
    .unwrap();
    let out = centrala(&["simulate", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml:4:"), "{err}");
}

#[test]
fn the_table_lists_intervals_and_total() {
    let out = centrala(&["simulate", "examples/simulate/sticky_email.yaml"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("08:00")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("total")), "{text}");
}
