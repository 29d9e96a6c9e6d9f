//! `--plot FILE.png`: the SVG chart of [`super::plot`] rasterised with resvg (pure Rust, no
//! C libraries). Text needs a font: the system's fonts are loaded once at the end of a run
//! (fontconfig directories such as /usr/share/fonts) and the generic `sans-serif` family is
//! mapped to a sans face that exists, preferring DejaVu Sans (Debian `fonts-dejavu-core`).

use resvg::{tiny_skia, usvg};

/// Families tried for `sans-serif`, in order, before any other "Sans" face.
const PREFERRED: [&str; 3] = ["DejaVu Sans", "Liberation Sans", "Noto Sans"];

/// A rendered chart.
pub struct Png {
    /// The PNG file's bytes.
    pub bytes: Vec<u8>,
    /// False when no font was found: the curves are drawn but the labels are not.
    pub has_text: bool,
}

/// Picks the face family used for `sans-serif`.
fn sans_family(db: &usvg::fontdb::Database) -> Option<String> {
    let families: Vec<String> = db.faces().filter_map(|f| f.families.first().map(|(n, _)| n.clone())).collect();
    PREFERRED
        .iter()
        .find(|p| families.iter().any(|f| f == *p))
        .map(|p| (*p).to_string())
        .or_else(|| families.iter().find(|f| f.contains("Sans") && !f.contains("Mono")).cloned())
        .or_else(|| families.first().cloned())
}

/// Renders `svg` (as produced by [`super::plot::svg`]) to PNG bytes.
pub fn render(svg: &str) -> Result<Png, String> {
    let mut opt = usvg::Options::default();
    opt.fontdb_mut().load_system_fonts();
    let family = sans_family(&opt.fontdb);
    let has_text = family.is_some();
    if let Some(f) = family {
        opt.fontdb_mut().set_sans_serif_family(f);
    }
    let tree = usvg::Tree::from_str(svg, &opt).map_err(|e| format!("plot SVG: {e}"))?;
    let size = tree.size().to_int_size();
    let mut pixmap =
        tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| "plot: empty image size".to_string())?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let bytes = pixmap.encode_png().map_err(|e| format!("plot PNG: {e}"))?;
    Ok(Png { bytes, has_text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::metrics::{Metric, Metrics};
    use std::time::Duration;

    /// Decodes the PNG back and counts pixels that are not white inside a rectangle.
    fn inked(png: &[u8], x0: u32, y0: u32, x1: u32, y1: u32) -> usize {
        let p = tiny_skia::Pixmap::decode_png(png).expect("our own PNG decodes");
        let mut n = 0;
        for y in y0..y1 {
            for x in x0..x1 {
                let c = p.pixel(x, y).expect("inside the image");
                n += usize::from(c.red() < 200 || c.green() < 200 || c.blue() < 200);
            }
        }
        n
    }

    #[test]
    fn png_has_the_svg_size_curves_and_a_title_when_a_font_exists() {
        let mut m = Metrics::new();
        for i in 1..2000u64 {
            m.record(Metric::InviteTo200, Duration::from_micros(300 + i * 3));
        }
        let png = render(&crate::load::plot::svg(&m, "ringload title")).unwrap();
        assert_eq!(&png.bytes[..8], b"\x89PNG\r\n\x1a\n");
        let p = tiny_skia::Pixmap::decode_png(&png.bytes).unwrap();
        assert_eq!((p.width(), p.height()), (900, 540));
        // The plot area (80..680 x 40..480) holds a curve and grid lines.
        assert!(inked(&png.bytes, 81, 41, 679, 479) > 500);
        // The title row (above the plot area) is blank unless text was drawn.
        let title_ink = inked(&png.bytes, 200, 8, 600, 30);
        assert_eq!(title_ink > 50, png.has_text, "title ink {title_ink}, fonts {}", png.has_text);
    }
}
