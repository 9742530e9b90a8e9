use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::routing::{
    AgentId, Channel, FeatureAction, QueueId, ReasonCode, Relax, SkillId, StickyMode,
};

const FULL: &str = r#"
[features]
login = "*21"
pause = "*23"

[[extensions]]
number = "1001"
password = "x"
role = "agent"
skills = { sales = 7, polish = 3 }
proficiency = { voice = 2, chat = 1 }

[[extensions]]
number = "1002"
password = "y"
skills = { support = 4 }

[[extensions]]
number = "2001"
password = "z"
role = "supervisor"

[[queues]]
name = "sales"
skills = { sales = 3 }
service_level_secs = 30
ring_no_answer_secs = 15
wrap_up_secs = 5
overflow = { to = "support", after_secs = 120 }
sticky_wait_secs = 20
sticky_mode = "often"
aging_secs = 10
announce_every_secs = 45
sla_boost = { before_secs = 600, priority = 5 }
sla_secs = { email = 21600, callback = 3600, voice = 0 }

[[queues.bullseye]]
after_secs = 30
lower_levels = 2

[[queues.bullseye]]
after_secs = 60
drop = "polish"

[queues.calendar]
utc_offset = "+01:00"
weekdays = ["08:00-12:00", "13:00-17:00"]
saturday = ["09:00-13:00"]
holidays = ["2024-12-25"]

[queues.callback]
abandon_after_secs = 90
outside_hours = false
retry_interval_secs = 300
max_attempts = 5

[[queues]]
name = "support"
"#;

#[test]
fn full_file_converts_to_the_routing_setup() {
    let config = Config::parse(FULL, "c.toml").unwrap();
    config.validate().unwrap();
    let setup = config.routing_setup().unwrap();
    // Skills sorted: polish, sales, support.
    assert_eq!(setup.skills.id("polish"), Some(SkillId(1)));
    assert_eq!(setup.skills.id("sales"), Some(SkillId(2)));
    let sales = setup.queue("sales").unwrap();
    let c = &sales.config;
    assert_eq!(c.id, QueueId(1));
    assert_eq!(c.skills[0].skill, SkillId(2));
    assert_eq!(c.skills[0].min_level, 3);
    assert_eq!(c.service_level_threshold, Duration::from_secs(30));
    assert_eq!(c.ring_no_answer, Duration::from_secs(15));
    assert_eq!(c.wrap_up, Duration::from_secs(5));
    assert_eq!(c.overflow.unwrap().to, QueueId(2));
    assert_eq!(c.bullseye[0].relax, Relax::LowerLevels(2));
    assert_eq!(c.bullseye[1].relax, Relax::Drop(SkillId(1)));
    assert_eq!(c.sticky.unwrap().mode, StickyMode::MostOften);
    assert_eq!(c.aging, Some(Duration::from_secs(10)));
    assert_eq!(c.sla_boost.unwrap().priority, 5);
    assert_eq!(
        sales.sla[Channel::Email.index()],
        Some(Duration::from_secs(21600))
    );
    assert_eq!(sales.sla[Channel::Voice.index()], None);
    assert_eq!(sales.callback.abandon_after, Some(Duration::from_secs(90)));
    assert_eq!(sales.callback.max_attempts, 5);
    assert!(!sales.callback.outside_hours);
    assert_eq!(sales.announce_every, Some(Duration::from_secs(45)));
    // Monday 2024-01-01 07:30 UTC = 08:30 local: open; 11:30 UTC = 12:30 local: lunch.
    let monday = UNIX_EPOCH + Duration::from_secs(1_704_067_200);
    assert!(sales.is_open(monday + Duration::from_secs(7 * 3600 + 1800)));
    assert!(!sales.is_open(monday + Duration::from_secs(11 * 3600 + 1800)));
    // E-mail at Friday 16:00 local: 1 h Friday, 4 h Saturday, 1 h Monday 08:00-09:00.
    let friday_16 = monday + Duration::from_secs(4 * 86_400 + 15 * 3600);
    let due: SystemTime = sales.deadline(Channel::Email, friday_16).unwrap();
    let monday_09 = monday + Duration::from_secs(7 * 86_400 + 8 * 3600);
    assert_eq!(due, monday_09);
    // Agents: 1001 (role agent) and 1002 (has skills); not the supervisor.
    let numbers: Vec<_> = setup.agents.iter().map(|a| a.number.as_str()).collect();
    assert_eq!(numbers, ["1001", "1002"]);
    let anna = setup.agent("1001").unwrap();
    assert_eq!(anna.profile.id, AgentId(1));
    assert_eq!(anna.profile.skills, [(SkillId(1), 3), (SkillId(2), 7)]);
    assert_eq!(anna.profile.proficiency[Channel::Voice.index()], 2);
    let codes = config.features.codes();
    assert_eq!(codes.parse("*21"), Some(FeatureAction::Login));
    assert_eq!(codes.parse("*12"), Some(FeatureAction::Logout));
    assert_eq!(
        codes.parse("*235"),
        Some(FeatureAction::Pause(ReasonCode(5)))
    );
}

#[test]
fn demo_defaults_have_three_queues_and_skilled_agents() {
    let config = Config::default();
    config.validate().unwrap();
    let setup = config.routing_setup().unwrap();
    let queues: Vec<_> = setup.queues.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(queues, ["sales", "support", "collections"]);
    let skill = |n| setup.skills.id(n).unwrap();
    let held = |number: &str| -> Vec<SkillId> {
        let mut s: Vec<_> = setup
            .agent(number)
            .unwrap()
            .profile
            .skills
            .iter()
            .map(|s| s.0)
            .collect();
        s.sort();
        s
    };
    let sorted = |mut v: Vec<SkillId>| {
        v.sort();
        v
    };
    assert_eq!(held("1001"), sorted(vec![skill("sales"), skill("support")]));
    assert_eq!(
        held("1002"),
        sorted(vec![skill("support"), skill("collections")])
    );
    assert_eq!(
        held("1003"),
        sorted(vec![skill("sales"), skill("collections")])
    );
    assert!(setup.agent("2001").is_none());
    let sales = setup.queue("sales").unwrap();
    assert_eq!(
        sales.sla[Channel::Callback.index()],
        Some(Duration::from_secs(3600))
    );
    assert_eq!(
        sales.sla[Channel::Email.index()],
        Some(Duration::from_secs(6 * 3600))
    );
    assert_eq!(
        config.features.codes().parse("*13"),
        Some(FeatureAction::Pause(ReasonCode(1)))
    );
}

#[test]
fn a_file_with_queues_replaces_the_demo_queues() {
    let config = Config::parse("[[queues]]\nname = \"vip\"\n", "c.toml").unwrap();
    let names: Vec<_> = config.queues.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["vip"]);
}

#[test]
fn invalid_routing_config_is_rejected_with_a_reason() {
    let cases = [
        (
            "[[queues]]\nname = \"a\"\n[[queues]]\nname = \"a\"\n",
            "duplicate queue",
        ),
        (
            "[[queues]]\nname = \"a\"\noverflow = { to = \"b\", after_secs = 1 }\n",
            "unknown queue",
        ),
        (
            "[[queues]]\nname = \"a\"\noverflow = { to = \"a\", after_secs = 1 }\n",
            "itself",
        ),
        (
            "[[queues]]\nname = \"a\"\nskills = { x = 0 }\n",
            "levels run from 1",
        ),
        (
            "[[queues]]\nname = \"a\"\nring_no_answer_secs = 0\n",
            "ring_no_answer_secs",
        ),
        (
            "[[queues]]\nname = \"a\"\nsla_secs = { fax = 1 }\n",
            "unknown channel",
        ),
        (
            "[[queues]]\nname = \"a\"\nsticky_wait_secs = 5\nsticky_mode = \"x\"\n",
            "sticky_mode",
        ),
        (
            "[[queues]]\nname = \"a\"\n[[queues.bullseye]]\nafter_secs = 1\n",
            "exactly one",
        ),
        (
            "[[queues]]\nname = \"a\"\n[queues.calendar]\nweekdays = [\"9-17\"]\n",
            "bad hours",
        ),
        (
            "[[queues]]\nname = \"a\"\n[queues.calendar]\nweekdays = [\"17:00-09:00\"]\n",
            "invalid opening hours",
        ),
        (
            "[[queues]]\nname = \"a\"\n[queues.calendar]\nholidays = [\"2024-02-30\"]\n",
            "invalid date",
        ),
        (
            "[[queues]]\nname = \"a\"\n[queues.calendar]\nutc_offset = \"01:00\"\n",
            "utc_offset",
        ),
        (
            "[[queues]]\nname = \"a\"\n[queues.calendar]\ntime_zone = \"Mars/Olympus\"\n",
            "'Mars/Olympus' is neither a time zone",
        ),
        (
            "[[queues]]\nname = \"a\"\n[queues.callback]\nmax_attempts = 0\n",
            "max_attempts",
        ),
        (
            "[[queues]]\nname = \"a\"\n[queues.callback]\nkeep_place_key = \"12\"\n",
            "keep_place_key",
        ),
        ("[[queues]]\nname = \"a b\"\n", "name must be"),
        ("[features]\nlogin = \"*12\"\n", "codes must differ"),
        ("[features]\nlogin = \"log\"\n", "digits"),
    ];
    for (text, expected) in cases {
        let config = Config::parse(text, "c.toml").unwrap();
        let err = config.validate().unwrap_err();
        assert!(err.contains(expected), "{text}: {err}");
    }
}
