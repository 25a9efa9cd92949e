//! The lecture's image flipper: ten small JPEGs named after London stations are written
//! to a `data/` folder, then each is rotated by 180 degrees and saved as
//! `<name>_flipped.pdf` (a one-page PDF, as the lecture saves it), in parallel with
//! [`dask::Parallel`]. Then the same flips go through [`dask::Memory`]: the first pass
//! computes and stores each result on disk, the second is served entirely from the cache
//! (the example fails if it is not).
//!
//! Everything stays in the output folder (`target/image_flipper/` unless given) so that
//! the flipped PDFs can be looked at; a run starts by clearing its `data/` and `cache/`.
//!
//! ```text
//! cargo run --release --example image_flipper [-- OUTPUT_DIR]
//! ```

use std::path::{Path, PathBuf};

use dask::{delayed, Delayed, Memory, Parallel};
use image::{ImageError, ImageFormat, Rgb, RgbImage};

#[path = "image_flipper/pdf.rs"]
mod pdf;

const STATIONS: [&str; 10] = [
    "Paddington",
    "Kings_Cross",
    "St_Pancras",
    "Euston",
    "Waterloo",
    "Victoria",
    "Liverpool_Street",
    "London_Bridge",
    "Marylebone",
    "Charing_Cross",
];

const WIDTH: u32 = 96;
const HEIGHT: u32 = 64;

/// A gradient with a red block in the top-left corner, so a rotation is easy to check.
fn station_image(seed: u32) -> RgbImage {
    RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        if x < 16 && y < 16 {
            Rgb([255, 0, 0])
        } else {
            Rgb([(x * 2) as u8, (y * 3) as u8, (seed * 25) as u8])
        }
    })
}

fn write_images(data: &Path) -> Result<Vec<PathBuf>, ImageError> {
    std::fs::create_dir_all(data)?;
    STATIONS
        .iter()
        .zip(0..)
        .map(|(name, seed)| {
            let path = data.join(format!("{name}.jpg"));
            station_image(seed).save(&path)?;
            Ok(path)
        })
        .collect()
}

/// `<name>_flipped.pdf` beside `<name>.jpg`.
fn flipped_path(path: &Path) -> PathBuf {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!("{stem}_flipped.pdf"))
}

/// JPEG bytes in, the rotated picture as PDF bytes out.
fn flip_jpeg(jpeg: &[u8]) -> Result<Vec<u8>, ImageError> {
    let flipped = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)?
        .rotate180()
        .to_rgb8();
    pdf::picture_pdf(&flipped)
}

/// Reads one JPEG, rotates it and writes `<name>_flipped.pdf` next to it; returns the
/// new file's path.
fn flip(path: &Path) -> Result<PathBuf, ImageError> {
    let out = flipped_path(path);
    std::fs::write(&out, flip_jpeg(&std::fs::read(path)?)?)?;
    Ok(out)
}

/// The cached flip: JPEG bytes in, PDF bytes out. Pure, so its key (and its cache
/// entry) follows the image's content, not its file name.
#[delayed(pure)]
fn flip_bytes(jpeg: Vec<u8>) -> Result<Vec<u8>, ImageError> {
    flip_jpeg(&jpeg)
}

/// One pass of cached flips over every image; returns (computed, from the cache).
fn cached_pass(
    memory: &Memory,
    images: &[PathBuf],
) -> Result<(u64, u64), Box<dyn std::error::Error>> {
    let before = memory.stats();
    let flips = images
        .iter()
        .map(|path| Ok(memory.cache(&flip_bytes(std::fs::read(path)?))?))
        .collect::<Result<Vec<Delayed<Vec<u8>>>, Box<dyn std::error::Error>>>()?;
    let pdfs = dask::compute(&flips)?;
    for (path, pdf) in images.iter().zip(&pdfs) {
        let out = flipped_path(path);
        std::fs::write(&out, pdf)?;
        check_flipped(&out)?;
    }
    let after = memory.stats();
    Ok((after.misses - before.misses, after.hits - before.hits))
}

/// The PDF's picture must have its red block in the bottom-right corner now. This reads
/// the JPEG inside the PDF; `tests/image_flipper_pdf.rs` checks that a PDF renderer
/// shows the same.
fn check_flipped(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path)?;
    if !bytes.starts_with(b"%PDF-") {
        return Err(format!("{} is not a PDF", path.display()).into());
    }
    let jpeg = pdf::embedded_jpeg(&bytes)
        .ok_or_else(|| format!("{} holds no JPEG picture", path.display()))?;
    let img = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)?.to_rgb8();
    if img.dimensions() != (WIDTH, HEIGHT) {
        return Err(format!("{} has the wrong size", path.display()).into());
    }
    let corner = img.get_pixel(WIDTH - 4, HEIGHT - 4);
    let opposite = img.get_pixel(4, 4);
    // JPEG is lossy: near red, not exactly.
    if corner[0] < 200 || corner[1] > 60 || opposite[0] > 200 && opposite[1] < 60 {
        return Err(format!("{} is not rotated by 180 degrees", path.display()).into());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/image_flipper".into()),
    );
    let (data, cache) = (root.join("data"), root.join("cache"));
    // A fresh start, so that the first cached pass computes; only our own folders go.
    for dir in [&data, &cache] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
    }
    let images = write_images(&data)?;
    println!("wrote {} images to {}", images.len(), data.display());

    let flipped = Parallel::new(2)
        .verbose(true)
        .try_map(&images, |path| flip(path))?;
    for path in &flipped {
        println!("{}", path.file_name().unwrap_or_default().to_string_lossy());
        check_flipped(path)?;
    }

    let memory = Memory::new(&cache)?;
    for pass in ["first", "second"] {
        let (computed, cached) = cached_pass(&memory, &images)?;
        println!("{pass} pass with Memory: {computed} computed, {cached} served from the cache");
        if pass == "second" && (computed, cached) != (0, images.len() as u64) {
            return Err("the second pass was not served entirely from the cache".into());
        }
    }
    println!("cache: {:?}", memory.size()?);
    println!("the flipped PDFs are in {}", data.display());
    Ok(())
}
