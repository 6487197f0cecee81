#![no_main]

#[path = "../props.rs"]
mod props;

use libfuzzer_sys::fuzz_target;
use pipefix::document::Format;

fuzz_target!(|data: &[u8]| {
    props::document_round(data, Format::Json);
});
