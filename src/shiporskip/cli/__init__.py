"""The `shiporskip` command line: parses, calls the package, formats."""
