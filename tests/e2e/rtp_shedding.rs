//! Running out of RTP ports sheds load cleanly: with a range of 9 port pairs, new calls get
//! 503 at admission while a reserve of pairs is still free (a call may need two, and two more
//! stay for calls already accepted), instead of being accepted until a port allocation fails.

use std::time::Duration;

use crate::common::ports::PortBlock;
use crate::support::{Pbx, dialplan_dir, enabled};

/// 7000 answers and plays the main menu (some seconds), then hangs up.
const PLAN: &str = "languages: [en]\nroutes:\n  - number: \"7000\"\n    flow: main\n\
                    flows:\n  main:\n    steps:\n      - answer\n      - play: [main_menu]\n\
                    \x20     - hangup\n";

#[test]
fn new_calls_get_503_before_the_rtp_range_is_exhausted() {
    if !enabled("rtp_shedding") {
        return;
    }
    let ports = PortBlock::claim();
    let (min, _) = ports.rtp_range();
    let first = min + min % 2;
    // Pairs at first, first+2, ..., first+16: nine pairs.
    let range = (first, first + 17);
    let plan = dialplan_dir("rtp_shedding", &[("plan.yaml", PLAN)]);
    let pbx = Pbx::start_in_range(ports, "rtp_shedding", "", "", &plan, range);
    let result = pbx
        .sipp(0, "load", "uac_wait_bye.xml")
        .service("7000")
        .auth("1001", "pw1001")
        .key("caller", "1001")
        .calls(6)
        .rate(20, 1000)
        .limit(6)
        .timeout(Duration::from_secs(60))
        .run()
        .unwrap();
    // Each call takes 2 pairs: 9 free, 7, 5 -> admitted; 3 free < 2 + 2 -> 503.
    assert_eq!(
        (result.successful, result.failed),
        (3, 3),
        "{}",
        result.describe()
    );
    assert!(
        result.errors.contains("SIP/2.0 503"),
        "refused with 503: {}",
        result.describe()
    );
    let logs: String = ["centrala-1.out", "centrala-1.err"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(pbx.dir.join(f)).ok())
        .collect();
    assert!(
        !logs.contains("no media ports"),
        "no call was accepted and then short of ports"
    );
}
