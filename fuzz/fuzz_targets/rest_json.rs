//! REST JSON bodies: the first byte picks the route, the rest is the body, parsed exactly as the
//! route's handler parses it (media URLs stay off, as by default).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = futures::executor::block_on(mplug2_server::http::parse::replay(
        "application/json",
        data,
    ));
});
