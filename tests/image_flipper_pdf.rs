//! The image flipper's PDFs (`examples/image_flipper/pdf.rs`) read back by a real PDF
//! renderer: `pdftoppm` (Debian's `poppler-utils`) turns one into pixels, which must be
//! the rotated picture's, within JPEG's loss.
//!
//! Needs `pdftoppm`: skipped with a notice without it, except when `CI=true`, where it
//! fails (`scripts/test-deps.sh` installs it).

#[path = "../examples/image_flipper/pdf.rs"]
mod pdf;
#[path = "../viz/tests/support/mod.rs"]
mod viz_support;

use std::process::Command;

use image::{imageops, Rgb, RgbImage};
use viz_support::{have, scratch_dir};

const WIDTH: u32 = 96;
const HEIGHT: u32 = 64;

/// A gradient with a red block in the top-left corner, as the example draws its
/// stations.
fn picture() -> RgbImage {
    RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        if x < 16 && y < 16 {
            Rgb([255, 0, 0])
        } else {
            Rgb([(x * 2) as u8, (y * 3) as u8, 120])
        }
    })
}

/// Mean absolute difference per channel of two pictures of the same size.
fn mean_difference(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

#[test]
fn a_flipped_pdf_renders_as_the_rotated_picture() {
    let available = Command::new("pdftoppm").arg("-v").output().is_ok();
    if !have("pdftoppm", available) {
        return;
    }
    let dir = scratch_dir("image_flipper_pdf");
    let source = picture();
    let rotated = imageops::rotate180(&source);
    let file = dir.join("flipped.pdf");
    std::fs::write(&file, pdf::picture_pdf(&rotated).unwrap()).unwrap();

    // 72 dpi: one pixel per point, the page's size is the picture's.
    let out = Command::new("pdftoppm")
        .args(["-r", "72", "-png", "-singlefile"])
        .arg(&file)
        .arg(dir.join("page"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pdftoppm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = image::open(dir.join("page.png")).unwrap().to_rgb8();
    assert_eq!(
        page.dimensions(),
        (WIDTH, HEIGHT),
        "the page is not the picture's size"
    );

    // JPEG at quality 90 moves each channel by a few levels on average.
    let against_rotated = mean_difference(&page, &rotated);
    assert!(
        against_rotated < 4.0,
        "the rendered page differs from the rotated picture by {against_rotated:.2} per channel"
    );
    // The check can fail: the unrotated picture is far from the page.
    let against_source = mean_difference(&page, &source);
    assert!(
        against_source > 4.0 * against_rotated.max(1.0),
        "the page is as close to the unrotated picture ({against_source:.2}) as to the rotated one"
    );
    // The red block sits in the bottom-right corner.
    let corner = page.get_pixel(WIDTH - 4, HEIGHT - 4);
    assert!(
        corner[0] > 200 && corner[1] < 60 && corner[2] < 60,
        "corner is {corner:?}"
    );
}

#[test]
fn the_embedded_jpeg_is_found_again() {
    let bytes = pdf::picture_pdf(&picture()).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let jpeg = pdf::embedded_jpeg(&bytes).expect("a JPEG stream");
    let back = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
        .unwrap()
        .to_rgb8();
    assert!(mean_difference(&back, &picture()) < 4.0);
}
