//! End-to-end tests: the real `centrala` binary driven by real SIP peers (SIPp, baresip) on
//! loopback, checked on the wire (tcpdump captures decoded to audio) and through the API.
//!
//! They need root (SIPp's pcap play and tcpdump use raw sockets) and the peers installed
//! (`scripts/install-test-deps.sh`); set `CENTRALA_E2E=1` to run them (`scripts/test.sh` does),
//! otherwise each test returns early with a note. `CENTRALA_TEST_POSTGRES=postgres://...` runs
//! the PBX on a fresh PostgreSQL database per test instead of SQLite.

#[path = "../common/mod.rs"]
mod common;

mod agent_busy;
mod agent_state;
mod bans;
mod baresip;
mod call_control;
mod call_limits;
mod callbacks;
mod caller_id;
mod calls;
mod cdr_faults;
mod cdr_queue;
mod click_to_dial;
mod cti;
mod demo;
mod desktop;
mod dialplan;
mod digest_replay;
mod dtmf;
mod features;
mod first_run;
mod https;
mod media;
mod omni_email;
mod omnichannel;
mod openapi;
mod queues;
mod registrar;
mod robustness;
mod rtp_shedding;
mod safe_defaults;
mod screen_pop;
mod screen_pop_timing;
mod shutdown;
mod support;
mod toll_fraud;
mod transfer;
mod trunks;
mod webhooks;
