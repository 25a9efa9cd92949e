//! One picture as a one-page PDF, as the lecture's `Image.save("..._flipped.pdf")` writes
//! it. Shared by `examples/image_flipper.rs` and `tests/image_flipper_pdf.rs`, which reads
//! a PDF back through a real renderer.
//!
//! The page is the picture's size in points (1 pt per pixel), so a renderer at 72 dpi
//! gives back the picture's own pixels. The picture is stored as a JPEG (a PDF `DCTDecode`
//! stream, which every reader decodes), as PIL stores it.

use image::codecs::jpeg::JpegEncoder;
use image::{ImageError, RgbImage};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref};

/// JPEG quality of the embedded picture: high, so little is lost on top of the source
/// JPEG's own loss.
const QUALITY: u8 = 90;

/// The PDF bytes of one page showing `picture`.
pub fn picture_pdf(picture: &RgbImage) -> Result<Vec<u8>, ImageError> {
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, QUALITY).encode_image(picture)?;
    let (width, height) = picture.dimensions();
    let (w, h) = (width as f32, height as f32);

    let catalog = Ref::new(1);
    let pages = Ref::new(2);
    let page = Ref::new(3);
    let image = Ref::new(4);
    let content = Ref::new(5);
    let name = Name(b"Im1");

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    let mut page_writer = pdf.page(page);
    page_writer.media_box(Rect::new(0.0, 0.0, w, h));
    page_writer.parent(pages);
    page_writer.contents(content);
    page_writer.resources().x_objects().pair(name, image);
    page_writer.finish();

    let mut xobject = pdf.image_xobject(image, &jpeg);
    xobject.filter(Filter::DctDecode);
    xobject.width(width as i32);
    xobject.height(height as i32);
    xobject.color_space().device_rgb();
    xobject.bits_per_component(8);
    xobject.finish();

    // An image XObject fills the unit square: scale it to the page.
    let mut draw = Content::new();
    draw.save_state();
    draw.transform([w, 0.0, 0.0, h, 0.0, 0.0]);
    draw.x_object(name);
    draw.restore_state();
    pdf.stream(content, &draw.finish());
    Ok(pdf.finish())
}

/// The JPEG stream embedded by [`picture_pdf`] (from its start-of-image marker to its
/// end-of-image marker), for a check that needs no PDF renderer.
pub fn embedded_jpeg(pdf: &[u8]) -> Option<&[u8]> {
    let start = pdf.windows(3).position(|w| w == [0xFF, 0xD8, 0xFF])?;
    let end = pdf.windows(2).rposition(|w| w == [0xFF, 0xD9])?;
    (end > start).then(|| &pdf[start..end + 2])
}
