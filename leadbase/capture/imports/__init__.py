"""CSV/XLSX import: read a file (reading), map its columns to lead fields (mapping), forecast
what it would do (dryrun), then import it in the background (services, tasks).

See docs/capture-import.md.
"""
