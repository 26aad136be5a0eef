//! The `gdal` feature: formats only OGR reads, CRSs through PROJ, and GDAL
//! opening a GeoPackage in the same process as the bundled SQLite store.
#![cfg(feature = "gdal")]

use crate::common;

use common::{fixture, ingest_fixture, metres, store};
use geo::{Area, CoordsIter};

#[test]
fn kml_and_gml_ingest_through_ogr() {
    let (_dir, store) = store();
    let kml = ingest_fixture(&store, "ct_060.kml", "kml");
    assert_eq!((kml.format, kml.stored), ("GDAL", 22));
    let gml = ingest_fixture(&store, "ct_060_2234.gml", "gml");
    assert_eq!((gml.format, gml.stored), ("GDAL", 22));
    assert_eq!(gml.crs, "EPSG:2234");
    // Both land where the native GeoJSON reader puts the same ZIPs.
    ingest_fixture(&store, "ct_060.geojson", "native");
    for dataset in ["kml", "gml"] {
        let a = store.unit(dataset, "06001").unwrap();
        let b = store.unit("native", "06001").unwrap();
        assert!(
            (a.geometry.unsigned_area() - b.geometry.unsigned_area()).abs() / b.geometry.unsigned_area()
                < 1e-6
        );
        let first = b.geometry.coords_iter().next().unwrap();
        let nearest = a
            .geometry
            .coords_iter()
            .map(|c| metres((c.x, c.y), (first.x, first.y)))
            .fold(f64::INFINITY, f64::min);
        assert!(nearest < 1.0, "{dataset}: {nearest} m");
        assert_eq!(
            a.properties.metrics.get("population"),
            Some(&19119.0),
            "{dataset}"
        );
    }
}

#[test]
fn gdal_reads_a_geopackage_beside_the_bundled_sqlite() {
    let (_dir, store) = store();
    ingest_fixture(&store, "ct_060.geojson", "warm"); // the store's SQLite is in use
    let layer =
        geoalign::ingest::readers::gdal::read(&fixture("ct_060.gpkg"), None, None).expect("GDAL reads gpkg");
    assert_eq!(layer.features.len(), 22);
    assert_eq!(layer.reprojected_from.as_deref(), Some("EPSG:4326"));
    assert_eq!(store.dataset("warm").unwrap().polygon_units, 22);
}
