//! Protobuf wire format, read in place: varints, tags and length-delimited fields.
//!
//! Just enough of the encoding (protobuf.dev "Encoding") to walk OTLP messages without
//! decoding them: every field is handed out as its number and a [`WireValue`] that borrows
//! the input. Groups (wire types 3 and 4) are long deprecated and never appear in OTLP; they
//! are malformed input here.

/// One field's value as it sits on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    /// Length-delimited: a string, bytes, a packed array or an embedded message body.
    Len(&'a [u8]),
    Fixed32(u32),
}

/// One field of a message body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    pub number: u32,
    pub value: WireValue<'a>,
}

/// Where the bytes stopped making sense, relative to the start of the walked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireError {
    pub offset: usize,
    pub what: &'static str,
}

/// Reads a base-128 varint at `*pos`, advancing it. `None` when truncated or longer than
/// ten bytes.
#[inline]
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    // Tags, small lengths and most integers are one byte.
    let first = *buf.get(*pos)?;
    if first < 0x80 {
        *pos += 1;
        return Some(u64::from(first));
    }
    read_varint_slow(buf, pos)
}

#[inline(never)]
fn read_varint_slow(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let b = *buf.get(*pos)?;
        *pos += 1;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            // The tenth byte may only carry the top bit of a u64.
            return (i < 9 || b <= 1).then_some(value);
        }
    }
    None
}

/// The fields of one message body, in wire order.
///
/// Iteration stops at the first malformed field and records it in [`Fields::error`], so a
/// caller that validated the body first never sees a short walk, and one that did not
/// (values nested deeper than validation goes) still cannot read out of bounds.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    error: Option<WireError>,
}

impl<'a> Fields<'a> {
    pub fn new(buf: &'a [u8]) -> Fields<'a> {
        Fields {
            buf,
            pos: 0,
            error: None,
        }
    }

    /// Offset of the next field's tag within the body (the body's length once walked).
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The first malformed field met so far, if any.
    pub fn error(&self) -> Option<WireError> {
        self.error
    }

    /// Records the error at the start of the field being read and ends the walk.
    #[cold]
    fn fail(&mut self, what: &'static str) -> Option<Field<'a>> {
        self.error = Some(WireError {
            offset: self.pos,
            what,
        });
        self.pos = self.buf.len();
        None
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    #[inline(always)]
    fn next(&mut self) -> Option<Field<'a>> {
        let buf = self.buf;
        let start = self.pos;
        if start >= buf.len() {
            return None;
        }
        let mut pos = start;
        let Some(tag) = read_varint(buf, &mut pos) else {
            return self.fail("truncated tag");
        };
        let number = tag >> 3;
        if number == 0 || number > u64::from(u32::MAX >> 3) {
            return self.fail("invalid field number");
        }
        let value = match tag & 7 {
            0 => match read_varint(buf, &mut pos) {
                Some(v) => WireValue::Varint(v),
                None => return self.fail("truncated varint"),
            },
            1 => match buf.get(pos..pos + 8) {
                Some(b) => {
                    pos += 8;
                    WireValue::Fixed64(u64::from_le_bytes(b.try_into().expect("8 bytes")))
                }
                None => return self.fail("truncated fixed64"),
            },
            2 => {
                let Some(len) = read_varint(buf, &mut pos) else {
                    return self.fail("truncated length");
                };
                // `pos <= buf.len()` here, so the subtraction cannot wrap.
                if len > (buf.len() - pos) as u64 {
                    return self.fail("length past the end of the message");
                }
                let end = pos + len as usize;
                let body = &buf[pos..end];
                pos = end;
                WireValue::Len(body)
            }
            5 => match buf.get(pos..pos + 4) {
                Some(b) => {
                    pos += 4;
                    WireValue::Fixed32(u32::from_le_bytes(b.try_into().expect("4 bytes")))
                }
                None => return self.fail("truncated fixed32"),
            },
            _ => return self.fail("unsupported wire type"),
        };
        self.pos = pos;
        Some(Field {
            number: number as u32,
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_of_every_length_and_their_limits() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut buf = Vec::new();
            prost::encoding::encode_varint(v, &mut buf);
            let mut pos = 0;
            assert_eq!(read_varint(&buf, &mut pos), Some(v));
            assert_eq!(pos, buf.len());
        }
        // Eleven continuation bytes, and a tenth byte that overflows 64 bits.
        assert_eq!(read_varint(&[0x80; 11], &mut 0), None);
        let mut overflow = vec![0xff; 9];
        overflow.push(0x02);
        assert_eq!(read_varint(&overflow, &mut 0), None);
        assert_eq!(read_varint(&[0x80], &mut 0), None, "truncated");
    }

    #[test]
    fn fields_of_each_wire_type() {
        // 1: varint 150, 2: fixed64, 3: "hi", 4: fixed32
        let mut buf = vec![0x08, 0x96, 0x01, 0x11];
        buf.extend_from_slice(&7u64.to_le_bytes());
        buf.extend_from_slice(&[0x1a, 0x02, b'h', b'i', 0x25]);
        buf.extend_from_slice(&9u32.to_le_bytes());
        let mut f = Fields::new(&buf);
        let got: Vec<_> = f.by_ref().collect();
        assert_eq!(
            got,
            vec![
                Field {
                    number: 1,
                    value: WireValue::Varint(150)
                },
                Field {
                    number: 2,
                    value: WireValue::Fixed64(7)
                },
                Field {
                    number: 3,
                    value: WireValue::Len(b"hi")
                },
                Field {
                    number: 4,
                    value: WireValue::Fixed32(9)
                },
            ]
        );
        assert_eq!(f.error(), None);
    }

    #[test]
    fn malformed_input_stops_the_walk_and_says_where() {
        for (bytes, what) in [
            (
                &[0x1a, 0x05, b'a'][..],
                "length past the end of the message",
            ),
            (&[0x0b][..], "unsupported wire type"), // group start
            (&[0x00, 0x01][..], "invalid field number"),
            (&[0x09, 1, 2][..], "truncated fixed64"),
            (&[0x08][..], "truncated varint"),
        ] {
            let mut f = Fields::new(bytes);
            assert!(f.by_ref().next().is_none(), "{bytes:?}");
            assert_eq!(f.error().map(|e| e.what), Some(what), "{bytes:?}");
        }
    }
}
