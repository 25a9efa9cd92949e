//! The lecture's image flipper: ten small JPEGs named after London stations are written
//! to a temporary `data/` folder, then each is rotated by 180 degrees and saved as
//! `<name>_flipped.png`, in parallel with [`dask::Parallel`]. Then the same flips go
//! through [`dask::Memory`]: the first pass computes and stores each result on disk, the
//! second is served entirely from the cache (the example fails if it is not).
//!
//! ```text
//! cargo run --release --example image_flipper
//! ```

use std::io::Cursor;
use std::path::{Path, PathBuf};

use dask::{delayed, Delayed, Memory, Parallel};
use image::{ImageError, ImageFormat, Rgb, RgbImage};

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

/// Reads one JPEG, rotates it and writes `<name>_flipped.png` next to it; returns the
/// new file's name.
fn flip(path: &Path) -> Result<String, ImageError> {
    let flipped = image::open(path)?.rotate180();
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = format!("{stem}_flipped.png");
    flipped.save(path.with_file_name(&name))?;
    Ok(name)
}

/// The cached flip: JPEG bytes in, PNG bytes out. Pure, so its key (and its cache
/// entry) follows the image's content, not its file name.
#[delayed(pure)]
fn flip_bytes(jpeg: Vec<u8>) -> Result<Vec<u8>, ImageError> {
    let flipped = image::load_from_memory_with_format(&jpeg, ImageFormat::Jpeg)?.rotate180();
    let mut png = Vec::new();
    flipped.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)?;
    Ok(png)
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
    let pngs = dask::compute(&flips)?;
    for (path, png) in images.iter().zip(&pngs) {
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        let out = path.with_file_name(format!("{stem}_flipped.png"));
        std::fs::write(&out, png)?;
        check_flipped(&out)?;
    }
    let after = memory.stats();
    Ok((after.misses - before.misses, after.hits - before.hits))
}

/// The red block must now sit in the bottom-right corner.
fn check_flipped(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let img = image::open(path)?.to_rgb8();
    let corner = img.get_pixel(WIDTH - 4, HEIGHT - 4);
    let opposite = img.get_pixel(4, 4);
    // JPEG is lossy: near red, not exactly.
    if corner[0] < 200 || corner[1] > 60 || opposite[0] > 200 && opposite[1] < 60 {
        return Err(format!("{} is not rotated by 180 degrees", path.display()).into());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::temp_dir().join(format!("dask-image-flipper-{}", std::process::id()));
    let data = root.join("data");
    let images = write_images(&data)?;
    println!("wrote {} images to {}", images.len(), data.display());

    let names = Parallel::new(2)
        .verbose(true)
        .try_map(&images, |path| flip(path))?;
    for name in &names {
        println!("{name}");
        check_flipped(&data.join(name))?;
    }

    let memory = Memory::new(root.join("cache"))?;
    for pass in ["first", "second"] {
        let (computed, cached) = cached_pass(&memory, &images)?;
        println!("{pass} pass with Memory: {computed} computed, {cached} served from the cache");
        if pass == "second" && (computed, cached) != (0, images.len() as u64) {
            return Err("the second pass was not served entirely from the cache".into());
        }
    }
    println!("cache: {:?}", memory.size()?);

    std::fs::remove_dir_all(&root)?;
    Ok(())
}
