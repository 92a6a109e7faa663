//! A-XDR decoding at offset 0, and walking the resulting tree.
#![no_main]

use han::axdr::{decode_into, Tree};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut nodes = Vec::new();
    if let Ok(end) = decode_into(data, 0, &mut nodes) {
        assert!(end <= data.len(), "decoded past the input: {end} > {}", data.len());
        assert!(!nodes.is_empty());
        let t = Tree { bytes: data, nodes: &nodes };
        for i in 0..nodes.len() {
            let _ = t.bytes_of(i);
            assert!(t.children(i).count() <= nodes.len());
        }
    }
});
