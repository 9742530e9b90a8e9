//! Parses arbitrary bytes as a SIP message and reads every typed accessor; must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    centrala::sip::message::fuzz_parse(data);
});
