//! Parsing and validation tests: every message with its file:line.

use crate::dialplan::Dialplan;
use crate::dialplan::model::{KeepPlace, RouteMatch, StepKind};

fn all_prompts(_: &str, _: &str) -> bool {
    true
}

/// Loads one fixture and returns its errors as `file:line: message` strings.
fn errors(yaml: &str) -> Vec<String> {
    errors_with(yaml, &all_prompts)
}

fn errors_with(yaml: &str, prompts: &dyn Fn(&str, &str) -> bool) -> Vec<String> {
    match Dialplan::load_sources(&[("t.yaml", yaml)], prompts) {
        Ok(_) => Vec::new(),
        Err(errs) => errs.iter().map(ToString::to_string).collect(),
    }
}

fn assert_error(yaml: &str, expected: &str) {
    let errs = errors(yaml);
    assert!(
        errs.iter().any(|e| e == expected),
        "expected {expected:?} in {errs:#?}"
    );
}

#[test]
fn demo_dialplan_loads_and_routes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dialplans");
    let dp = Dialplan::load_dir(&dir, &all_prompts).unwrap_or_else(|e| {
        panic!(
            "demo invalid: {:#?}",
            e.iter().map(ToString::to_string).collect::<Vec<_>>()
        )
    });
    assert_eq!(dp.languages, ["pl", "en"]);
    assert_eq!(dp.route("5000", None), Some("main"));
    assert_eq!(dp.route("+48221234567", Some("pstn")), Some("main"));
    assert_eq!(
        dp.route("+48221234567", None),
        None,
        "DID only via its trunk"
    );
    assert_eq!(dp.route("5001", None), Some("main"));
    assert_eq!(dp.route("5101", None), Some("as_debtor"));
    assert_eq!(dp.route("5102", None), Some("as_order_customer"));
    assert_eq!(dp.route("5002", None), None);
    assert!(matches!(dp.flows["main"].steps[0].kind, StepKind::Answer));
}

#[test]
fn patterns_route_after_exact_numbers() {
    let yaml = "routes:\n  - pattern: _1XXX\n    flow: f\n  - number: \"1000\"\n    flow: g\nflows:\n  f: [hangup]\n  g: [hangup]\n";
    let dp = Dialplan::load_sources(&[("t.yaml", yaml)], &all_prompts).expect("valid");
    assert_eq!(dp.route("1000", None), Some("g"));
    assert_eq!(dp.route("1234", None), Some("f"));
    assert!(matches!(dp.routes[0].matcher, RouteMatch::Pattern(_)));
}

#[test]
fn yaml_syntax_error_has_line() {
    let errs = errors("flows:\n  main:\n    - answer\n   - bad: [\n");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("t.yaml:4: YAML syntax error"),
        "{errs:?}"
    );
}

#[test]
fn unknown_step_target() {
    assert_error(
        "flows:\n  main:\n    - id: m\n      menu:\n        options: {\"1\": salez}\n    - hangup\n",
        "t.yaml:3: step 'm' jumps to unknown step 'salez' in flow 'main'",
    );
}

#[test]
fn unknown_flow_and_calendar() {
    let yaml = "routes:\n  - number: \"1\"\n    flow: nope\nflows:\n  main:\n    - hours: {calendar: office, closed: c}\n    - id: c\n      goto: other\n";
    assert_error(yaml, "t.yaml:2: route goes to unknown flow 'nope'");
    assert_error(
        yaml,
        "t.yaml:6: step #1 (hours) uses unknown calendar 'office'",
    );
    assert_error(yaml, "t.yaml:7: step 'c' goes to unknown flow 'other'");
}

#[test]
fn missing_prompt_per_language() {
    let yaml = "languages: [pl, en]\nflows:\n  main:\n    - answer\n    - play: [hello]\n";
    let errs = errors_with(yaml, &|lang, prompt| !(lang == "en" && prompt == "hello"));
    assert_eq!(
        errs,
        ["t.yaml:5: prompt 'hello' is missing for language 'en' (sounds/en/hello)"]
    );
}

#[test]
fn queue_music_needs_its_file_and_keep_place_takes_a_key_or_false() {
    let queue = |announce: &str| {
        format!(
            "languages: [en]\nflows:\n  main:\n    - queue: {{ name: q, announce: {announce} }}\n"
        )
    };
    let errs = errors_with(&queue("{ music: jazz }"), &|lang, _| lang != "moh");
    assert_eq!(
        errs,
        ["t.yaml:4: music class 'jazz' has no file (sounds/moh/jazz.wav)"]
    );
    let keep_place = |announce: &str| {
        let dp = Dialplan::load_sources(&[("t.yaml", queue(announce).as_str())], &all_prompts)
            .expect("valid");
        match &dp.flows["main"].steps[0].kind {
            StepKind::Queue(q) => q.announce.keep_place,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(keep_place("{ every: 30s }"), KeepPlace::Queue);
    assert_eq!(keep_place("{ keep_place: \"#\" }"), KeepPlace::Key('#'));
    assert_eq!(keep_place("{ keep_place: false }"), KeepPlace::Off);
    assert_error(
        &queue("{ keep_place: \"12\" }"),
        "t.yaml:4: 'keep_place' '12' is not one DTMF key (0-9, *, #)",
    );
}

#[test]
fn say_needs_its_prompts() {
    let yaml = "languages: [pl]\nflows:\n  main:\n    - say: {value: \"12\", as: number}\n";
    let errs = errors_with(yaml, &|_, prompt| prompt != "num/12");
    assert_eq!(
        errs,
        [
            "t.yaml:4: step #1 (say): 'say' needs 1 prompt(s) missing for language 'pl', e.g. 'num/12'"
        ]
    );
}

#[test]
fn bad_expression_is_reported_at_its_line() {
    let yaml = "flows:\n  main:\n    - branch:\n        - if: \"debt.x >\"\n          goto: a\n    - id: a\n      hangup: {}\n";
    let errs = errors(yaml);
    assert!(
        errs.iter()
            .any(|e| e.starts_with("t.yaml:4: bad expression in 'if' `debt.x >`")),
        "{errs:#?}"
    );
}

#[test]
fn unknown_variable_in_expression() {
    assert_error(
        "flows:\n  main:\n    - set: {x: \"dbt.balance\"}\n",
        "t.yaml:3: expression `dbt.balance` uses unknown variable 'dbt'",
    );
    let declared =
        "variables: [crm]\nflows:\n  main:\n    - set: {x: \"crm.id + caller.number\"}\n";
    assert_eq!(errors(declared), Vec::<String>::new());
}

#[test]
fn unreachable_step() {
    assert_error(
        "flows:\n  main:\n    - answer\n    - hangup\n    - id: lost\n      play: [x]\n",
        "t.yaml:5: step 'lost' in flow 'main' is unreachable",
    );
}

#[test]
fn loop_without_a_wait() {
    let yaml = "flows:\n  main:\n    - id: a\n      set: {n: \"1\"}\n    - branch:\n        - if: \"n == 1\"\n          goto: a\n    - hangup\n";
    assert_error(
        yaml,
        "t.yaml:3: step 'a' in flow 'main' starts a loop in which no step waits for the caller",
    );
    let across_flows = "flows:\n  a: [{goto: b}]\n  b: [{goto: a}]\n";
    let errs = errors(across_flows);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("starts a loop"), "{errs:?}");
    let with_wait = "flows:\n  main:\n    - id: a\n      play: [x]\n    - goto: main\n";
    assert_eq!(errors(with_wait), Vec::<String>::new());
}

#[test]
fn structural_errors_are_all_collected() {
    let yaml = "flows:\n  main:\n    - answer\n    - dance: 1\n    - play: [a]\n      hangup: ~\n    - menu: {options: {\"12\": a}, timeout: soon}\n    - frobnicate\n";
    let errs = errors(yaml);
    let expected = [
        "t.yaml:4: unknown key 'dance' in a step",
        "t.yaml:5: a step needs exactly one kind",
        "t.yaml:7: menu key '12' is not one DTMF key (0-9, *, #)",
        "t.yaml:7: 'timeout' must be a duration like 5s, 500ms or 2m",
        "t.yaml:8: unknown step 'frobnicate' (bare steps: answer, hangup, return)",
    ];
    for e in expected {
        assert!(
            errs.iter().any(|got| got.starts_with(e)),
            "missing {e:?} in {errs:#?}"
        );
    }
}

#[test]
fn errors_from_several_files_keep_their_names() {
    let a = "flows:\n  main: [{goto: other}]\n";
    let b = "flows:\n  main: [hangup]\n";
    let errs: Vec<String> = Dialplan::load_sources(&[("a.yaml", a), ("b.yaml", b)], &all_prompts)
        .expect_err("invalid")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        errs.contains(&"b.yaml:2: flow 'main' is already defined at a.yaml:2".to_owned()),
        "{errs:#?}"
    );
    assert!(
        errs.contains(&"a.yaml:2: step #1 (goto) goes to unknown flow 'other'".to_owned()),
        "{errs:#?}"
    );
}

#[test]
fn calendars_take_iana_time_zones_and_name_the_line_of_an_unknown_one() {
    let plan = |zone: &str| {
        format!(
            "calendars:\n  office:\n    time_zone: {zone}\n    hours: {{mon-fri: \"08:00-18:00\"}}\n\
             flows:\n  main:\n    - hangup\n"
        )
    };
    assert!(errors(&plan("Europe/Warsaw")).is_empty());
    let errs = errors(&plan("Europe/Atlantis"));
    assert!(
        errs.iter()
            .any(|e| e.starts_with("t.yaml:3: 'time_zone': 'Europe/Atlantis' is neither")),
        "{errs:#?}"
    );
}

#[test]
fn route_calendar_and_language_errors() {
    let yaml = "languages: [pl]\nroutes:\n  - pattern: \"1XX\"\n    flow: main\n  - flow: main\ncalendars:\n  office:\n    utc_offset: CET\n    hours: {mon-fry: \"08:00-16:00\", tue: \"16:00-08:00\"}\n    holidays: [2025-02-30x]\nflows:\n  main:\n    language: en\n    steps:\n      - language: de\n      - hangup\n";
    let errs = errors(yaml);
    let expected = [
        "t.yaml:3: pattern '1XX' must start with '_'",
        "t.yaml:5: a route needs 'number', 'numbers', 'pattern' or 'trunk' with 'dids'",
        "t.yaml:8: 'utc_offset' 'CET' is not like +01:00",
        "t.yaml:9: 'mon-fry' is not a weekday or range like mon-fri",
        "t.yaml:9: interval '16:00-08:00' ends before it starts",
        "t.yaml:10: holiday '2025-02-30x' is not a date YYYY-MM-DD",
        "t.yaml:12: flow 'main' uses undeclared language 'en'",
        "t.yaml:15: step #1 (language) sets undeclared language 'de'",
    ];
    for e in expected {
        assert!(
            errs.iter().any(|got| got == e),
            "missing {e:?} in {errs:#?}"
        );
    }
}

#[test]
fn load_dir_reads_yaml_files_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("a.yaml"),
        "routes:\n  - number: \"1\"\n    flow: f\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("b.yml"), "flows:\n  f: [hangup]\n").expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not yaml: [").expect("write");
    let dp = Dialplan::load_dir(dir.path(), &all_prompts).expect("valid");
    assert_eq!(dp.route("1", None), Some("f"));
    let err = Dialplan::load_dir(&dir.path().join("missing"), &all_prompts).expect_err("no dir");
    assert!(err[0].to_string().contains("cannot read"), "{err:?}");
}

#[test]
fn prompts_md_covers_every_prompt_of_the_demo() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dialplans");
    let table = std::fs::read_to_string(root.join("PROMPTS.md")).expect("PROMPTS.md");
    let mut have = std::collections::BTreeSet::new();
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`').to_owned();
        for (lang, text) in [("en", cells[2]), ("pl", cells[3])] {
            if text != "—" {
                have.insert((lang.to_owned(), name.clone()));
            }
        }
    }
    // Music on hold is not in the table: it is rendered by sox into sounds/moh/.
    let music = root.join("../sounds/moh");
    let exists = |lang: &str, prompt: &str| match lang {
        "moh" => music.join(format!("{prompt}.wav")).is_file(),
        _ => have.contains(&(lang.to_owned(), prompt.to_owned())),
    };
    if let Err(errs) = Dialplan::load_dir(&root, &exists) {
        panic!(
            "{:#?}",
            errs.iter().map(ToString::to_string).collect::<Vec<_>>()
        );
    }
}
