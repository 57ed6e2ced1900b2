//! A safe owner of one engine handle, over the exported C functions: the surface the Go
//! collector uses, so a target exercises the panic boundary, buffer ownership and statuses
//! exactly as production does.

use std::ptr;
use std::sync::Mutex;

use tollbooth::ffi::{
    tollbooth_buf_free, tollbooth_engine_collect_metrics, tollbooth_engine_free,
    tollbooth_engine_new, tollbooth_engine_process, tollbooth_engine_release,
    tollbooth_engine_stats, TollboothBuf, TollboothEngine, TollboothStatus,
};

/// A failed call: its status and message.
pub type Failure = (TollboothStatus, String);

fn empty() -> TollboothBuf {
    TollboothBuf {
        ptr: ptr::null_mut(),
        len: 0,
        cap: 0,
    }
}

/// Copies a library buffer out and frees it with the library's own free function.
fn take(buf: TollboothBuf) -> Vec<u8> {
    let out = if buf.ptr.is_null() {
        assert_eq!((buf.len, buf.cap), (0, 0), "NULL buffer with a length");
        Vec::new()
    } else {
        // SAFETY: the library returned this buffer, valid for `len` bytes until freed below.
        unsafe { std::slice::from_raw_parts(buf.ptr, buf.len) }.to_vec()
    };
    // SAFETY: returned by the library, freed once.
    unsafe { tollbooth_buf_free(buf) };
    out
}

/// Turns a status and its message buffer into a result. No call may report a caught panic:
/// the boundary keeps it from crashing the collector, but it is still a bug.
fn check(status: TollboothStatus, err: TollboothBuf) -> Result<(), Failure> {
    let message = String::from_utf8_lossy(&take(err)).into_owned();
    match status {
        TollboothStatus::Ok => {
            assert!(message.is_empty(), "OK with an error message: {message}");
            Ok(())
        }
        TollboothStatus::Panic => panic!("panic caught at the ABI boundary: {message}"),
        other => {
            assert!(!message.is_empty(), "{other:?} without a message");
            Err((other, message))
        }
    }
}

/// One engine; freed on drop.
pub struct Engine {
    handle: *mut TollboothEngine,
}

// SAFETY: the ABI documents engine handles as Send + Sync (src/ffi/mod.rs); only
// `tollbooth_engine_free` needs exclusive use, and Drop has it.
unsafe impl Send for Engine {}
unsafe impl Sync for Engine {}

/// The engine for `config`, made once and kept for the life of the fuzzing process. For
/// configurations whose engine holds no traces between calls: creating one (compiling every
/// detector's regex) costs far more than a run, and what it keeps (counters, the pricing
/// cache) must not change any answer.
pub fn shared(config: &'static str) -> &'static Engine {
    static ENGINES: Mutex<Vec<(&'static str, &'static Engine)>> = Mutex::new(Vec::new());
    let mut all = ENGINES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, e)) = all.iter().find(|(c, _)| *c == config) {
        return e;
    }
    let engine = Engine::new(config.as_bytes()).expect("the fixed configurations are valid");
    let engine: &'static Engine = Box::leak(Box::new(engine));
    all.push((config, engine));
    engine
}

impl Engine {
    /// `tollbooth_engine_new` on `config` (JSON bytes).
    pub fn new(config: &[u8]) -> Result<Engine, Failure> {
        let mut handle = ptr::dangling_mut();
        let mut err = empty();
        // SAFETY: config is valid for its length; both out-pointers are writable.
        let status = unsafe {
            tollbooth_engine_new(config.as_ptr(), config.len(), 0, &mut handle, &mut err)
        };
        match check(status, err) {
            Ok(()) => {
                assert!(!handle.is_null(), "OK without an engine");
                Ok(Engine { handle })
            }
            Err(e) => {
                assert!(handle.is_null(), "failure must leave engine_out NULL");
                Err(e)
            }
        }
    }

    /// `tollbooth_engine_process`: the edit list, or the failure.
    pub fn process(&self, batch: &[u8], now: u64) -> Result<Vec<u8>, Failure> {
        let (mut edits, mut err) = (empty(), empty());
        // SAFETY: live handle; batch valid for its length; out-pointers writable.
        let status = unsafe {
            tollbooth_engine_process(
                self.handle,
                batch.as_ptr(),
                batch.len(),
                now,
                &mut edits,
                &mut err,
            )
        };
        let edits = take(edits);
        check(status, err)?;
        Ok(edits)
    }

    /// `tollbooth_engine_release`: released traces as OTLP bytes (empty when none).
    pub fn release(&self, now: u64, flush_all: bool) -> Result<Vec<u8>, Failure> {
        let (mut out, mut err) = (empty(), empty());
        // SAFETY: live handle; out-pointers writable.
        let status =
            unsafe { tollbooth_engine_release(self.handle, now, flush_all, &mut out, &mut err) };
        let out = take(out);
        check(status, err)?;
        Ok(out)
    }

    /// `tollbooth_engine_collect_metrics`: OTLP `MetricsData` bytes (empty when none).
    pub fn collect_metrics(&self, now: u64) -> Result<Vec<u8>, Failure> {
        let (mut out, mut err) = (empty(), empty());
        // SAFETY: live handle; out-pointers writable.
        let status =
            unsafe { tollbooth_engine_collect_metrics(self.handle, now, &mut out, &mut err) };
        let out = take(out);
        check(status, err)?;
        Ok(out)
    }

    /// `tollbooth_engine_stats`, parsed.
    pub fn stats(&self) -> serde_json::Value {
        let (mut out, mut err) = (empty(), empty());
        // SAFETY: live handle; out-pointers writable.
        let status = unsafe { tollbooth_engine_stats(self.handle, &mut out, &mut err) };
        let out = take(out);
        check(status, err).expect("stats never fail");
        serde_json::from_slice(&out).expect("stats are JSON")
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: created by tollbooth_engine_new, freed once, no other user.
        unsafe { tollbooth_engine_free(self.handle) };
    }
}
