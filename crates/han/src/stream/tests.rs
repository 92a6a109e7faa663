use super::*;

fn events(cfg: Config, bytes: &[u8]) -> Vec<Event> {
    let mut d = Decoder::new(cfg);
    d.push(bytes);
    d.finish();
    std::iter::from_fn(|| d.next_event()).collect()
}

/// A bare data-notification pushed a byte at a time: the decoder must
/// wait when a chunk ends inside the array's element count, not reject.
#[test]
fn bare_notification_split_inside_a_length() {
    let msg = [0x0F, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0x06, 0x00, 0x00, 0x01, 0x2C];
    let mut d = Decoder::new(Config { framing: FramingMode::Apdu, ..Config::default() });
    let mut ev = Vec::new();
    for b in msg.chunks(1) {
        d.push(b);
        ev.extend(std::iter::from_fn(|| d.next_event()));
    }
    d.finish();
    ev.extend(std::iter::from_fn(|| d.next_event()));
    assert!(matches!(&ev[..], [Event::Reading(_)]), "{ev:?}");
}

/// Telegrams read in chunks that end right after a CRC line's CR LF: no
/// resync counted (han-read's counters said "resyncs" for every such chunk).
#[test]
fn a_chunk_ending_after_a_telegram_is_no_resync() {
    let one = crate::encode::samples::dsmr5(1);
    let mut d = Decoder::new(Config::default());
    let mut readings = 0;
    for _ in 0..3 {
        d.push(&one);
        readings += std::iter::from_fn(|| d.next_event()).filter(|e| matches!(e, Event::Reading(_))).count();
    }
    d.finish();
    readings += std::iter::from_fn(|| d.next_event()).filter(|e| matches!(e, Event::Reading(_))).count();
    assert_eq!(readings, 3);
    assert_eq!((d.stats().resyncs, d.stats().skipped_bytes), (0, 0));
    // Real noise still counts.
    let mut d = Decoder::new(Config::default());
    d.push(b"xx");
    d.finish();
    while d.next_event().is_some() {}
    assert_eq!(d.stats().resyncs, 1);
}

/// General block transfer around an unencrypted (SC 0) ciphered APDU
/// around another block transfer: rejected. Nested like this as deep as
/// 64 KiB allow, it recursed ~2,200 times and overflowed the stack.
#[test]
fn block_transfer_in_ciphering_in_block_transfer() {
    let cfg = Config { framing: FramingMode::Apdu, ..Config::default() };
    #[rustfmt::skip]
    let nested = [
        0xE0, 0x80, 0x00, 0x01, 0x00, 0x00, 0x22,
        0xDB, 0x08, 0x4B, 0x46, 0x4D, 0x00, 0x00, 0x00, 0x00, 0x01, 0x17, 0x00, 0x00, 0x00, 0x00, 0x01,
        0xE0, 0x80, 0x00, 0x01, 0x00, 0x00, 0x0B,
        0x0F, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01,
    ];
    let ev = events(cfg.clone(), &nested);
    assert!(
        matches!(&ev[..], [Event::Rejected { error: Error::Segment("block transfer inside block transfer"), .. }]),
        "{ev:?}"
    );
    // One block transfer around the ciphering is fine.
    let ev = events(cfg, &nested[23..]);
    assert!(matches!(&ev[..], [Event::Reading(_)]), "{ev:?}");

    // The deep version, on a small stack: rejected, not a stack overflow.
    let mut m = nested[30..].to_vec();
    while m.len() < 60_000 {
        let mut g = vec![0xE0, 0x80, 0x00, 0x01, 0x00, 0x00, 0x82];
        g.extend_from_slice(&u16::try_from(m.len()).unwrap().to_be_bytes());
        g.extend_from_slice(&m);
        m = vec![0xDB, 0x08, 0x4B, 0x46, 0x4D, 0x00, 0x00, 0x00, 0x00, 0x01, 0x82];
        m.extend_from_slice(&u16::try_from(g.len() + 5).unwrap().to_be_bytes());
        m.extend_from_slice(&[0x00, 0x00, 0x00, 0x00, 0x01]);
        m.extend_from_slice(&g);
    }
    let mut payload = LLC.to_vec();
    payload.extend_from_slice(&m);
    let chunks: Vec<&[u8]> = payload.chunks(2000).collect();
    let mut stream = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        stream.extend(hdlc::encode(&[0x41], &[0x08, 0x83], i + 1 < chunks.len(), c));
    }
    let ev = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || events(Config::default(), &stream).len())
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(ev, 1);
}
