//! NPY features and labels, read from files numpy wrote (fixtures/npy, made by make_npy.py).
use deepclust::data::{fixture_dir, npy, DataError};
use ndarray::{array, Array1, Array2};
use ndarray_npy::ReadNpyExt;
use std::path::PathBuf;

fn f(name: &str) -> PathBuf {
    fixture_dir().join("npy").join(name)
}

/// `np.arange(12).reshape(3, 4) / 4`
fn expected_features() -> Array2<f32> {
    Array2::from_shape_fn((3, 4), |(i, j)| (4 * i + j) as f32 / 4.0)
}

#[test]
fn features_f32_f64_big_endian_fortran() {
    for name in [
        "features_f32.npy",
        "features_f64.npy",
        "features_f32_big_endian.npy",
        "features_f64_fortran.npy",
    ] {
        let x = npy::read_features(&f(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(x, expected_features(), "{name}");
        assert!(x.is_standard_layout(), "{name}");
    }
}

#[test]
fn features_bad_dtype_and_ndim() {
    for (name, dtype) in [
        ("features_int32.npy", "<i4"),
        ("features_complex.npy", "<c8"),
    ] {
        let e = npy::read_features(&f(name)).unwrap_err();
        assert!(matches!(e, DataError::NpyDtype { .. }), "{name}: {e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains(dtype) && msg.contains(name) && msg.contains("float32"),
            "{msg}"
        );
    }
    let e = npy::read_features(&f("features_3d.npy")).unwrap_err();
    assert!(
        matches!(&e, DataError::NpyShape { found, .. } if found == &vec![2, 2, 2]),
        "{e:?}"
    );
}

#[test]
fn features_not_npy_or_truncated() {
    for name in ["not_really.npy", "features_truncated.npy"] {
        let e = npy::read_features(&f(name)).unwrap_err();
        assert!(matches!(e, DataError::Npy { .. }), "{name}: {e:?}");
        assert!(e.to_string().contains(name), "{e}");
    }
}

#[test]
fn features_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.npy");
    let x = expected_features();
    npy::write_features(&p, x.view()).unwrap();
    assert_eq!(npy::read_features(&p).unwrap(), x);
    // A transposed (non-standard) view is written in logical order.
    npy::write_features(&p, x.t()).unwrap();
    assert_eq!(npy::read_features(&p).unwrap(), x.t());
}

#[test]
fn labels_every_integer_dtype() {
    for dt in [
        "i1",
        "i2",
        "i4",
        "i8",
        "u1",
        "u2",
        "u4",
        "u8",
        "i4_big_endian",
    ] {
        let name = format!("labels_{dt}.npy");
        let y = npy::read_labels(&f(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(y, vec![0, 3, 1, 2, 9], "{name}");
    }
    assert_eq!(
        npy::read_labels(&f("labels_column.npy")).unwrap(),
        vec![0, 3, 1, 2, 9]
    );
}

#[test]
fn labels_text() {
    assert_eq!(
        npy::read_labels(&f("labels_int.txt")).unwrap(),
        vec![0, 3, 1, 2, 9]
    );
    // np.savetxt's default "%.18e" format.
    assert_eq!(
        npy::read_labels(&f("labels_savetxt_default.txt")).unwrap(),
        vec![0, 3, 1, 2, 9]
    );
    let e = npy::read_labels(&f("labels_bad.txt")).unwrap_err();
    assert!(
        matches!(&e, DataError::LabelParse { line: 3, text, .. } if text == "x"),
        "{e:?}"
    );
    let e = npy::read_labels(&f("labels_half.txt")).unwrap_err();
    assert!(matches!(&e, DataError::LabelParse { line: 2, .. }), "{e:?}");
    let e = npy::read_labels(&f("labels_negative.txt")).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::NegativeLabel {
                index: 2,
                value: -4,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn labels_text_blank_line_in_the_middle_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("y.txt");
    std::fs::write(&p, "1\n\n2\n").unwrap();
    let e = npy::read_labels(&p).unwrap_err();
    assert!(matches!(e, DataError::LabelParse { line: 2, .. }), "{e:?}");
    // Trailing blank lines are fine.
    std::fs::write(&p, "1\n2\n\n\n").unwrap();
    assert_eq!(npy::read_labels(&p).unwrap(), vec![1, 2]);
}

#[test]
fn labels_bad_values_dtypes_and_shapes() {
    let e = npy::read_labels(&f("labels_negative.npy")).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::NegativeLabel {
                index: 2,
                value: -1,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("index 2"), "{e}");
    for (name, dtype) in [("labels_float.npy", "<f4"), ("labels_bool.npy", "|b1")] {
        let e = npy::read_labels(&f(name)).unwrap_err();
        assert!(matches!(e, DataError::NpyDtype { .. }), "{name}: {e:?}");
        assert!(e.to_string().contains(dtype), "{e}");
    }
    let e = npy::read_labels(&f("labels_2d.npy")).unwrap_err();
    assert!(matches!(e, DataError::NpyShape { .. }), "{e:?}");
}

#[test]
fn labels_npy_detected_by_magic_without_extension() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("labels.bin");
    std::fs::copy(f("labels_u2.npy"), &p).unwrap();
    assert_eq!(npy::read_labels(&p).unwrap(), vec![0, 3, 1, 2, 9]);
}

#[test]
fn labels_written_as_int64() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("y.npy");
    npy::write_labels(&p, &[4, 0, 7]).unwrap();
    // Readable as int64 specifically (what numpy calls '<i8').
    let back = Array1::<i64>::read_npy(std::fs::File::open(&p).unwrap()).unwrap();
    assert_eq!(back, array![4i64, 0, 7]);
    assert_eq!(npy::read_labels(&p).unwrap(), vec![4, 0, 7]);
}
