//! The IDX format of MNIST and Fashion-MNIST, raw or gzipped.
//!
//! An IDX file is a 4-byte magic number `0x0000TTDD` (two zero bytes, a type code `TT` — always
//! `0x08`, unsigned byte, here — and the number of dimensions `DD`), then `DD` big-endian `u32`
//! dimensions, then the data in row-major order. Images are `0x00000803` (N × H × W), labels
//! `0x00000801` (N).
//!
//! Files whose name ends in `.gz` are gzip streams (several concatenated members are accepted, as
//! `gzip` itself does); anything else is read raw. Readers stream from the (decompressing) reader
//! straight into the output vector: the data is never held twice. Writers write to a temporary file
//! beside the target and rename it into place, so a failed write never leaves a half file. Gzip
//! output is deterministic (no file name, mtime 0, level 9): regenerating a file gives identical bytes.
use super::atomic::write_atomically;
use super::error::DataError;
use flate2::read::MultiGzDecoder;
use flate2::{Compression, GzBuilder};
use ndarray::{Array3, ArrayView3};
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// Type code of unsigned bytes, the only IDX element type supported.
pub const UBYTE: u8 = 0x08;
/// Magic number of an images file: unsigned bytes, 3 dimensions.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of a labels file: unsigned bytes, 1 dimension.
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// At most this much is reserved up front for the data (a corrupt gzipped header could announce
/// terabytes); beyond it the vector grows as bytes actually arrive.
const MAX_UPFRONT_RESERVE: usize = 1 << 28;

/// Whether `path` names a gzip file (by its `.gz` extension).
pub fn is_gz(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// An IDX array of unsigned bytes: its dimensions and its data in row-major order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions from the header.
    pub dims: Vec<usize>,
    /// `dims.iter().product()` bytes.
    pub data: Vec<u8>,
}

/// A reader over a file's uncompressed bytes that turns decoder failures into
/// [`DataError::CorruptGzip`] and file failures into [`DataError::Io`].
struct Source {
    path: PathBuf,
    gz: bool,
    reader: Box<dyn Read>,
    /// Raw size of the file on disk (only meaningful when `!gz`).
    file_len: u64,
}

impl Source {
    fn open(path: &Path) -> Result<Source, DataError> {
        let file = File::open(path).map_err(|e| DataError::io("open", path, e))?;
        let file_len = file
            .metadata()
            .map_err(|e| DataError::io("read metadata of", path, e))?
            .len();
        let gz = is_gz(path);
        let reader: Box<dyn Read> = if gz {
            if file_len > 0 {
                // Check the gzip magic ourselves: flate2's message for a non-gzip file is vague.
                let mut f = BufReader::new(file);
                let mut magic = [0u8; 2];
                let n =
                    read_up_to(&mut f, &mut magic).map_err(|e| DataError::io("read", path, e))?;
                if n < 2 || magic != [0x1f, 0x8b] {
                    return Err(DataError::CorruptGzip {
                        path: path.to_path_buf(),
                        reason: format!(
                            "not a gzip stream (starts with {:02x?}, expected [1f, 8b])",
                            &magic[..n]
                        ),
                    });
                }
                Box::new(MultiGzDecoder::new(io::Cursor::new(magic).chain(f)))
            } else {
                Box::new(io::empty())
            }
        } else {
            Box::new(BufReader::with_capacity(1 << 16, file))
        };
        Ok(Source {
            path: path.to_path_buf(),
            gz,
            reader,
            file_len,
        })
    }

    fn err(&self, e: io::Error) -> DataError {
        if self.gz
            && matches!(
                e.kind(),
                io::ErrorKind::InvalidInput
                    | io::ErrorKind::InvalidData
                    | io::ErrorKind::UnexpectedEof
            )
        {
            DataError::CorruptGzip {
                path: self.path.clone(),
                reason: e.to_string(),
            }
        } else {
            DataError::io("read", &self.path, e)
        }
    }
}

/// Reads until `buf` is full or the stream ends; returns the number of bytes read.
fn read_up_to<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn magic_meaning(ndim: u8) -> String {
    format!(
        "unsigned bytes, {ndim} dimension{}",
        if ndim == 1 { "" } else { "s" }
    )
}

/// Reads an IDX file of unsigned bytes with `ndim` dimensions (`.gz` or raw, by extension),
/// validating the magic number, type code and that the data length matches the dimensions exactly.
pub fn read_idx(path: &Path, ndim: u8) -> Result<IdxArray, DataError> {
    let mut src = Source::open(path)?;
    let expected_magic = u32::from(UBYTE) << 8 | u32::from(ndim);

    // Magic number.
    let mut magic = [0u8; 4];
    let n = read_up_to(&mut src.reader, &mut magic).map_err(|e| src.err(e))?;
    if n == 0 {
        return Err(DataError::Empty {
            path: src.path,
            expected_magic,
        });
    }
    let header_len = 4 + 4 * usize::from(ndim);
    if n < 4 {
        return Err(DataError::Truncated {
            path: src.path,
            what: "the IDX header".into(),
            expected: header_len as u64,
            found: n as u64,
        });
    }
    let found_magic = u32::from_be_bytes(magic);
    if magic[0] != 0 || magic[1] != 0 || magic[3] != ndim {
        return Err(DataError::WrongMagic {
            path: src.path,
            expected: expected_magic,
            what: magic_meaning(ndim),
            found: found_magic,
        });
    }
    if magic[2] != UBYTE {
        return Err(DataError::WrongDtype {
            path: src.path,
            expected: UBYTE,
            found: magic[2],
        });
    }

    // Dimensions.
    let mut raw_dims = vec![0u8; 4 * usize::from(ndim)];
    let n = read_up_to(&mut src.reader, &mut raw_dims).map_err(|e| src.err(e))?;
    if n < raw_dims.len() {
        return Err(DataError::Truncated {
            path: src.path,
            what: "the IDX header".into(),
            expected: header_len as u64,
            found: (4 + n) as u64,
        });
    }
    let dims64: Vec<u64> = raw_dims
        .chunks_exact(4)
        .map(|c| u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
        .collect();
    let expected = dims64
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .filter(|&n| usize::try_from(n).is_ok())
        .ok_or_else(|| DataError::BadDimensions {
            path: src.path.clone(),
            dims: dims64.clone(),
            reason: "their product does not fit in memory addresses".into(),
        })?;
    let dims: Vec<usize> = dims64.iter().map(|&d| d as usize).collect();
    let what = format!("data for dimensions {dims:?}");

    // For raw files the length is known: check it before allocating anything.
    if !src.gz {
        let found = src.file_len.saturating_sub(header_len as u64);
        if found < expected {
            return Err(DataError::Truncated {
                path: src.path,
                what,
                expected,
                found,
            });
        }
        if found > expected {
            return Err(DataError::TrailingBytes {
                path: src.path,
                dims,
                expected,
                found: found - expected,
            });
        }
    }

    // Data: stream straight into the output vector.
    let expected_usize = expected as usize;
    let mut data = Vec::new();
    data.try_reserve_exact(expected_usize.min(MAX_UPFRONT_RESERVE))
        .map_err(|e| DataError::BadDimensions {
            path: src.path.clone(),
            dims: dims64.clone(),
            reason: format!("cannot allocate {expected} bytes: {e}"),
        })?;
    (&mut src.reader)
        .take(expected)
        .read_to_end(&mut data)
        .map_err(|e| src.err(e))?;
    if (data.len() as u64) < expected {
        return Err(DataError::Truncated {
            path: src.path,
            what,
            expected,
            found: data.len() as u64,
        });
    }
    // Anything left (and, for gzip, the CRC check at the end of the stream)?
    let mut probe = [0u8; 1];
    if read_up_to(&mut src.reader, &mut probe).map_err(|e| src.err(e))? > 0 {
        let rest = io::copy(&mut src.reader, &mut io::sink()).map_err(|e| src.err(e))?;
        return Err(DataError::TrailingBytes {
            path: src.path,
            dims,
            expected,
            found: 1 + rest,
        });
    }
    Ok(IdxArray { dims, data })
}

/// Reads an images file (`0x00000803`, N × H × W unsigned bytes).
pub fn read_images(path: &Path) -> Result<Array3<u8>, DataError> {
    let IdxArray { dims, data } = read_idx(path, 3)?;
    Ok(Array3::from_shape_vec((dims[0], dims[1], dims[2]), data)
        .expect("read_idx checked that the data length is the product of the dimensions"))
}

/// Reads a labels file (`0x00000801`, N unsigned bytes).
pub fn read_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    Ok(read_idx(path, 1)?.data)
}

/// Writes an IDX file of unsigned bytes; gzipped (deterministically) if `path` ends in `.gz`.
///
/// The file is written beside its target under a temporary name and renamed into place.
pub fn write_idx(path: &Path, dims: &[usize], data: &[u8]) -> Result<(), DataError> {
    let invalid = |reason: String| DataError::InvalidArgument {
        name: "dims",
        reason,
    };
    if dims.is_empty() || dims.len() > 255 {
        return Err(invalid(format!(
            "an IDX file has 1 to 255 dimensions, got {}",
            dims.len()
        )));
    }
    let mut header = Vec::with_capacity(4 + 4 * dims.len());
    header.extend_from_slice(&[0, 0, UBYTE, dims.len() as u8]);
    for &d in dims {
        let d = u32::try_from(d).map_err(|_| {
            invalid(format!(
                "dimension {d} does not fit in the IDX header's u32"
            ))
        })?;
        header.extend_from_slice(&d.to_be_bytes());
    }
    let n: usize = dims.iter().product();
    if n != data.len() {
        return Err(invalid(format!(
            "dimensions {dims:?} need {n} bytes, the data has {}",
            data.len()
        )));
    }
    write_atomically(path, |w| {
        if is_gz(path) {
            let mut gz = GzBuilder::new()
                .mtime(0)
                .operating_system(255)
                .write(w, Compression::best());
            gz.write_all(&header)?;
            gz.write_all(data)?;
            gz.finish()?;
        } else {
            w.write_all(&header)?;
            w.write_all(data)?;
        }
        Ok(())
    })
}

/// Writes an images file (N × H × W); gzipped if `path` ends in `.gz`.
pub fn write_images(path: &Path, images: ArrayView3<'_, u8>) -> Result<(), DataError> {
    let dims = images.shape().to_vec();
    match images.as_slice() {
        Some(s) => write_idx(path, &dims, s),
        None => write_idx(path, &dims, &images.iter().copied().collect::<Vec<_>>()),
    }
}

/// Writes a labels file (N); gzipped if `path` ends in `.gz`.
pub fn write_labels(path: &Path, labels: &[u8]) -> Result<(), DataError> {
    write_idx(path, &[labels.len()], labels)
}
