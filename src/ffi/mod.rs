//! The C ABI: what the Go collector component calls through cgo.
//!
//! Conventions, modelled on rustls-ffi (docs/boundary.md describes the boundary and its sources):
//! - Every export runs inside [`boundary`], a `catch_unwind`: no panic ever crosses the ABI.
//!   A caught panic returns [`TollboothStatus::Panic`] and the caller passes data on unchanged.
//! - Every fallible export returns a numbered [`TollboothStatus`]; on failure a message is
//!   written to the optional `err_out` buffer.
//! - Every Rust-allocated output is a [`TollboothBuf`] `{ptr, len, cap}`, owned by the caller
//!   until it passes it back to [`tollbooth_buf_free`] (never to libc `free`). Output buffers are
//!   always written, empty on failure, so freeing them unconditionally is safe.
//! - Input bytes are borrowed for the duration of the call only; Rust never keeps a pointer to
//!   caller memory.
//! - A [`TollboothEngine`] handle is `Send + Sync`: any number of threads may call any export
//!   except [`tollbooth_engine_free`] on it concurrently.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::EngineConfig;
use crate::engine::{Engine, EngineError};

pub mod stats;
pub use stats::{TollboothPolicyStats, TollboothStats};

/// The ABI revision. Bump it on any change to a signature, a struct layout, a status value or
/// the edit-list format; the Go side refuses to start on a mismatch.
/// 5: the every-copy bit (0x80) on keyed edit ops, for maps that hold a key twice.
/// 6: counters and gauges read into caller-owned fixed-layout structs
/// (`tollbooth_engine_read_stats`, `tollbooth_engine_read_policy_stats`), detector names by
/// number, and the `SizeMismatch` status.
pub const TOLLBOOTH_ABI_VERSION: u32 = 6;

/// Result of every fallible export. Values are stable across releases of one ABI version.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TollboothStatus {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// The configuration could not be parsed or validated; `err_out` says which field.
    InvalidConfig = 2,
    /// The batch is not valid OTLP protobuf; the caller should pass it on unchanged.
    DecodeError = 3,
    /// Shared state was poisoned by an earlier panic; stateful results are unavailable.
    Poisoned = 4,
    /// A panic was caught inside the call; the caller should pass data on unchanged.
    Panic = 5,
    /// A caller-owned struct's declared size differs from this library's: the caller was
    /// built against another header.
    SizeMismatch = 6,
}

/// A byte buffer allocated by this library. Owned by the caller until it is passed, once, to
/// [`tollbooth_buf_free`]. An empty buffer has `ptr == NULL`, `len == 0`, `cap == 0`.
#[repr(C)]
#[derive(Debug)]
pub struct TollboothBuf {
    pub ptr: *mut u8,
    pub len: usize,
    pub cap: usize,
}

impl TollboothBuf {
    const EMPTY: TollboothBuf = TollboothBuf {
        ptr: std::ptr::null_mut(),
        len: 0,
        cap: 0,
    };

    fn from_vec(v: Vec<u8>) -> TollboothBuf {
        if v.capacity() == 0 {
            return TollboothBuf::EMPTY;
        }
        let mut v = std::mem::ManuallyDrop::new(v);
        TollboothBuf {
            ptr: v.as_mut_ptr(),
            len: v.len(),
            cap: v.capacity(),
        }
    }
}

/// An engine instance: opaque to C. Created by [`tollbooth_engine_new`], destroyed by
/// [`tollbooth_engine_free`].
pub struct TollboothEngine {
    engine: Engine,
}

/// Panics caught at the boundary, process-wide (reported in the stats snapshot).
static PANICS_CAUGHT: AtomicU64 = AtomicU64::new(0);

/// Panics caught so far, for the stats.
fn panics_caught() -> u64 {
    PANICS_CAUGHT.load(Ordering::Relaxed)
}

type CallResult = Result<(), (TollboothStatus, String)>;

/// Runs `f` with panics caught; writes the error message, if any, to `err_out`.
fn boundary(err_out: *mut TollboothBuf, f: impl FnOnce() -> CallResult) -> TollboothStatus {
    // SAFETY: `err_out` is NULL or points to a writable TollboothBuf (documented contract).
    unsafe { write_buf(err_out, Vec::new()) };
    let (status, message) = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return TollboothStatus::Ok,
        Ok(Err(e)) => e,
        Err(payload) => {
            PANICS_CAUGHT.fetch_add(1, Ordering::Relaxed);
            (
                TollboothStatus::Panic,
                format!("tollbooth: internal panic: {}", panic_text(&*payload)),
            )
        }
    };
    // Writing the message allocates; keep even that from unwinding across the ABI.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
        write_buf(err_out, message.into_bytes())
    }));
    status
}

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-string panic payload")
}

/// # Safety
/// `out` is NULL or valid for a write of one `TollboothBuf`.
unsafe fn write_buf(out: *mut TollboothBuf, v: Vec<u8>) {
    if !out.is_null() {
        out.write(TollboothBuf::from_vec(v));
    }
}

fn engine_error(e: EngineError) -> (TollboothStatus, String) {
    let status = match e {
        EngineError::Decode(_) => TollboothStatus::DecodeError,
        EngineError::Poisoned => TollboothStatus::Poisoned,
    };
    (status, e.to_string())
}

/// # Safety
/// `ptr` is NULL only when `len == 0`; otherwise valid for `len` bytes for the call.
unsafe fn input<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], (TollboothStatus, String)> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err((
            TollboothStatus::NullArgument,
            format!("{what} is NULL with length {len}"),
        ));
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

/// # Safety
/// `engine` is NULL or a live pointer from [`tollbooth_engine_new`].
unsafe fn engine_ref<'a>(
    engine: *const TollboothEngine,
) -> Result<&'a Engine, (TollboothStatus, String)> {
    engine
        .as_ref()
        .map(|e| &e.engine)
        .ok_or((TollboothStatus::NullArgument, "engine is NULL".to_string()))
}

/// Returns the ABI revision this library implements ([`TOLLBOOTH_ABI_VERSION`]).
/// Call it once at start-up and refuse to run on a mismatch. Thread-safe; never fails.
#[no_mangle]
pub extern "C" fn tollbooth_abi_version() -> u32 {
    TOLLBOOTH_ABI_VERSION
}

/// Returns a static, NUL-terminated name for a status value (e.g. "DECODE_ERROR").
/// The pointer is valid for the life of the process; do not free it. Thread-safe.
#[no_mangle]
pub extern "C" fn tollbooth_status_name(status: TollboothStatus) -> *const std::ffi::c_char {
    let s: &'static [u8] = match status {
        TollboothStatus::Ok => b"OK\0",
        TollboothStatus::NullArgument => b"NULL_ARGUMENT\0",
        TollboothStatus::InvalidConfig => b"INVALID_CONFIG\0",
        TollboothStatus::DecodeError => b"DECODE_ERROR\0",
        TollboothStatus::Poisoned => b"POISONED\0",
        TollboothStatus::Panic => b"PANIC\0",
        TollboothStatus::SizeMismatch => b"SIZE_MISMATCH\0",
    };
    s.as_ptr().cast()
}

/// Creates an engine from a JSON configuration.
///
/// - `config`/`config_len`: UTF-8 JSON, borrowed for the call. `config` may be NULL only when
///   `config_len` is 0, which means the default configuration.
/// - `now_unix_nano`: start time for cumulative metrics.
/// - `engine_out`: must not be NULL. On success receives a new engine owned by the caller,
///   to be destroyed with [`tollbooth_engine_free`]; on failure receives NULL.
/// - `err_out`: may be NULL. Always written; on failure holds the message.
///
/// # Safety
/// Pointers must satisfy the rules above. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn tollbooth_engine_new(
    config: *const u8,
    config_len: usize,
    now_unix_nano: u64,
    engine_out: *mut *mut TollboothEngine,
    err_out: *mut TollboothBuf,
) -> TollboothStatus {
    boundary(err_out, || {
        if engine_out.is_null() {
            return Err((
                TollboothStatus::NullArgument,
                "engine_out is NULL".to_string(),
            ));
        }
        engine_out.write(std::ptr::null_mut());
        let bytes = input(config, config_len, "config")?;
        let cfg =
            EngineConfig::from_json(bytes).map_err(|m| (TollboothStatus::InvalidConfig, m))?;
        let engine =
            Engine::new(cfg, now_unix_nano).map_err(|m| (TollboothStatus::InvalidConfig, m))?;
        let engine = Box::new(TollboothEngine { engine });
        engine_out.write(Box::into_raw(engine));
        Ok(())
    })
}

/// Destroys an engine. NULL is a no-op.
///
/// # Safety
/// `engine` is NULL or a pointer from [`tollbooth_engine_new`] not yet freed. No other call
/// may be using it, and it must not be used afterwards. Call it exactly once per engine.
#[no_mangle]
pub unsafe extern "C" fn tollbooth_engine_free(engine: *mut TollboothEngine) {
    if engine.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(engine))));
}

/// Processes one OTLP traces batch (`TracesData` / `ExportTraceServiceRequest` bytes).
///
/// - `batch`/`batch_len`: borrowed for the call only; NULL only when `batch_len` is 0.
/// - `edits_out`: must not be NULL. On success receives the edit list (format in
///   `src/edits.rs`), owned by the caller; free it with [`tollbooth_buf_free`]. Empty on failure.
/// - `err_out`: may be NULL. Always written; on failure holds the message.
///
/// On [`TollboothStatus::DecodeError`] or [`TollboothStatus::Panic`] the caller must forward
/// the batch unchanged (fail-open); the engine counts it.
///
/// # Safety
/// Pointers must satisfy the rules above. Thread-safe: may run concurrently on one engine.
#[no_mangle]
pub unsafe extern "C" fn tollbooth_engine_process(
    engine: *const TollboothEngine,
    batch: *const u8,
    batch_len: usize,
    now_unix_nano: u64,
    edits_out: *mut TollboothBuf,
    err_out: *mut TollboothBuf,
) -> TollboothStatus {
    boundary(err_out, || {
        if edits_out.is_null() {
            return Err((
                TollboothStatus::NullArgument,
                "edits_out is NULL".to_string(),
            ));
        }
        write_buf(edits_out, Vec::new());
        let engine = engine_ref(engine)?;
        let bytes = input(batch, batch_len, "batch")?;
        let edits = engine.process(bytes, now_unix_nano).map_err(engine_error)?;
        write_buf(edits_out, edits);
        Ok(())
    })
}

/// Releases traces that stateful stages hold and have decided to send, as one OTLP
/// `TracesData` buffer (empty when there are none). `flush_all` decides and releases
/// everything still held (used at shutdown).
///
/// - `traces_out`: must not be NULL; owned by the caller, free with [`tollbooth_buf_free`].
/// - `err_out`: may be NULL. Always written; on failure holds the message.
///
/// # Safety
/// Pointers must satisfy the rules above. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn tollbooth_engine_release(
    engine: *const TollboothEngine,
    now_unix_nano: u64,
    flush_all: bool,
    traces_out: *mut TollboothBuf,
    err_out: *mut TollboothBuf,
) -> TollboothStatus {
    boundary(err_out, || {
        if traces_out.is_null() {
            return Err((
                TollboothStatus::NullArgument,
                "traces_out is NULL".to_string(),
            ));
        }
        write_buf(traces_out, Vec::new());
        let engine = engine_ref(engine)?;
        let out = engine
            .release(now_unix_nano, flush_all)
            .map_err(engine_error)?;
        write_buf(traces_out, out);
        Ok(())
    })
}

/// Collects aggregated metrics as one OTLP `MetricsData` buffer (empty when there are none).
///
/// - `metrics_out`: must not be NULL; owned by the caller, free with [`tollbooth_buf_free`].
/// - `err_out`: may be NULL. Always written; on failure holds the message.
///
/// # Safety
/// Pointers must satisfy the rules above. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn tollbooth_engine_collect_metrics(
    engine: *const TollboothEngine,
    now_unix_nano: u64,
    metrics_out: *mut TollboothBuf,
    err_out: *mut TollboothBuf,
) -> TollboothStatus {
    boundary(err_out, || {
        if metrics_out.is_null() {
            return Err((
                TollboothStatus::NullArgument,
                "metrics_out is NULL".to_string(),
            ));
        }
        write_buf(metrics_out, Vec::new());
        let engine = engine_ref(engine)?;
        let out = engine
            .collect_metrics(now_unix_nano)
            .map_err(engine_error)?;
        write_buf(metrics_out, out);
        Ok(())
    })
}

/// Writes everything the engine reports as a JSON object (`{"batches_processed": N, ...}`,
/// the tail sampler's telemetry under `"sampling"`, redaction tallies under `"redaction"`),
/// including what has no fixed layout: policy names, counts per secret-rule id, the last
/// reload error, the secret rules' status. It allocates and serialises: read it rarely (at
/// start, or when a counter says a reload failed); read counters with
/// [`stats::tollbooth_engine_read_stats`].
///
/// - `stats_out`: must not be NULL; owned by the caller, free with [`tollbooth_buf_free`].
/// - `err_out`: may be NULL. Always written; on failure holds the message.
///
/// # Safety
/// Pointers must satisfy the rules above. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn tollbooth_engine_stats(
    engine: *const TollboothEngine,
    stats_out: *mut TollboothBuf,
    err_out: *mut TollboothBuf,
) -> TollboothStatus {
    boundary(err_out, || {
        if stats_out.is_null() {
            return Err((
                TollboothStatus::NullArgument,
                "stats_out is NULL".to_string(),
            ));
        }
        write_buf(stats_out, Vec::new());
        let engine = engine_ref(engine)?;
        write_buf(stats_out, engine.stats_json(panics_caught()));
        Ok(())
    })
}

/// Decodes an OTLP traces batch and discards it: `Ok` when it is valid OTLP, `DecodeError`
/// otherwise. Runs no stage; used to measure the cost floor of crossing the ABI and decoding,
/// and by fuzz tests.
///
/// - `batch`/`batch_len`: borrowed for the call only; NULL only when `batch_len` is 0.
/// - `err_out`: may be NULL. Always written; on failure holds the message.
///
/// # Safety
/// Pointers must satisfy the rules above. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn tollbooth_validate_traces(
    batch: *const u8,
    batch_len: usize,
    err_out: *mut TollboothBuf,
) -> TollboothStatus {
    boundary(err_out, || {
        let bytes = input(batch, batch_len, "batch")?;
        crate::otlp::decode_traces(bytes)
            .map(drop)
            .map_err(|e| (TollboothStatus::DecodeError, e.to_string()))
    })
}

/// Frees a buffer this library returned. An empty buffer (`ptr == NULL`) is a no-op.
///
/// # Safety
/// `buf` is exactly as returned by this library and not yet freed; free each buffer once.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn tollbooth_buf_free(buf: TollboothBuf) {
    if buf.ptr.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        drop(Vec::from_raw_parts(buf.ptr, buf.len, buf.cap))
    }));
}

#[cfg(test)]
mod stats_tests;
#[cfg(test)]
mod tests;
