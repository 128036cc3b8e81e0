"""Exports for the council: print-ready map snapshots, offline HTML maps, GeoPackages, tables and the
diagnostic report, each made for an audience (restreint or plénier/public) and recorded in the audit log
with the SHA-256 of the file written."""
