//! The packets against the spec's layouts, bad input, and a proptest round trip.

use super::*;
use proptest::prelude::*;

fn bytes(p: &Packet) -> Vec<u8> {
    let mut out = Vec::new();
    p.encode(&mut out).unwrap();
    out
}

fn decode_all(b: &[u8]) -> Vec<Packet> {
    let mut d = Decoder::new(1 << 20);
    d.push(b);
    let mut got = Vec::new();
    while let Some(p) = d.next_packet().unwrap() {
        got.push(p);
    }
    got
}

#[test]
fn connect_as_the_spec_writes_it() {
    // A will, user and password: each field as spec 3.1.2 and 3.1.3 lay them out.
    let c = Packet::Connect(Connect {
        client_id: "id".into(),
        keep_alive_secs: 10,
        clean_session: true,
        will: Some(Will { topic: "a/b".into(), message: b"off".to_vec(), qos: QoS::Q1, retain: true }),
        username: Some("u".into()),
        password: Some(b"pw".to_vec()),
    });
    let want: Vec<u8> = [
        &[0x10, 31][..],
        &[0, 4, b'M', b'Q', b'T', b'T', 4],
        &[0b1110_1110, 0, 10],
        &[0, 2, b'i', b'd'],
        &[0, 3, b'a', b'/', b'b', 0, 3, b'o', b'f', b'f'],
        &[0, 1, b'u', 0, 2, b'p', b'w'],
    ]
    .concat();
    assert_eq!(bytes(&c), want);
    assert_eq!(decode_all(&want), [c]);
    // The plainest CONNECT: clean session only.
    let plain = Packet::Connect(Connect {
        client_id: String::new(),
        keep_alive_secs: 60,
        clean_session: true,
        will: None,
        username: None,
        password: None,
    });
    assert_eq!(bytes(&plain), [0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, 0b10, 0, 60, 0, 0]);
}

#[test]
fn the_small_packets() {
    assert_eq!(bytes(&Packet::PingReq), [0xc0, 0]);
    assert_eq!(bytes(&Packet::PingResp), [0xd0, 0]);
    assert_eq!(bytes(&Packet::Disconnect), [0xe0, 0]);
    assert_eq!(bytes(&Packet::PubAck { packet_id: 0x1234 }), [0x40, 2, 0x12, 0x34]);
    assert_eq!(bytes(&Packet::ConnAck { session_present: false, code: 5 }), [0x20, 2, 0, 5]);
    let p = Packet::Publish(Publish {
        topic: "t".into(),
        payload: b"x".to_vec(),
        qos: QoS::Q1,
        retain: true,
        dup: false,
        packet_id: Some(7),
    });
    assert_eq!(bytes(&p), [0x33, 6, 0, 1, b't', 0, 7, b'x']);
}

#[test]
fn remaining_length_bounds() {
    // Spec 2.2.3's table: the edges of one, two, three and four bytes.
    for (n, want) in [
        (0, &[0x00][..]),
        (127, &[0x7f]),
        (128, &[0x80, 0x01]),
        (16_383, &[0xff, 0x7f]),
        (16_384, &[0x80, 0x80, 0x01]),
        (2_097_151, &[0xff, 0xff, 0x7f]),
        (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
        (MAX_REMAINING, &[0xff, 0xff, 0xff, 0x7f]),
    ] {
        let mut out = Vec::new();
        remaining_length(n, &mut out);
        assert_eq!(out, want, "{n}");
    }
    let mut d = Decoder::new(usize::MAX);
    d.push(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert_eq!(d.next_packet(), Err(DecodeError::BadLength));
    let mut d = Decoder::new(100);
    d.push(&[0x30, 0xff, 0x01]);
    assert_eq!(d.next_packet(), Err(DecodeError::TooLarge(258, 100)));
}

#[test]
fn refusals_and_encoding_errors() {
    assert_eq!(Refused::check(0), Ok(()));
    assert_eq!(Refused::check(4), Err(Refused::BadCredentials));
    assert_eq!(Refused::check(5), Err(Refused::NotAuthorised));
    assert!(!Refused::ServerUnavailable.is_permanent());
    let publish = |topic: &str, qos, packet_id| {
        Packet::Publish(Publish { topic: topic.into(), payload: vec![], qos, retain: false, dup: false, packet_id })
    };
    let mut out = Vec::new();
    for (p, e) in [
        (publish("a/#", QoS::Q0, None), EncodeError::BadTopic("a/#".into())),
        (publish("", QoS::Q0, None), EncodeError::BadTopic(String::new())),
        (publish("a", QoS::Q1, None), EncodeError::BadPacketId),
        (publish("a", QoS::Q1, Some(0)), EncodeError::BadPacketId),
        (publish("a", QoS::Q0, Some(1)), EncodeError::BadPacketId),
        (publish(&"x".repeat(70_000), QoS::Q0, None), EncodeError::BadTopic("x".repeat(70_000))),
    ] {
        assert_eq!(p.encode(&mut out), Err(e));
    }
    let c = Connect {
        client_id: "c".into(),
        keep_alive_secs: 0,
        clean_session: true,
        will: None,
        username: None,
        password: Some(vec![1]),
    };
    assert_eq!(Packet::Connect(c.clone()).encode(&mut out), Err(EncodeError::PasswordWithoutUser));
    let c = Connect { client_id: String::new(), clean_session: false, password: None, ..c };
    assert_eq!(Packet::Connect(c).encode(&mut out), Err(EncodeError::EmptyClientId));
    assert!(out.is_empty(), "nothing written on an error");
    assert!(
        !format!("{:?}", Connect { password: Some(b"s3cret".to_vec()), username: Some("u".into()), ..connect() })
            .contains("s3cret")
    );
}

fn connect() -> Connect {
    Connect {
        client_id: "c".into(),
        keep_alive_secs: 1,
        clean_session: true,
        will: None,
        username: None,
        password: None,
    }
}

#[test]
fn bad_input_is_an_error() {
    let err = |b: &[u8]| {
        let mut d = Decoder::new(1 << 20);
        d.push(b);
        d.next_packet().unwrap_err()
    };
    assert_eq!(err(&[0xc1, 0]), DecodeError::BadFlags(12, 1));
    assert_eq!(err(&[0x82, 0]), DecodeError::Unsupported(8));
    assert_eq!(err(&[0x00, 0]), DecodeError::Unsupported(0));
    assert_eq!(err(&[0xc0, 1, 0]), DecodeError::Trailing(1));
    assert_eq!(err(&[0x40, 1, 0]), DecodeError::Truncated);
    assert_eq!(err(&[0x40, 2, 0, 0]), DecodeError::ZeroPacketId);
    assert_eq!(err(&[0x36, 3, 0, 1, b't']), DecodeError::BadQoS);
    assert_eq!(err(&[0x30, 3, 0, 1, 0xff]), DecodeError::BadString);
    assert_eq!(err(&[0x30, 3, 0, 1, 0]), DecodeError::BadString);
    assert_eq!(err(&[0x20, 2, 2, 0]), DecodeError::BadFlags(2, 2));
    assert_eq!(err(&[0x10, 7, 0, 4, b'M', b'Q', b'T', b'T', 3]), DecodeError::BadProtocol("MQTT".into(), 3));
    assert_eq!(
        err(&[0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, 0b0100_0010, 0, 0, 0, 0]),
        DecodeError::BadConnectFlags(0x42)
    );
}

#[test]
fn split_anywhere() {
    let mut stream = bytes(&Packet::ConnAck { session_present: true, code: 0 });
    stream.extend(bytes(&Packet::PubAck { packet_id: 300 }));
    stream.extend(bytes(&Packet::PingResp));
    let want = decode_all(&stream);
    assert_eq!(want.len(), 3);
    for cut in 0..stream.len() {
        let mut d = Decoder::new(1 << 20);
        let mut got = Vec::new();
        for chunk in [&stream[..cut], &stream[cut..]] {
            d.push(chunk);
            while let Some(p) = d.next_packet().unwrap() {
                got.push(p);
            }
        }
        assert_eq!(got, want, "cut at {cut}");
    }
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![Just(QoS::Q0), Just(QoS::Q1), Just(QoS::Q2)]
}

fn topic_name() -> impl Strategy<Value = String> {
    "[a-z0-9/_ é-]{1,40}"
}

fn packet() -> impl Strategy<Value = Packet> {
    let publish = (
        topic_name(),
        proptest::collection::vec(any::<u8>(), 0..300),
        qos(),
        any::<bool>(),
        any::<bool>(),
        1..=u16::MAX,
    )
        .prop_map(|(topic, payload, qos, retain, dup, id)| {
            let packet_id = (qos != QoS::Q0).then_some(id);
            Packet::Publish(Publish { topic, payload, qos, retain, dup, packet_id })
        });
    let will = (topic_name(), proptest::collection::vec(any::<u8>(), 0..50), qos(), any::<bool>())
        .prop_map(|(topic, message, qos, retain)| Will { topic, message, qos, retain });
    let connect = (
        "[a-zA-Z0-9-]{1,23}",
        any::<u16>(),
        proptest::option::of(will),
        proptest::option::of(("[a-z]{0,10}", proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)))),
    )
        .prop_map(|(client_id, keep_alive_secs, will, login)| {
            let (username, password) = match login {
                Some((u, p)) => (Some(u), p),
                None => (None, None),
            };
            Packet::Connect(Connect { client_id, keep_alive_secs, clean_session: true, will, username, password })
        });
    prop_oneof![
        publish,
        connect,
        (any::<bool>(), any::<u8>()).prop_map(|(session_present, code)| Packet::ConnAck { session_present, code }),
        (1..=u16::MAX).prop_map(|packet_id| Packet::PubAck { packet_id }),
        Just(Packet::PingReq),
        Just(Packet::PingResp),
        Just(Packet::Disconnect),
    ]
}

proptest! {
    #[test]
    fn round_trip(packets in proptest::collection::vec(packet(), 1..8), chunk in 1usize..64) {
        let mut stream = Vec::new();
        for p in &packets {
            p.encode(&mut stream).unwrap();
        }
        let mut d = Decoder::new(1 << 20);
        let mut got = Vec::new();
        for c in stream.chunks(chunk) {
            d.push(c);
            while let Some(p) = d.next_packet().unwrap() {
                got.push(p);
            }
        }
        prop_assert_eq!(got, packets);
    }

    #[test]
    fn garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut d = Decoder::new(1 << 16);
        d.push(&b);
        while let Ok(Some(_)) = d.next_packet() {}
    }
}
