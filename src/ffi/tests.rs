//! ABI tests: call the exports exactly as C would, including with hostile arguments.

use std::ptr::{null, null_mut};

use super::*;

pub(super) fn take(buf: TollboothBuf) -> Vec<u8> {
    let v = if buf.ptr.is_null() {
        Vec::new()
    } else {
        unsafe { std::slice::from_raw_parts(buf.ptr, buf.len) }.to_vec()
    };
    unsafe { tollbooth_buf_free(buf) };
    v
}

pub(super) fn new_engine(config: &str) -> (*mut TollboothEngine, TollboothStatus, String) {
    let mut engine = null_mut();
    let mut err = TollboothBuf::EMPTY;
    let st =
        unsafe { tollbooth_engine_new(config.as_ptr(), config.len(), 0, &mut engine, &mut err) };
    (engine, st, String::from_utf8(take(err)).unwrap())
}

#[test]
fn abi_version_matches_constant() {
    assert_eq!(tollbooth_abi_version(), TOLLBOOTH_ABI_VERSION);
}

#[test]
fn bad_config_fails_with_a_message_and_null_engine() {
    let (engine, st, msg) = new_engine(r#"{"bogus": 1}"#);
    assert_eq!(st, TollboothStatus::InvalidConfig);
    assert!(engine.is_null());
    assert!(msg.contains("bogus"), "{msg}");
}

#[test]
fn null_arguments_are_reported_not_dereferenced() {
    let mut err = TollboothBuf::EMPTY;
    let st = unsafe { tollbooth_engine_new(null(), 0, 0, null_mut(), &mut err) };
    assert_eq!(st, TollboothStatus::NullArgument);
    assert!(String::from_utf8(take(err)).unwrap().contains("engine_out"));

    let mut out = TollboothBuf::EMPTY;
    let st = unsafe { tollbooth_engine_process(null(), null(), 0, 0, &mut out, null_mut()) };
    assert_eq!(st, TollboothStatus::NullArgument);
    assert!(take(out).is_empty());

    let (engine, st, _) = new_engine("");
    assert_eq!(st, TollboothStatus::Ok);
    let mut out = TollboothBuf::EMPTY;
    let st = unsafe { tollbooth_engine_process(engine, null(), 5, 0, &mut out, null_mut()) };
    assert_eq!(st, TollboothStatus::NullArgument);
    let st = unsafe { tollbooth_engine_process(engine, null(), 0, 0, null_mut(), null_mut()) };
    assert_eq!(st, TollboothStatus::NullArgument);
    unsafe { tollbooth_engine_free(engine) };
    unsafe { tollbooth_engine_free(null_mut()) };
    unsafe { tollbooth_buf_free(TollboothBuf::EMPTY) };
}

#[test]
fn process_round_trip_and_stats() {
    let (engine, _, _) = new_engine(r#"{"metrics": {}}"#);
    // An empty batch is valid OTLP (no resource spans): an empty edit list comes back.
    let mut out = TollboothBuf::EMPTY;
    let st = unsafe { tollbooth_engine_process(engine, null(), 0, 0, &mut out, null_mut()) };
    assert_eq!(st, TollboothStatus::Ok);
    let (_, edits) = crate::edits::decode(&take(out)).unwrap();
    assert!(edits.is_empty());

    let garbage = [0xffu8; 16];
    let mut out = TollboothBuf::EMPTY;
    let mut err = TollboothBuf::EMPTY;
    let st = unsafe {
        tollbooth_engine_process(
            engine,
            garbage.as_ptr(),
            garbage.len(),
            0,
            &mut out,
            &mut err,
        )
    };
    assert_eq!(st, TollboothStatus::DecodeError);
    assert!(take(out).is_empty());
    assert!(!take(err).is_empty());

    let mut stats = TollboothBuf::EMPTY;
    let st = unsafe { tollbooth_engine_stats(engine, &mut stats, null_mut()) };
    assert_eq!(st, TollboothStatus::Ok);
    let json: serde_json::Value = serde_json::from_slice(&take(stats)).unwrap();
    assert_eq!(json["batches_processed"], 1);
    assert_eq!(json["batches_undecodable"], 1);

    let mut traces = TollboothBuf::EMPTY;
    assert_eq!(
        unsafe { tollbooth_engine_release(engine, 0, true, &mut traces, null_mut()) },
        TollboothStatus::Ok
    );
    assert!(take(traces).is_empty());
    let mut metrics = TollboothBuf::EMPTY;
    assert_eq!(
        unsafe { tollbooth_engine_collect_metrics(engine, 1, &mut metrics, null_mut()) },
        TollboothStatus::Ok
    );
    unsafe { tollbooth_engine_free(engine) };
}

#[test]
fn panics_are_caught_and_reported() {
    let mut err = TollboothBuf::EMPTY;
    let before = PANICS_CAUGHT.load(Ordering::Relaxed);
    let st = boundary(&mut err, || panic!("boom {}", 42));
    assert_eq!(st, TollboothStatus::Panic);
    let msg = String::from_utf8(take(err)).unwrap();
    assert!(msg.contains("boom 42"), "{msg}");
    assert!(PANICS_CAUGHT.load(Ordering::Relaxed) > before);
}

#[test]
fn status_names_are_nul_terminated() {
    let name =
        unsafe { std::ffi::CStr::from_ptr(tollbooth_status_name(TollboothStatus::DecodeError)) };
    assert_eq!(name.to_str().unwrap(), "DECODE_ERROR");
}

#[test]
fn validate_traces_accepts_otlp_and_rejects_garbage() {
    assert_eq!(
        unsafe { tollbooth_validate_traces(null(), 0, null_mut()) },
        TollboothStatus::Ok
    );
    let garbage = [0x0au8, 0x05, 0xff];
    let mut err = TollboothBuf::EMPTY;
    let st = unsafe { tollbooth_validate_traces(garbage.as_ptr(), garbage.len(), &mut err) };
    assert_eq!(st, TollboothStatus::DecodeError);
    assert!(!take(err).is_empty());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Invariant 2: arbitrary bytes through every batch-taking export give a status, never a
    /// panic, and the returned buffers are always freeable.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
        let (engine, _, _) = new_engine(r#"{"metrics": {}}"#);
        let mut out = TollboothBuf::EMPTY;
        let mut err = TollboothBuf::EMPTY;
        let st = unsafe { tollbooth_engine_process(engine, bytes.as_ptr(), bytes.len(), 0, &mut out, &mut err) };
        proptest::prop_assert!(matches!(st, TollboothStatus::Ok | TollboothStatus::DecodeError), "{st:?}");
        let edits = take(out);
        if st == TollboothStatus::Ok {
            proptest::prop_assert!(crate::edits::decode(&edits).is_some());
        }
        take(err);
        let st = unsafe { tollbooth_validate_traces(bytes.as_ptr(), bytes.len(), null_mut()) };
        proptest::prop_assert!(matches!(st, TollboothStatus::Ok | TollboothStatus::DecodeError));
        let mut metrics = TollboothBuf::EMPTY;
        let st = unsafe { tollbooth_engine_collect_metrics(engine, 1, &mut metrics, null_mut()) };
        proptest::prop_assert_eq!(st, TollboothStatus::Ok);
        take(metrics);
        unsafe { tollbooth_engine_free(engine) };
    }
}

#[test]
fn committed_header_states_this_abi_version() {
    let header = include_str!("../../include/tollbooth.h");
    let line = format!("#define TOLLBOOTH_ABI_VERSION {TOLLBOOTH_ABI_VERSION}\n");
    assert!(header.contains(&line), "include/tollbooth.h must say {line:?}: edit cbindgen.toml's after_includes and run `make header`");
}
